"""Server-side session store in the database, so that several app processes can serve one user."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

from storage.engine import database_unavailable
from storage.tables import WebSession

log = logging.getLogger("jitu.sessions")


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
            renewed = datetime.now(UTC) + timedelta(seconds=seconds)
            # at most one write a minute per session: a page view is otherwise read-only
            if renewed - _aware(row["expires_at"]) > RENEW_STEP:
                await WebSession.update({WebSession.expires_at: renewed}).where(WebSession.key == key)
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


ROTATE = "jitu_rotate_session"
_NEW_ID = "jitu_new_session_id"
_LOADED = "jitu_session_loaded"
RENEW_STEP = timedelta(seconds=60)
"""How far a session's expiry may lag behind its last use (renewal is written at most this often)."""


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions that never adopt an id the server did not issue (session fixation, ASVS
    3.2.1), and that move to a fresh id when asked (``rotate_session``: at log-in, at the second factor).

    Litestar's backend keeps whatever id the cookie carries and stores data under it, so an id planted
    in a victim's browser before log-in would stay valid after it. Here an id unknown to the store is
    replaced, and on rotation the old id's data is deleted.
    """

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if session_id and session_id != "null":
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                connection.scope.setdefault("state", {})[_LOADED] = data
                return self.deserialize_data(data)
            connection.scope.setdefault("state", {})[ROTATE] = True  # an id we never issued (or expired)
        return {}

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(ROTATE):
            if not state.get(_NEW_ID):
                state[_NEW_ID] = self.generate_session_id()
            return str(state[_NEW_ID])
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: Any, message: Any,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        state = connection.scope.setdefault("state", {})
        old = connection.cookies.get(self.config.key)
        try:
            if (not state.get(ROTATE) and scope_session is not Empty and state.get(_LOADED) is not None
                    and self.serialize_data(scope_session, connection.scope) == state[_LOADED]):
                # unchanged (most page views): the cookie as Litestar would send it, no write to the store
                # (reading it has renewed its expiry)
                params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
                MutableScopeHeaders.from_message(message).add("Set-Cookie", Cookie(
                    value=self.get_session_id(connection), key=self.config.key, **params).to_header(header=""))
                return
            if state.get(ROTATE) and old and old != "null":
                await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
            await super().store_in_message(scope_session, message, connection)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # The database went away after the handler answered (its own work is committed or rolled back
            # already): the response goes out without the session change instead of a bare 500. Failing
            # safe: a session that was not stored is not adopted later (an unknown id is replaced), and
            # log-out has already ended the session in the account's session registry.
            log.warning("session not stored, database unavailable: %r", exc)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


def rotate_session(request: Any) -> None:
    """The response to this request carries a new session id; the old one stops working."""
    request.scope.setdefault("state", {})[ROTATE] = True
