"""The LKS team's rules without a database: who may change what, the last admin, invitations' states and
the forms' checks (issue 14 item 2)."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.lks_team import (
    ADMIN,
    ALL_RIGHTS,
    DELIVERIES,
    LEDGER,
    OFFERS,
    Member,
    TeamError,
    check_acceptance,
    check_change,
    check_invite,
    invite_state,
    parse_rights,
)

BOSS = Member(1, ALL_RIGHTS, True)
DRIVER = Member(2, frozenset({DELIVERIES}), True)
TEAM = [BOSS, DRIVER]


def test_an_admin_changes_another_members_rights_and_activity():
    assert check_change(1, TEAM, 2, rights=frozenset({OFFERS, LEDGER})).rights == {OFFERS, LEDGER}
    assert check_change(1, TEAM, 2, active=False).active is False
    assert check_change(1, TEAM, 2, rights=ALL_RIGHTS).is_admin


def test_only_an_active_admin_changes_the_team():
    with pytest.raises(TeamError, match="Hanya admin"):
        check_change(2, TEAM, 1, active=False)
    with pytest.raises(TeamError, match="Hanya admin"):
        check_change(1, [Member(1, ALL_RIGHTS, False), DRIVER], 2, active=False)
    with pytest.raises(TeamError, match="tidak ditemukan"):
        check_change(1, TEAM, 99, active=False)


def test_an_admin_never_removes_their_own_admin_right_even_with_another_admin():
    other_admin = Member(3, frozenset({ADMIN}), True)
    with pytest.raises(TeamError, match="hak admin Anda sendiri"):
        check_change(1, [*TEAM, other_admin], 1, rights=frozenset({DELIVERIES}))
    # keeping admin while dropping work rights is fine
    assert check_change(1, TEAM, 1, rights=frozenset({ADMIN})).rights == {ADMIN}


def test_the_last_active_admin_cannot_deactivate_themselves():
    with pytest.raises(TeamError, match="satu-satunya admin"):
        check_change(1, TEAM, 1, active=False)
    other_admin = Member(3, frozenset({ADMIN}), True)
    assert check_change(1, [*TEAM, other_admin], 1, active=False).active is False
    inactive_admin = Member(3, frozenset({ADMIN}), False)
    with pytest.raises(TeamError, match="satu-satunya admin"):
        check_change(1, [*TEAM, inactive_admin], 1, active=False)


def test_the_team_keeps_an_admin_when_another_admin_is_demoted_or_deactivated():
    other_admin = Member(3, frozenset({ADMIN}), True)
    assert not check_change(1, [*TEAM, other_admin], 3, rights=frozenset()).is_admin
    assert not check_change(1, [*TEAM, other_admin], 3, active=False).is_admin


def test_rights_from_a_form_refuse_unknown_names():
    assert parse_rights(["deliveries", "ledger"]) == {DELIVERIES, LEDGER}
    assert parse_rights([]) == frozenset()
    with pytest.raises(TeamError, match="tidak dikenal: superuser"):
        parse_rights(["deliveries", "superuser"])


def test_invite_form_checks():
    assert check_invite("", "", frozenset({DELIVERIES})) == {}
    assert check_invite("relawan@contoh.id", "Relawan", frozenset({DELIVERIES})) == {}
    errors = check_invite("bukan-email", "x" * 121, frozenset())
    assert set(errors) == {"email", "full_name", "rights"}
    assert errors["email"] == "Alamat email tidak sah."


def test_acceptance_form_checks():
    assert check_acceptance("Siti Aminah", "siti.a", "kata-sandi-baru-1", "kata-sandi-baru-1") == {}
    errors = check_acceptance("", "Siti A!", "pendek", "pendek")
    assert set(errors) == {"full_name", "username", "password"}
    assert "paling sedikit 10" in errors["password"]
    assert check_acceptance("Siti", "siti", "kata-sandi-baru-1", "lain-sama-sekali")["password"] == (
        "Konfirmasi kata sandi tidak sama.")


def test_invite_states():
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    later, earlier = now + timedelta(hours=1), now - timedelta(hours=1)
    assert invite_state(later, None, None, now) == "open"
    assert invite_state(earlier, None, None, now) == "expired"
    assert invite_state(now, None, None, now) == "expired"
    assert invite_state(later, earlier, None, now) == "used"
    assert invite_state(later, None, earlier, now) == "revoked"
    # the inviting admin deactivated or no longer an admin: lapsed, whatever else holds, unless already used
    assert invite_state(later, None, None, now, inviter_admin=False) == "lapsed"
    assert invite_state(earlier, None, earlier, now, inviter_admin=False) == "lapsed"
    assert invite_state(later, earlier, None, now, inviter_admin=False) == "used"
