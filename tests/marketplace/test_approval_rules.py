from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from marketplace.approval import (
    ApprovalFacts,
    ApprovalRefused,
    capacity_units,
    check_approval,
    check_rejection,
    end_of_period,
    remainder,
)

OK = ApprovalFacts(allocation_id=1, allocation_status="proposed", amount=300_000, need_status="matched",
                   need_amount=300_000, government_aid=0, household_approved=0, household_cap=2_000_000,
                   offer_status="published", offer_remaining=1_000_000, unit_value=0)


def test_all_rules_hold() -> None:
    check_approval(OK)
    check_approval(replace(OK, need_status="verified"))
    check_approval(replace(OK, household_approved=1_700_000))  # exactly at the cap


@pytest.mark.parametrize(("change", "rule", "words"), [
    ({"allocation_status": "approved"}, "status", "sudah diputuskan"),
    ({"need_status": "rejected"}, "need", "tidak lagi menunggu"),
    ({"need_status": "delivered"}, "need", "tidak lagi menunggu"),
    ({"government_aid": 300_000}, "aid", "bantuan pemerintah"),
    ({"government_aid": 500_000}, "aid", "bantuan pemerintah"),
    ({"government_aid": 100_000}, "aid", "menduplikasi"),
    ({"household_approved": 1_700_001}, "cap", "Batas bantuan per keluarga"),
    ({"offer_status": "closed"}, "offer", "tidak lagi terbuka"),
    ({"offer_remaining": 299_999}, "capacity", "kapasitas"),
    ({"unit_value": 100_000, "offer_remaining": 2}, "capacity", "kapasitas"),
])
def test_each_rule_refuses(change: dict, rule: str, words: str) -> None:
    with pytest.raises(ApprovalRefused, match=words) as info:
        check_approval(replace(OK, **change))
    assert info.value.rule == rule


def test_helpers() -> None:
    assert remainder(300, 500) == 0 and remainder(300, 100) == 200
    assert capacity_units(300_000, 0) == 300_000
    assert capacity_units(300_000, 100_000) == 3 and capacity_units(250_000, 100_000) == 3
    assert end_of_period("2026-02") == date(2026, 2, 28)


def test_rejection_needs_reason() -> None:
    assert check_rejection("proposed", "  data ganda  ") == "data ganda"
    with pytest.raises(ApprovalRefused, match="Alasan"):
        check_rejection("proposed", "x")
    with pytest.raises(ApprovalRefused, match="sudah diputuskan"):
        check_rejection("approved", "alasan cukup")


def test_decide_batch_rows_count_against_each_other() -> None:
    from marketplace.approval import Candidate, OfferState, decide_batch

    def c(i: int, hh: int, amount: int, status: str = "proposed", need: str = "matched", aid: int = 0) -> Candidate:
        return Candidate(i, status, hh, 1, amount, need, amount, aid)

    offers = {1: OfferState("published", 1_000_000, 0)}
    out = decide_batch([c(1, 7, 600_000), c(2, 7, 600_000), c(3, 8, 300_000), c(4, 9, 300_000), c(5, 9, 1, "approved"),
                        c(6, 9, 100_000, need="verified"), c(7, 9, 100_000, aid=100_000)],
                       {7: 900_000}, offers, 2_000_000)
    assert [(o.result, o.rule) for o in out] == [
        ("approved", ""), ("refused", "cap"), ("approved", ""), ("refused", "capacity"), ("skipped", ""),
        ("refused", "need"), ("refused", "aid")]
    assert offers[1].remaining == 1_000_000  # the caller's facts are not changed


def test_only_undelivered_allocations_are_cancelled():
    from marketplace.approval import check_cancellation
    from marketplace.ledger import EntryType, allocation_back, allocation_out

    for status in ("proposed", "approved"):
        check_cancellation(status)
    for status in ("rejected", "delivered", "confirmed", "disputed"):
        with pytest.raises(ApprovalRefused):
            check_cancellation(status)
    out, back = allocation_out(7, 300_000), allocation_back(7, 300_000)
    assert back.entry_type == out.entry_type == EntryType.ALLOCATION and out.amount + back.amount == 0
