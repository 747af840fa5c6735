"""The second factor's rules, without a database (issue 13, ASVS 2.6, 2.8)."""

import pytest

from marketplace import second_factor as sf
from marketplace.settings import Settings


def test_the_required_roles_come_from_a_comma_list_and_default_to_admin_and_dpo():
    assert sf.parse_required_roles(sf.DEFAULT_REQUIRED) == {"dinsos_admin", "dpo"}
    assert sf.parse_required_roles(" dinsos_admin , DPO ,") == {"dinsos_admin", "dpo"}
    assert sf.parse_required_roles("") == frozenset()
    assert Settings().mfa_required_roles == {"dinsos_admin", "dpo"}
    assert Settings(JITU_MFA_REQUIRED_ROLES="").mfa_required_roles == frozenset()


def test_a_misspelt_role_stops_the_settings_instead_of_dropping_the_requirement():
    with pytest.raises(ValueError, match="dinsos-admin"):
        sf.parse_required_roles("dinsos-admin,dpo")
    with pytest.raises(ValueError):
        Settings(JITU_MFA_REQUIRED_ROLES="dinsos-admin")


def test_what_log_in_asks_after_the_password():
    required = sf.parse_required_roles(sf.DEFAULT_REQUIRED)
    assert sf.second_step("dinsos_admin", False, required) == sf.SecondStep(ask_code=False, enrol=True)
    assert sf.second_step("dpo", True, required) == sf.SecondStep(ask_code=True, enrol=False)
    assert not sf.second_step("donor", False, required).needed
    assert sf.second_step("donor", True, required).ask_code
    assert not sf.second_step("dinsos_admin", False, frozenset()).needed
    assert sf.may_disable("donor", required) and not sf.may_disable("dpo", required)


def test_codes_are_read_as_typed_and_anything_else_is_refused():
    assert sf.normalise_code(" 123 456 ") == (sf.CodeKind.TOTP, "123456")
    assert sf.normalise_code("ABCDE-FGHJK") == (sf.CodeKind.RECOVERY, "abcdefghjk")
    for bad in ("12345", "1234567", "abcde-fghi", "abcde-fghi1", "", "' or 1=1 --", "٣٣٣٣٣٣"):
        assert sf.normalise_code(bad) is None, bad


def test_recovery_codes_are_distinct_and_readable():
    codes = sf.new_recovery_codes()
    assert len(codes) == len(set(codes)) == sf.RECOVERY_COUNT
    assert all(len(c) == 10 and set(c) <= set(sf.RECOVERY_ALPHABET) for c in codes)
    shown = sf.show_recovery_code(codes[0])
    assert shown[5] == "-" and sf.normalise_code(shown) == (sf.CodeKind.RECOVERY, codes[0])
    assert not set(sf.RECOVERY_ALPHABET) & set("il0o1")


def test_a_used_step_and_those_before_it_are_never_accepted_again():
    assert sf.candidate_steps(100, None) == [99, 100, 101]
    assert sf.candidate_steps(100, 99) == [100, 101]
    assert sf.candidate_steps(100, 100) == [101]
    assert sf.candidate_steps(100, 101) == []
    assert sf.replayed(100, 100) and sf.replayed(99, 100) and not sf.replayed(101, 100)
    assert not sf.replayed(5, None)
