import itertools

import pytest

from marketplace import needs
from marketplace.needs import NeedError, check_transition

CHAIN = ["submitted", "assessed", "verified", "matched", "approved", "delivered", "confirmed"]


def test_happy_path_allowed():
    for a, b in itertools.pairwise(CHAIN):
        assert check_transition(a, b).to_status == b


@pytest.mark.parametrize(("a", "b"), [("submitted", "verified"), ("submitted", "matched"), ("assessed", "approved"),
                                      ("confirmed", "submitted"), ("rejected", "assessed"), ("delivered", "approved"),
                                      ("approved", "rejected"), ("referred", "matched"),
                                      ("resolved", "verified")])
def test_illegal_transitions_refused(a, b):
    with pytest.raises(NeedError, match="tidak diperbolehkan"):
        check_transition(a, b)


def test_reject_needs_reason_and_referral_needs_office():
    with pytest.raises(NeedError, match="Alasan"):
        check_transition("assessed", "rejected")
    assert check_transition("assessed", "rejected", reason="data palsu").reason == "data palsu"
    with pytest.raises(NeedError, match="instansi"):
        check_transition("submitted", "referred", office="bulan")
    t = check_transition("submitted", "referred", office="kesehatan")
    assert "Dinas Kesehatan" in needs.public_note(t)


def test_large_case_goes_to_dinsos():
    with pytest.raises(NeedError, match=r"50\.000\.000"):
        check_transition("assessed", "referred", office="kesehatan", amount=60_000_000)
    assert check_transition("assessed", "referred", office="dinsos", amount=60_000_000).referral_office == "dinsos"
    assert needs.suggested_referral(60_000_000) == "dinsos" and needs.suggested_referral(1) is None


def test_rejection_note_is_public_safe():
    t = check_transition("assessed", "rejected", reason="Budi punya mobil")
    assert "Budi" not in needs.public_note(t)


def test_ticket_code_shape():
    code = needs.new_ticket_code()
    assert code.startswith("JITU-") and len(code) == 15
    assert not set(code[5:]) & set("01IO")
    assert needs.normalise_ticket(" jitu-abc ") == "JITU-ABC"


def test_coverage_and_second_open_need():
    c = needs.coverage(1_000_000, [("PKH", 750_000)])
    assert c.duplicated and c.remainder == 250_000 and "PKH" in c.explain()
    assert needs.coverage(500_000, []).duplicated is False
    with pytest.raises(NeedError, match="sudah memiliki"):
        needs.refuse_second_open_need(["pangan"], "pangan")
    needs.refuse_second_open_need(["pangan"], "tunai")


def test_sensitive_ppks_hidden():
    assert needs.public_ppks(16, {16: "Orang dengan HIV/AIDS"}) == "(dirahasiakan)"
    assert needs.public_ppks(24, {24: "Fakir miskin"}) == "Fakir miskin"


def test_revoked_consent_stops_only_needs_not_yet_delivered():
    for status in ("submitted", "assessed", "verified", "matched", "approved", "referred"):
        t = needs.check_withdrawal(status)
        assert t.to_status == "rejected" and t.reason == needs.WITHDRAWN_REASON
    for status in ("matched", "approved", "referred"):  # an ordinary rejection cannot skip what the need waits on
        with pytest.raises(NeedError):
            check_transition(status, "rejected", reason="x")
    for status in ("delivered", "confirmed", "rejected", "resolved"):
        with pytest.raises(NeedError):
            needs.check_withdrawal(status)
