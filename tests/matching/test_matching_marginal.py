"""Marginal value of one more rupiah per kind x kecamatan (issue 10): validated by adding the budget."""

from __future__ import annotations

import random
from typing import Any

import pytest

from matching import SolverSettings, parse_instance, solve
from matching.data import prepare
from matching.flow import solve_flow
from matching.marginal import BUDGET, marginal_values
from tests.matching.builders import instance, need, offer

EXACT = SolverSettings(time_limit=4.0)
KECS = ["32.73.01", "32.73.02", "32.73.03"]


def _small(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    needs = [
        need(f"N-{i}", rng.randrange(100_000, 700_000, 1000), rng.randint(1, 100), household=f"K-{i // 2}",
             kelurahan=f"{rng.choice(KECS)}.100{rng.randint(1, 3)}", kind=rng.choice(["pangan", "tunai"]))
        for i in range(16)
    ]  # fmt: skip
    offers = [
        offer(f"O-{j}", rng.randrange(300_000, 1_500_000, 1000), kind=rng.choice(["pangan", "tunai"]),
              areas=rng.choice([[], [rng.choice(KECS)], [f"{rng.choice(KECS)}.1001"]]))
        for j in range(3)
    ]  # fmt: skip
    return instance(needs, offers, household_cap=rng.choice([None, 900_000]))


def _values(data: dict[str, Any]) -> list[Any]:
    inst = parse_instance(data)
    prep = prepare(inst)
    return marginal_values(inst, prep, solve_flow(prep))


def _with_budget(data: dict[str, Any], kind: str, kecamatan: str) -> dict[str, Any]:
    extra = offer("O-extra", BUDGET, kind=kind, areas=[kecamatan])
    return {**data, "offers": [*data["offers"], extra]}


def _optimum(data: dict[str, Any]) -> int:
    result = solve(parse_instance(data), EXACT)
    assert result.stats.status == "OPTIMAL"
    return result.stats.objective


def _lp(data: dict[str, Any]) -> float:
    return solve_flow(prepare(parse_instance(data))).lp_value


@pytest.mark.parametrize("seed", range(8))
def test_budget_where_the_value_is_highest_raises_the_optimum_at_least_as_much(seed: int) -> None:
    data = _small(seed)
    values = _values(data)
    best, worst = values[0], values[-1]
    assert best.value >= worst.value
    base, base_lp = _optimum(data), _lp(data)
    gain_best = _optimum(_with_budget(data, best.kind, best.kecamatan)) - base
    gain_worst = _optimum(_with_budget(data, worst.kind, worst.kecamatan)) - base
    assert gain_best >= gain_worst, (seed, best, worst)
    # In the relaxation the value is the gain itself (direct effect): adding the budget there raises
    # the LP optimum by at least the reported value (each flow value is the LP's within 0.25: the
    # gains per rupiah are rounded up at scale S >= 4 x total flow, see matching.flow).
    lp_best = _lp(_with_budget(data, best.kind, best.kecamatan)) - base_lp
    assert lp_best >= best.value - 0.5


def test_value_counts_needs_no_offer_reaches_and_respects_the_household_cap() -> None:
    data = instance(
        [need("N-1", 400_000, 80, household="K-1", kelurahan="32.73.01.1001"),
         need("N-2", 500_000, 40, household="K-2", kelurahan="32.73.02.1001"),
         need("N-3", 500_000, 90, household="K-3", kelurahan="32.73.02.1001", kind="tunai"),
         need("N-4", 300_000, 99, household="K-3", kelurahan="32.73.02.1001"),
         need("N-5", 700_000, 99, household="K-5", kelurahan="32.73.02.1001")],
        [offer("O-1", 400_000, areas=["32.73.01"])],
        household_cap=600_000,
    )  # fmt: skip
    by_place = {(m.kind, m.kecamatan): m for m in _values(data)}
    assert by_place[("pangan", "32.73.01")].value == 0  # N-1 is served by O-1
    # 32.73.02 pangan: N-4 first (99 for 300k), then N-2 (40 for 500k); N-5 (700k) exceeds the cap.
    m = by_place[("pangan", "32.73.02")]
    assert m.value == pytest.approx(99 + 40)
    assert m.households == pytest.approx(2) and m.priority == pytest.approx((99 + 40) / 2)
    assert m.unserved_needs == 2 and m.unserved_amount == 800_000
    # tunai: N-3 alone (90 for 500k): nothing serves its household in the relaxation, the cap leaves room.
    assert by_place[("tunai", "32.73.02")].value == pytest.approx(90)
    assert next(iter(by_place)) == ("pangan", "32.73.02")


def test_solve_reports_the_values_in_info() -> None:
    result = solve(parse_instance(_small(1)), EXACT)
    values = result.info["marginal_values"]
    assert values and {"kind", "kecamatan", "value", "households", "priority"} <= set(values[0])
    assert values == sorted(values, key=lambda v: -v["value"]) or values[0]["value"] >= values[-1]["value"]
