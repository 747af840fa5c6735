"""Helpers for tests that touch the database: cleaning, accounts, logging in."""

from __future__ import annotations

from typing import Any

from piccolo.engine import engine_finder

from marketplace.settings import get_settings
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
    name = username or f"{role}-user"
    account_id = await create_account(username=name, password_hash=_hash(hash_password), role=role, lks_id=lks_id,
                                      kelurahan_code=kelurahan_code, full_name=role, office_code=office_code)
    TOTP_SECRETS.pop(name, None)
    if role in get_settings().mfa_required_roles:
        await enrol_totp(account_id, name)
    return account_id


TOTP_SECRETS: dict[str, str] = {}
"""The TOTP secret of each account a test enrolled, by user name (what the user's phone would know)."""


async def enrol_totp(account_id: int, username: str) -> str:
    """Gives the account a second factor, as a confirmed enrolment would (without recovery codes, which
    the tests that need them make through the real pages)."""
    import pyotp

    from storage.logins import second_factor
    from storage.tables import Notification

    secret = pyotp.random_base32()
    await second_factor.enrol("test", account_id, secret, second_factor.now_step() - 2, recovery_codes=0)
    # the set-up's enrolment is no news to the test (tests that count notifications count their own)
    await Notification.delete().where(Notification.account == account_id)
    TOTP_SECRETS[username] = secret
    return secret


async def current_code(username: str) -> str:
    """The code the account's phone shows now. Several log-ins of one account inside 30 s (two devices,
    log out and in again) would reuse this step's code, which the portal rightly refuses as a replay:
    the helper then moves the account's last used step back, standing for a log-in 30 s later."""
    import pyotp

    from storage.logins import second_factor
    from storage.tables import Account, AccountTotp

    step = second_factor.now_step()
    account = await Account.select(Account.id).where(Account.username == username).first()
    assert account is not None, username
    await AccountTotp.update({AccountTotp.last_step: step - 2}).where(
        (AccountTotp.account == account["id"]) & (AccountTotp.last_step >= step))
    return pyotp.TOTP(TOTP_SECRETS[username]).generate_otp(step)


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
    """Log in through the real form, CSRF token included; an account with a second factor answers the
    second step with its phone's current code (``TOTP_SECRETS``)."""
    await client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    response = await client.post("/masuk", data={"username": username, "password": password,
                                                 "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 302, response.text
    if response.headers["location"] == "/masuk/faktor-kedua/daftar":
        await _enrol_through_the_page(client, username, token)
        return
    if response.headers["location"] == "/masuk/faktor-kedua":
        assert username in TOTP_SECRETS, f"{username} has a second factor this test did not enrol"
        response = await client.post("/masuk/faktor-kedua", data={"code": await current_code(username),
                                                                  "_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 302, response.text
    assert not response.headers["location"].startswith("/masuk"), response.headers["location"]


def live_login(client: Any, username: str, password: str = PASSWORD) -> None:
    """``login`` for a live ``jitu serve`` through a synchronous ``httpx.Client``: the code step is
    answered with the current code (one live log-in per account per 30 s: no step is rewound here)."""
    import pyotp

    from storage.logins import second_factor

    client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    response = client.post("/masuk", data={"username": username, "password": password, "_csrf_token": token})
    assert response.status_code == 302, response.text
    if response.headers["location"] == "/masuk/faktor-kedua":
        code = pyotp.TOTP(TOTP_SECRETS[username]).generate_otp(second_factor.now_step())
        response = client.post("/masuk/faktor-kedua", data={"code": code, "_csrf_token": token})
        assert response.status_code == 302, response.text
    assert not response.headers["location"].startswith("/masuk"), response.headers["location"]


async def _enrol_through_the_page(client: Any, username: str, token: str) -> None:
    """A required-role account without a second factor (made outside ``make_account``, or whose role
    changed) enrols as its user would: read the key off the page, confirm with the app's code."""
    import re

    import pyotp

    from storage.logins import second_factor

    page = await client.get("/masuk/faktor-kedua/daftar")
    assert page.status_code == 200, page.text
    found = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert found, "no key on the enrolment page"
    TOTP_SECRETS[username] = found.group(1)
    code = pyotp.TOTP(found.group(1)).generate_otp(second_factor.now_step())
    response = await client.post("/masuk/faktor-kedua/daftar", data={"code": code, "_csrf_token": token},
                                 follow_redirects=False)
    assert response.status_code == 200 and "recovery-codes" in response.text, response.text
    assert (await client.get("/beranda")).status_code == 200


def csrf(client: Any) -> str:
    token = client.cookies.get("jitu_csrf")
    assert token, "no CSRF cookie yet: GET a page first"
    return str(token)
