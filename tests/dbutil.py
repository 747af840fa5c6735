"""Helpers for tests that touch the database: cleaning, accounts, logging in."""

from __future__ import annotations

from typing import Any

from piccolo.engine import engine_finder

from storage.tables import ALL_TABLES, GovernmentProgram, Office, Region

KEEP = {Region._meta.tablename, GovernmentProgram._meta.tablename, Office._meta.tablename}
PASSWORD = "kata-sandi-uji-123"


async def clean_database() -> None:
    await _reset_offices()
    engine = engine_finder()
    assert engine is not None
    names = [t._meta.tablename for t in ALL_TABLES if t._meta.tablename not in KEEP]
    if engine.engine_type == "postgres":
        # DELETE only the tables a test wrote to, with triggers and foreign-key checks off for this one
        # transaction: a TRUNCATE of every table before every test was most of a PostgreSQL run's overhead.
        probe = " UNION ALL ".join(f"SELECT '{n}' AS t WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
        async with engine.transaction():
            used = [r["t"] for r in await ALL_TABLES[0].raw(probe)]
            await ALL_TABLES[0].raw("SET LOCAL session_replication_role = replica")
            for name in used:
                await ALL_TABLES[0].raw(f'DELETE FROM "{name}"')
            await ALL_TABLES[0].raw(await _restart_sequences(names))
        return
    table = ALL_TABLES[0]
    await table.raw("DROP TRIGGER IF EXISTS audit_event_no_delete")
    for name in reversed(names):
        await table.raw(f'DELETE FROM "{name}"')
    await table.raw("DELETE FROM sqlite_sequence") if await _has_sequence() else None
    await table.raw(
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    )


_RESTART: list[str] = []


async def _restart_sequences(names: list[str]) -> str:
    """One statement that starts every sequence of the cleaned tables at 1 again (as RESTART IDENTITY
    would), including those of tables a rolled-back test advanced but left empty."""
    if not _RESTART:
        rows = await ALL_TABLES[0].raw(
            "SELECT s.relname AS seq FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY({})", names)
        _RESTART.append("SELECT " + (", ".join(f"setval('\"{r['seq']}\"', 1, false)" for r in rows) or "1"))
    return _RESTART[0]


async def _reset_offices() -> None:
    """Offices are reference data: kept, but with their seeded service levels back."""
    from marketplace.referrals import OFFICES

    engine = engine_finder()
    assert engine is not None
    async with engine.transaction():  # one connection for all of them
        for o in OFFICES:
            await Office.update({Office.service_days: o.service_days, Office.active: True}).where(
                Office.code == o.code)


async def _has_sequence() -> bool:
    rows = await ALL_TABLES[0].raw("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
    return bool(rows)


async def make_account(role: str, username: str | None = None, *, lks_id: int | None = None,
                       kelurahan_code: str | None = None, office_code: str | None = None) -> int:
    from portal.auth import hash_password
    from storage.accounts import create_account

    if role == "operator_kelurahan" and kelurahan_code is None:
        kelurahan_code = "32.73.03.1001"
    if role == "lks_staff" and lks_id is None:
        lks_id = await make_lks()
    if role == "office_staff" and office_code is None:
        office_code = "kesehatan"
    return await create_account(username=username or f"{role}-user", password_hash=_hash(hash_password),
                                role=role, lks_id=lks_id, kelurahan_code=kelurahan_code, full_name=role,
                                office_code=office_code)


_HASHED: dict[str, str] = {}


def _hash(hash_password: Any) -> str:
    if PASSWORD not in _HASHED:
        _HASHED[PASSWORD] = hash_password(PASSWORD)
    return _HASHED[PASSWORD]


async def make_lks(name: str = "Yayasan Uji", status: str = "verified") -> int:
    from storage.tables import Lks

    rows = await Lks.insert(Lks(name=name, legal_type="yayasan", status=status,
                                kecamatan_code="32.73.03")).returning(Lks.id)
    return int(rows[0]["id"])


async def login(client: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form, CSRF token included."""
    await client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    response = await client.post("/masuk", data={"username": username, "password": password,
                                                 "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 302, response.text


def csrf(client: Any) -> str:
    token = client.cookies.get("jitu_csrf")
    assert token, "no CSRF cookie yet: GET a page first"
    return str(token)
