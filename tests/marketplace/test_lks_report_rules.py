"""Periodic reports, the pure rules: the form (photos, consent, the ledger balance), deadlines, the grace
period and the pause of offers; and the reminder kinds and choices."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.lks_reports import (
    OffersPaused,
    Policy,
    ReportError,
    ReportInvalid,
    check_may_offer,
    deadline,
    next_period,
    parse_grace,
    parse_report,
    report_due,
    required_periods,
    standing,
)
from marketplace.reminders import Choice, Kind, choices, delivery_kind, parse_choices, reminder_key

POLICY = Policy(due_days=10, grace_days=14, first_period="2026-09")
FORM = {"period": "2026-10", "delivered_summary": "12 paket sembako.", "not_delivered": "",
        "balance_confirmed": "on", "fund_balance_seen": "250000", "photo_consent": "on"}
TODAY = date(2026, 12, 2)


def test_periods_roll_over_the_year():
    assert next_period("2026-12") == "2027-01" and next_period("2026-09") == "2026-10"


def test_a_report_is_due_a_set_number_of_days_after_its_period_ends():
    assert report_due("2026-10", 10) == date(2026, 11, 10)
    assert report_due("2026-02", 0) == date(2026, 2, 28)


def test_required_periods_start_at_the_policy_and_at_verification_and_only_ended_ones():
    assert list(required_periods("2026-09", date(2026, 3, 1), TODAY)) == ["2026-09", "2026-10", "2026-11"]
    assert list(required_periods("2026-09", date(2026, 10, 20), TODAY)) == ["2026-10", "2026-11"]
    assert list(required_periods("2026-09", date(2026, 12, 1), TODAY)) == []  # December has not ended
    assert list(required_periods("2026-09", None, TODAY)) == []  # not verified: nothing to report


def test_overdue_after_the_due_date_and_paused_after_the_grace_period():
    verified = date(2026, 1, 1)
    on_time = standing(POLICY, verified, {}, date(2026, 10, 10))  # September's report due 10-10
    assert [m.period for m in on_time.missing] == ["2026-09"] and not on_time.overdue and not on_time.paused
    late = standing(POLICY, verified, {}, date(2026, 10, 11))
    assert [m.period for m in late.overdue] == ["2026-09"] and not late.paused
    assert not standing(POLICY, verified, {}, date(2026, 10, 24)).paused  # last day of the grace period
    paused = standing(POLICY, verified, {}, date(2026, 10, 25))
    assert paused.paused
    with pytest.raises(OffersPaused) as exc:
        check_may_offer(paused)
    assert "2026-09 (jatuh tempo 10-10-2026)" in str(exc.value) and "Laporan berkala" in str(exc.value)


def test_a_submitted_or_approved_report_lifts_the_pause_a_returned_one_does_not():
    verified = date(2026, 1, 1)
    day = date(2026, 10, 30)  # September's report is past its grace period; October's period has not ended
    assert standing(POLICY, verified, {}, day).paused
    assert standing(POLICY, verified, {"2026-09": ("submitted", None)}, day).missing == ()
    assert standing(POLICY, verified, {"2026-09": ("approved", date(2026, 10, 5))}, day).missing == ()
    check_may_offer(standing(POLICY, verified, {"2026-09": ("submitted", None)}, day))
    returned = standing(POLICY, verified, {"2026-09": ("rejected", date(2026, 10, 25))}, day)
    assert returned.missing[0].due == date(2026, 11, 4)  # sent back: due again ten days after that
    assert not returned.missing[0].overdue
    assert deadline("2026-09", 10, "rejected", date(2026, 9, 28)) == date(2026, 10, 10)  # never earlier


def test_the_form_asks_consent_for_photos_at_most_three_and_the_balance_the_ledger_has():
    assert parse_report(FORM, TODAY, photos=3, ledger_balance=250_000).period == "2026-10"
    with pytest.raises(ReportInvalid) as exc:
        parse_report(FORM, TODAY, photos=4, ledger_balance=250_000)
    assert exc.value.errors["photos"] == "Paling banyak 3 foto per laporan."
    with pytest.raises(ReportInvalid) as exc:
        parse_report({**FORM, "photo_consent": ""}, TODAY, photos=1, ledger_balance=250_000)
    assert "wajah" in exc.value.errors["photo_consent"]
    parse_report({**FORM, "photo_consent": ""}, TODAY, photos=0, ledger_balance=250_000)  # no photos: no tick
    with pytest.raises(ReportInvalid) as exc:
        parse_report(FORM, TODAY, photos=0, ledger_balance=300_000)
    assert "berubah" in exc.value.errors["balance_confirmed"]


def test_the_grace_period_is_a_whole_number_of_days_up_to_ninety():
    assert parse_grace(" 0 ") == 0 and parse_grace("90") == 90
    for bad in ("", "-1", "91", "7.5", "tujuh"):
        with pytest.raises(ReportError, match="Masa tenggang"):
            parse_grace(bad)


def test_delivery_reminders_three_days_ahead_and_when_late():
    assert delivery_kind(date(2026, 12, 5), TODAY) == Kind.DELIVERY_DUE
    assert delivery_kind(date(2026, 12, 2), TODAY) == Kind.DELIVERY_DUE
    assert delivery_kind(date(2026, 12, 6), TODAY) is None
    assert delivery_kind(date(2026, 12, 1), TODAY) == Kind.DELIVERY_OVERDUE


def test_choices_default_to_everything_and_come_from_the_checked_boxes():
    assert choices({})[Kind.DECISION] == Choice(True, True)
    assert choices({Kind.DECISION: (False, True)})[Kind.DECISION] == Choice(False, True)
    chosen = parse_choices({"decision:email", "report_due:portal"})
    assert chosen[Kind.DECISION] == Choice(False, True) and chosen[Kind.REPORT_DUE] == Choice(True, False)
    assert chosen[Kind.DELIVERY_DUE] == Choice(False, False)
    with pytest.raises(ValueError):
        parse_choices({"decision:sms"})
    assert reminder_key("report_due", "lks", 4, "2026-10", "due") == "report_due:lks:4:2026-10:due"
