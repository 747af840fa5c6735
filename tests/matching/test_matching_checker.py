"""The independent checker and the guard on every result (issue 10), and degenerate instances."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import matching.model as model
from matching import Allocation, Result, SolverSettings, Unmatched, parse_instance, solve, solve_json
from matching.checker import check, guard, parse_result
from tests.matching.builders import aid, instance, need, offer
from tests.matching.checker import check_result

EXACT = SolverSettings(time_limit=1.0)
PATHS = [
    EXACT,
    SolverSettings(time_limit=1.0, exact_pairs_limit=0, neighbourhood_size=50),  # neighbourhoods
    SolverSettings(time_limit=1.0, exact_pairs_limit=0, lns_pairs_limit=0),  # rounding only
]
BIG = 2**63 - 1


def _two_offers() -> dict[str, Any]:
    return instance(
        [need("N-1", 300, 50, household="K1"), need("N-2", 300, 40, household="K1"), need("N-3", 300, 10),
         need("N-4", 100, 5, household="K4"), need("N-5", 200, 7)],
        [offer("O-1", 600), offer("O-2", 300, kind="kesehatan")],
        [aid("K4", 100)],
        household_cap=1000,
    )  # fmt: skip


def test_check_names_every_kind_of_breach() -> None:
    inst = parse_instance(_two_offers())
    good = solve(inst, EXACT)
    assert check(inst, good) == []
    bad = replace(
        good,
        allocations=(
            Allocation("N-1", "O-1", 300), Allocation("N-2", "O-1", 300), Allocation("N-3", "O-1", 300),
            Allocation("N-4", "O-1", 100), Allocation("N-5", "O-2", 150),
        ),
        unmatched=(Unmatched("N-1", "not_selected"), Unmatched("N-9", "not_selected")),
    )
    rules = {v.rule for v in check(inst, bad)}
    assert rules == {"coverage", "capacity", "remainder", "eligibility", "stats"}
    wrong_reason = replace(good, unmatched=tuple(replace(u, reason="no_eligible_offer") for u in good.unmatched))
    assert {v.rule for v in check(inst, wrong_reason)} == {"reason"}


def test_household_cap_breach_is_found_and_repaired() -> None:
    data = instance([need("N-1", 600, 9, household="K"), need("N-2", 600, 3, household="K")], [offer("O-1", 5000)],
                    household_cap=1000)  # fmt: skip
    inst = parse_instance(data)
    base = solve(inst, EXACT)
    bad = replace(base, allocations=(Allocation("N-1", "O-1", 600), Allocation("N-2", "O-1", 600)), unmatched=(),
                  stats=replace(base.stats, objective=12))  # fmt: skip
    assert {v.rule for v in check(inst, bad)} == {"household_cap", "stats"}
    fixed = guard(inst, bad)
    assert check(inst, fixed) == []
    assert [a.need for a in fixed.allocations] == ["N-1"]
    assert fixed.unmatched == (Unmatched("N-2", "not_selected"),)
    assert fixed.info["guard"]["dropped_allocations"] == [
        {"need": "N-2", "offer": "O-1", "why": "household cap of K exceeded"}
    ]


def _overfull_rounding(prep: Any, flow: Any, first: Any = None) -> np.ndarray:
    """A broken rounding: every candidate need to its first eligible offer, room or not."""
    return np.array([prep.class_offers[c][0] if c >= 0 else -1 for c in prep.cls.tolist()], dtype=np.int64)


def test_solver_bug_is_caught_repaired_logged_and_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(model, "lp_rounding", _overfull_rounding)
    data = _two_offers()
    with caplog.at_level(logging.ERROR, logger="matching.checker"):
        result = solve(parse_instance(data), PATHS[2])  # rounding only: nothing after it could hide the bug
    out = result.to_json()
    check_result(data, out)
    report = result.info["guard"]
    assert report["violations"] >= 1 and report["by_rule"]["capacity"] == 1
    # O-1 (600) got N-1, N-2, N-3 and N-5 (1,100): the lowest priorities (N-5: 7, N-3: 10) are dropped.
    why = "capacity of offer O-1 exceeded"
    assert report["dropped_allocations"] == [{"need": "N-5", "offer": "O-1", "why": why},
                                             {"need": "N-3", "offer": "O-1", "why": why}]  # fmt: skip
    assert {"need": "N-3", "reason": "not_selected"} in out["unmatched"]
    assert {"need": "N-5", "reason": "not_selected"} in out["unmatched"]
    assert result.stats.status == "FEASIBLE" and result.stats.objective == 50 + 40
    assert any("broke the contract" in r.message and r.levelname == "ERROR" for r in caplog.records)


def test_clean_result_says_it_was_checked() -> None:
    result = solve(parse_instance(_two_offers()), EXACT)
    assert result.info["guard"] == {"violations": 0}
    assert "check_s" in result.info


def test_parse_result_refuses_a_bad_form() -> None:
    with pytest.raises(ValueError, match="stats"):
        parse_result({"version": 1, "period": "2026-11", "allocations": [], "unmatched": [],
                      "stats": {"status": "OPTIMAL", "objective": 0, "bound": 0}})  # fmt: skip
    with pytest.raises(ValueError, match="unknown reason"):
        parse_result({"version": 1, "period": "2026-11", "allocations": [], "unmatched": [{"need": "N", "reason": "x"}],
                      "stats": {"status": "OPTIMAL", "objective": 0, "bound": 0, "seconds": 0}})  # fmt: skip


DEGENERATE: dict[str, dict[str, Any]] = {
    "no offers": instance([need("N-1", 5), need("N-2", 0)], []),
    "no needs": instance([], [offer("O-1", 5)]),
    "nothing": instance([], []),
    "all covered by aid": instance(
        [need("N-1", 5, household="K"), need("N-2", 3, household="K")], [offer("O-1", 50)],
        [aid("K", 10), aid("K", 10, program="PKH")],
    ),
    "zero capacities": instance([need("N-1", 5), need("N-2", 0)], [offer("O-1", 0), offer("O-2", 0, max_per_need=0)]),
    "household cap 0": instance([need("N-1", 5), need("N-2", 0)], [offer("O-1", 50)], household_cap=0),
    "household cap absent": instance([need("N-1", 5, 5, household="K"), need("N-2", 6, 10, household="K")],
                                     [offer("O-1", 10)]),
    "amounts near int64": instance(
        [need(f"N-{i}", BIG - i, 3 + i, household=f"K{i % 2}") for i in range(5)] + [need("N-s", 1)],
        [offer("O-1", BIG), offer("O-2", BIG, max_per_need=BIG - 2), offer("O-3", BIG // 2)],
        [aid("K0", BIG), aid("K0", BIG, program="PKH")],
        household_cap=BIG,
    ),
    "huge offer, small needs": instance([need(f"N-{i}", 10 + i, household="K") for i in range(4)],
                                        [offer("O-1", BIG)], household_cap=25),
    "areas mixing levels": instance(
        [need("N-1", 5, kelurahan="32.73.03.1001"), need("N-2", 5, kelurahan="32.73.04.1002"),
         need("N-3", 5, kelurahan="32.73.04.1003"), need("N-4", 5, kelurahan="32.73.05.1001")],
        [offer("O-1", 12, areas=["32.73.03", "32.73.04.1002", "32.73.03.1001"]), offer("O-2", 5, areas=["32.73.04"])],
    ),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_instances_keep_the_contract_on_every_path(name: str) -> None:
    data = DEGENERATE[name]
    for settings in PATHS:
        result = solve_json(data, settings)
        check_result(data, result)
        assert sorted(x["need"] for x in result["allocations"] + result["unmatched"]) == sorted(
            n["id"] for n in data["needs"]
        )


def test_reasons_on_degenerate_instances() -> None:
    def reasons(name: str) -> dict[str, str]:
        result = solve_json(DEGENERATE[name], EXACT)
        return {u["need"]: u["reason"] for u in result["unmatched"]}

    assert reasons("no offers") == {"N-1": "no_eligible_offer", "N-2": "covered_by_government"}
    assert reasons("all covered by aid") == {"N-1": "covered_by_government", "N-2": "covered_by_government"}
    assert reasons("zero capacities") == {"N-1": "no_eligible_offer", "N-2": "covered_by_government"}
    assert reasons("household cap 0") == {"N-1": "no_eligible_offer", "N-2": "covered_by_government"}
    assert reasons("household cap absent") == {"N-1": "not_selected"}
    near = solve_json(DEGENERATE["amounts near int64"], EXACT)
    assert near["stats"]["objective"] > 0 and near["stats"]["bound"] >= near["stats"]["objective"]
    assert {u["need"]: u["reason"] for u in near["unmatched"]}.get("N-0") == "covered_by_government"


def test_result_objects_are_checked_before_they_leave_solve() -> None:
    inst = parse_instance(_two_offers())
    result = solve(inst, EXACT)
    assert isinstance(result, Result) and check(inst, result) == []
