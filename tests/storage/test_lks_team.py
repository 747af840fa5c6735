"""The LKS team in the database: invitations (hashed, single use, expiring), acceptance, rights,
deactivation ending sessions, isolation between LKS, every change audited, and the migration of the
accounts that existed before teams (issue 14 item 2)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.lks_team import ADMIN, ALL_RIGHTS, API_RIGHTS, DELIVERIES, LEDGER, OFFERS, WORK_RIGHTS, TeamError
from storage import logins
from storage.accounts import CurrentUser, load_user
from storage.api.tokens import create_token
from storage.lks_team import team
from storage.lks_team.rights import rights_of
from storage.tables import Account, AccountSession, AuditEvent, LksInvite, LksMember
from tests.dbutil import make_account, make_lks

HASH = "$argon2id$v=19$m=65536,t=3,p=4$dGVzdHNhbHQ$dGVzdGhhc2g"  # never verified here


async def _admin(lks_id: int, username: str = "boss") -> CurrentUser:
    account_id = await make_account("lks_staff", username, lks_id=lks_id)
    user = await load_user(account_id)
    assert user is not None
    return user


async def _actions(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id).output(load_json=True)


async def test_the_first_account_of_an_lks_is_its_admin_and_later_ones_get_the_working_rights(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    assert boss.lks_rights == ALL_RIGHTS
    second = await make_account("lks_staff", "kedua", lks_id=lks_id)
    assert await rights_of(second) == WORK_RIGHTS
    created = (await _actions("account.create"))[-1]
    assert created["after"]["lks_rights"] == sorted(WORK_RIGHTS)


async def test_an_api_tokens_account_only_records_deliveries_and_is_not_in_the_team(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    dinsos = await load_user(await make_account("dinsos_admin", "dinsos"))
    assert dinsos is not None
    await create_token(dinsos, "Aplikasi lapangan", lks_id=lks_id)
    service = await Account.select(Account.id).where(Account.username.like("api-%")).first()
    assert await rights_of(service["id"]) == API_RIGHTS
    rows, total = await team.team_of(boss)
    assert total == 1 and [r["username"] for r in rows] == ["boss"]
    with pytest.raises(team.TeamNotFound):
        await team.set_active(boss, service["id"], False)


async def test_invite_is_stored_hashed_and_accepted_once_with_its_rights(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    invite_id, token = await team.create_invite(boss, "relawan@contoh.id", "Relawan", frozenset({DELIVERIES}))
    row = await LksInvite.select().where(LksInvite.id == invite_id).first()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and len(token) >= 40
    assert row["expires_at"] > datetime.now(UTC) + timedelta(days=2)
    found = await team.open_invite(token)
    assert found["lks"] == lks_id and found["rights"] == {DELIVERIES}

    account_id = await team.accept_invite(token, "Siti Relawan", "siti", HASH)
    account = await Account.select().where(Account.id == account_id).first()
    assert (account["role"], account["lks"], account["email"], account["full_name"]) == (
        "lks_staff", lks_id, "relawan@contoh.id", "Siti Relawan")
    assert await rights_of(account_id) == {DELIVERIES}
    used = await LksInvite.select().where(LksInvite.id == invite_id).first()
    assert used["used_at"] is not None and used["used_by"] == account_id

    with pytest.raises(team.InviteInvalid, match="sudah dipakai"):
        await team.open_invite(token)
    with pytest.raises(team.InviteInvalid, match="sudah dipakai"):
        await team.accept_invite(token, "Orang Lain", "orang-lain", HASH)
    assert not await Account.exists().where(Account.username == "orang-lain")
    assert [e["entity_id"] for e in await _actions("lks_team.invite")] == [str(invite_id)]
    accepted = await _actions("lks_team.invite_accept")
    assert len(accepted) == 1 and accepted[0]["after"]["account"] == account_id


@pytest.mark.postgres
async def test_two_acceptances_at_the_same_moment_make_one_account(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    _, token = await team.create_invite(boss, "", "", frozenset({DELIVERIES}))
    results = await asyncio.gather(team.accept_invite(token, "A", "orang-a", HASH),
                                   team.accept_invite(token, "B", "orang-b", HASH), return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, team.InviteInvalid) for r in results) == 1
    assert await Account.count().where(Account.username.is_in(["orang-a", "orang-b"])) == 1


async def test_an_expired_or_revoked_invite_cannot_be_used(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    old_id, old = await team.create_invite(boss, "", "", frozenset({OFFERS}))
    await LksInvite.update({LksInvite.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        LksInvite.id == old_id)
    with pytest.raises(team.InviteInvalid, match="kedaluwarsa"):
        await team.accept_invite(old, "Terlambat", "terlambat", HASH)
    revoked_id, revoked = await team.create_invite(boss, "", "", frozenset({OFFERS}))
    await team.revoke_invite(boss, revoked_id)
    with pytest.raises(team.InviteInvalid, match="dibatalkan"):
        await team.accept_invite(revoked, "Batal", "batal", HASH)
    with pytest.raises(TeamError, match="tidak berlaku"):
        await team.revoke_invite(boss, old_id)
    with pytest.raises(team.InviteInvalid, match="tidak dikenal"):
        await team.open_invite("x" * 43)
    assert not await Account.exists().where(Account.username.is_in(["terlambat", "batal"]))
    assert [e["entity_id"] for e in await _actions("lks_team.invite_revoke")] == [str(revoked_id)]
    assert {i["id"]: i["state"] for i in await team.invites_of(boss)} == {old_id: "expired", revoked_id: "revoked"}


@pytest.mark.parametrize("change", ["deactivated", "lost_admin"])
async def test_an_invite_lapses_when_its_admin_is_deactivated_or_loses_the_admin_right(db, change):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    other = await _admin(lks_id, "boss2")
    await LksMember.update({LksMember.admin: True}).where(LksMember.account == other.id)
    invite_id, token = await team.create_invite(boss, "", "", frozenset({DELIVERIES}))
    kept_id, kept = await team.create_invite(other, "", "", frozenset({OFFERS}))
    if change == "deactivated":
        await team.set_active(other, boss.id, False)
    else:
        await team.set_rights(other, boss.id, frozenset({DELIVERIES}))
    with pytest.raises(team.InviteInvalid, match="admin LKS yang mengundang Anda sudah dinonaktifkan"):
        await team.open_invite(token)
    with pytest.raises(team.InviteInvalid, match="tidak lagi menjadi admin"):
        await team.accept_invite(token, "Telat", "telat", HASH)
    assert not await Account.exists().where(Account.username == "telat")
    states = {i["id"]: i["state"] for i in await team.invites_of(other)}
    assert states == {invite_id: "lapsed", kept_id: "open"}
    assert await team.accept_invite(kept, "Tetap", "tetap", HASH)  # the other admin's invitation holds
    revoked = await _actions("lks_team.invite_revoke")
    assert [(e["entity_id"], e["after"]["inviter"]) for e in revoked] == [(str(invite_id), boss.id)]

    # back as an admin later: the links handed out before do not come back to life
    if change == "deactivated":
        await team.set_active(other, boss.id, True)
    else:
        await team.set_rights(other, boss.id, ALL_RIGHTS)
    with pytest.raises(team.InviteInvalid, match="dibatalkan"):
        await team.accept_invite(token, "Telat", "telat", HASH)


async def test_an_invite_opened_before_its_admin_was_deactivated_cannot_be_accepted(db):
    """The inviter is checked again in the transaction that claims the invitation, whatever path
    deactivated them (here the database directly, with no team change to revoke anything)."""
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    _, token = await team.create_invite(boss, "", "", frozenset({DELIVERIES}))
    assert await team.open_invite(token)
    await Account.update({Account.active: False}).where(Account.id == boss.id)
    with pytest.raises(team.InviteInvalid, match="tidak berlaku lagi"):
        await team.accept_invite(token, "Telat", "telat", HASH)
    assert not await Account.exists().where(Account.username == "telat")
    assert (await LksInvite.select(LksInvite.used_at).first())["used_at"] is None  # the claim was undone
    await Account.update({Account.active: True}).where(Account.id == boss.id)
    assert await team.accept_invite(token, "Tepat", "tepat", HASH)


async def test_a_taken_username_leaves_the_invite_open(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    _, token = await team.create_invite(boss, "", "", frozenset({DELIVERIES}))
    with pytest.raises(TeamError, match=r"sudah dipakai\. Pilih nama pengguna lain"):
        await team.accept_invite(token, "Kembar", "boss", HASH)
    assert (await team.open_invite(token))["rights"] == {DELIVERIES}


async def test_rights_change_and_deactivation_end_sessions_and_are_audited(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    staff_id = await make_account("lks_staff", "staf", lks_id=lks_id)
    await team.set_rights(boss, staff_id, frozenset({LEDGER}))
    assert (await load_user(staff_id)).lks_rights == {LEDGER}  # type: ignore[union-attr]
    event = (await _actions("lks_team.rights"))[-1]
    assert event["before"]["rights"] == sorted(WORK_RIGHTS) and event["after"]["rights"] == [LEDGER]

    sid = await logins.open_session(staff_id, "127.0.0.1", "uji")
    assert await team.set_active(boss, staff_id, False) == 1
    assert await logins.session_user(staff_id, sid) is None
    assert await AccountSession.count().where(AccountSession.account == staff_id) == 0
    assert await load_user(staff_id) is None
    off = (await _actions("lks_team.deactivate"))[-1]
    assert off["actor"] == "boss" and off["after"] == {"lks": lks_id, "active": False, "sessions_ended": 1}

    await team.set_active(boss, staff_id, True)
    assert (await load_user(staff_id)) is not None
    assert len(await _actions("lks_team.activate")) == 1


async def test_the_admin_cannot_leave_the_lks_without_an_admin(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    with pytest.raises(TeamError, match="hak admin Anda sendiri"):
        await team.set_rights(boss, boss.id, frozenset({DELIVERIES}))
    with pytest.raises(TeamError, match="satu-satunya admin"):
        await team.set_active(boss, boss.id, False)
    assert await rights_of(boss.id) == ALL_RIGHTS
    assert await load_user(boss.id) is not None
    assert not await _actions("lks_team.rights") and not await _actions("lks_team.deactivate")


async def test_a_staff_member_without_the_admin_right_changes_nothing(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    staff = await load_user(await make_account("lks_staff", "staf", lks_id=lks_id))
    assert staff is not None
    with pytest.raises(TeamError, match="Hanya admin"):
        await team.set_active(staff, boss.id, False)
    with pytest.raises(TeamError, match="Hanya admin"):
        await team.create_invite(staff, "", "", frozenset({DELIVERIES}))
    assert await LksInvite.count() == 0


async def test_another_lks_staff_and_invites_are_not_found(db):
    a, b = await make_lks("Yayasan A"), await make_lks("Yayasan B")
    boss_a, boss_b = await _admin(a, "boss-a"), await _admin(b, "boss-b")
    staff_b = await make_account("lks_staff", "staf-b", lks_id=b)
    invite_b, _ = await team.create_invite(boss_b, "", "", frozenset({DELIVERIES}))
    for call in (team.member_of(boss_a, staff_b), team.set_active(boss_a, staff_b, False),
                 team.set_rights(boss_a, staff_b, frozenset()), team.revoke_invite(boss_a, invite_b)):
        with pytest.raises(team.TeamNotFound):
            await call
    assert [r["username"] for r in (await team.team_of(boss_a))[0]] == ["boss-a"]
    assert await team.invites_of(boss_a) == []
    assert (await load_user(staff_b)) is not None
    assert await rights_of(staff_b) == WORK_RIGHTS


async def test_team_search_and_pages(db):
    lks_id = await make_lks()
    boss = await _admin(lks_id)
    for i in range(team.PAGE_SIZE + 2):
        await LksMember.insert(LksMember(account=await _bare_account(f"relawan{i:03d}", lks_id), lks=lks_id))
    rows, total = await team.team_of(boss)
    assert total == team.PAGE_SIZE + 3 and len(rows) == team.PAGE_SIZE
    assert len((await team.team_of(boss, page=2))[0]) == 3
    rows, total = await team.team_of(boss, "RELAWAN049")
    assert total == 1 and rows[0]["username"] == "relawan049"


async def _bare_account(username: str, lks_id: int) -> int:
    rows = await Account.insert(Account(username=username, password_hash=HASH, role="lks_staff", lks=lks_id)
                                ).returning(Account.id)
    return int(rows[0]["id"])


async def test_migration_gives_existing_accounts_their_rights(db):
    """Accounts made before teams (no rights row): the first person account of each LKS becomes its admin,
    the others keep what they could do, an API token's account records deliveries only; rerunning adds
    nothing."""
    migration = importlib.import_module("storage.migrations.storage_2026_12_02t17_34_00_000000")
    a, b = await make_lks("Yayasan A"), await make_lks("Yayasan B")
    first_a, second_a = await _bare_account("pertama-a", a), await _bare_account("kedua-a", a)
    await Account.update({Account.active: False}).where(Account.id == first_a)  # inactive: not the admin
    third_a = await _bare_account("ketiga-a", a)
    token_rows = await Account.insert(Account(username="api-lks-x", password_hash="!api-token-account",
                                              role="lks_staff", lks=b)).returning(Account.id)
    first_b = await _bare_account("pertama-b", b)
    await migration.backfill()
    await migration.backfill()
    assert await LksMember.count() == 5
    assert await rights_of(second_a) == ALL_RIGHTS
    assert await rights_of(first_a) == WORK_RIGHTS and await rights_of(third_a) == WORK_RIGHTS
    assert await rights_of(first_b) == ALL_RIGHTS
    assert await rights_of(token_rows[0]["id"]) == API_RIGHTS
    assert ADMIN not in await rights_of(token_rows[0]["id"])


async def test_invite_email_when_smtp_is_set(db, monkeypatch):
    from marketplace.settings import Settings
    from storage import approval

    sent: list = []
    monkeypatch.setattr(approval, "send_email", lambda email, settings: sent.append(email))
    lks_id = await make_lks("Yayasan Surel")
    boss = await _admin(lks_id)
    invite_id, token = await team.create_invite(boss, "relawan@contoh.id", "", frozenset({DELIVERIES}))
    link = f"http://portal/undangan?token={token}"
    assert not await team.send_invite(invite_id, boss, link, Settings(smtp_host=""))
    assert await team.send_invite(invite_id, boss, link, Settings(smtp_host="smtp.contoh.id"))
    assert sent[0]["To"] == "relawan@contoh.id" and link in sent[0].get_content()
    assert "Yayasan Surel" in sent[0]["Subject"]
    assert (await _actions("lks_team.invite_email"))[0]["after"] == {"email": "relawan@contoh.id"}
    no_mail_id, _ = await team.create_invite(boss, "", "", frozenset({DELIVERIES}))
    assert not await team.send_invite(no_mail_id, boss, link, Settings(smtp_host="smtp.contoh.id"))
