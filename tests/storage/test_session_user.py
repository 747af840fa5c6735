"""``storage.logins.session_user``: the account of a live session with its LKS rights, in one statement;
the same user ``load_user`` gives, and nobody once the session row or the account is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketplace.lks_team import ALL_RIGHTS
from storage import logins
from storage.accounts import load_user
from storage.tables import Account, AccountSession
from tests.dbutil import make_account


async def test_the_user_of_a_live_session_is_the_loaded_user(db: None) -> None:
    for role in ("lks_staff", "dinsos_admin", "operator_kelurahan", "office_staff"):
        account = await make_account(role, f"u-{role}")
        sid = await logins.open_session(account, "127.0.0.1", "uji")
        user = await logins.session_user(account, sid)
        assert user is not None and user == await load_user(account)
        assert user.lks_rights == (ALL_RIGHTS if role == "lks_staff" else frozenset())


async def test_nobody_without_the_session_row_or_an_active_account(db: None) -> None:
    account = await make_account("pekerja_sosial", "peksos")
    other = await make_account("pekerja_sosial", "peksos2")
    sid = await logins.open_session(account, "127.0.0.1", "uji")
    assert await logins.session_user(other, sid) is None  # another account's session
    assert await logins.session_user(account, "no-such-session") is None
    await Account.update({Account.active: False}).where(Account.id == account)
    assert await logins.session_user(account, sid) is None
    await Account.update({Account.active: True}).where(Account.id == account)
    await AccountSession.delete().where(AccountSession.sid == sid)  # ended from the sessions page
    assert await logins.session_user(account, sid) is None


async def test_last_seen_is_refreshed_at_most_once_a_minute(db: None) -> None:
    account = await make_account("pekerja_sosial", "peksos")
    sid = await logins.open_session(account, "127.0.0.1", "uji")
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    await AccountSession.update({AccountSession.last_seen_at: long_ago}).where(AccountSession.sid == sid)
    assert await logins.session_user(account, sid) is not None
    seen = (await AccountSession.select(AccountSession.last_seen_at).where(AccountSession.sid == sid).first())
    first = logins._aware(seen["last_seen_at"])
    assert first is not None and first > long_ago + timedelta(minutes=4)
    assert await logins.session_user(account, sid) is not None
    again = (await AccountSession.select(AccountSession.last_seen_at).where(AccountSession.sid == sid).first())
    assert logins._aware(again["last_seen_at"]) == first  # within the minute: not written again
