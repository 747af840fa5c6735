"""Server-side session store in the database, so that several app processes can serve one user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store

from storage.tables import WebSession


class DatabaseSessionStore(Store):
    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.decode() if isinstance(value, bytes) else value
        expires_at = None
        if expires_in is not None:
            seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
            expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
        existing = await WebSession.exists().where(WebSession.key == key)
        if existing:
            await WebSession.update({WebSession.value: data, WebSession.expires_at: expires_at}).where(
                WebSession.key == key
            )
        else:
            await WebSession.insert(WebSession(key=key, value=data, expires_at=expires_at))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await WebSession.select(WebSession.value, WebSession.expires_at).where(WebSession.key == key).first()
        if row is None:
            return None
        if _expired(row["expires_at"]):
            await self.delete(key)
            return None
        if renew_for is not None and row["expires_at"] is not None:
            seconds = renew_for.total_seconds() if isinstance(renew_for, timedelta) else renew_for
            await WebSession.update(
                {WebSession.expires_at: datetime.now(UTC) + timedelta(seconds=seconds)}
            ).where(WebSession.key == key)
        return str(row["value"]).encode()

    async def delete(self, key: str) -> None:
        await WebSession.delete().where(WebSession.key == key)

    async def delete_all(self) -> None:
        await WebSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await WebSession.select(WebSession.expires_at).where(WebSession.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return int((_aware(row["expires_at"]) - datetime.now(UTC)).total_seconds())

    async def delete_expired(self) -> None:
        await WebSession.delete().where(WebSession.expires_at < datetime.now(UTC))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _expired(at: datetime | None) -> bool:
    return at is not None and _aware(at) <= datetime.now(UTC)
