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
