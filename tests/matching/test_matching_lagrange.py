"""The Lagrangian bound (matching.lagrange): valid, never above the flow bound, tighter where caps bind."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from matching import SolverSettings, parse_instance, solve
from matching.data import offer_needs, prepare
from matching.flow import solve_flow
from matching.fuzz import SCALES, SHAPES, generate
from matching.lagrange import Lagrangian, flow_duals, lagrangian_bound, offer_knapsack_savings, raise_prices
from tests.matching.checker import brute_force

EXACT = SolverSettings(time_limit=5.0, workers=1, seed=0)


def _capped(seed: int) -> dict[str, Any]:
    """Households with several needs under a cap that binds, two or three offers of one kind."""
    rng = random.Random(f"lagrange-{seed}")
    needs = []
    for h in range(6):
        for k in range(rng.randint(2, 4)):
            amount, priority = rng.randint(2, 9) * 100, rng.randint(1, 30)
            needs.append({"id": f"N{h}-{k}", "household": f"K{h}", "kelurahan": "32.73.01.1001", "ppks": 24,
                          "kind": "pangan", "amount": amount, "priority": priority})  # fmt: skip
    offers = [{"id": f"O{j}", "lks": "L", "kind": "pangan", "capacity": rng.randint(8, 25) * 100, "areas": [],
               "ppks": []} for j in range(rng.randint(2, 3))]  # fmt: skip
    return {"version": 1, "period": "2026-12", "household_cap": rng.randint(6, 12) * 100, "needs": needs,
            "offers": offers, "government_aid": []}  # fmt: skip


@pytest.mark.parametrize("seed", range(12))
def test_bound_is_between_the_optimum_and_the_flow_bound(seed: int) -> None:
    instance = parse_instance(_capped(seed))
    prep = prepare(instance)
    flow = solve_flow(prep)
    lag = lagrangian_bound(prep, flow, lower=0)
    exact = solve(instance, EXACT)
    assert exact.stats.status == "OPTIMAL"
    assert exact.stats.objective <= lag.bound <= flow.bound
    # Its subproblem's choice keeps every household within the cap.
    chosen = np.flatnonzero(lag.chosen)
    per_household = np.bincount(prep.household[chosen], weights=prep.remainder[chosen], minlength=prep.n_households)
    assert (per_household <= instance.household_cap).all()


def test_a_binding_cap_is_tightened_below_the_flow_bound() -> None:
    """One household, cap 1,000, needs of 600 (priority 6) and 600 (priority 6): the LP takes 1 2/3 of
    a need's worth (10), the knapsack only one need (6)."""
    data = {"version": 1, "period": "2026-12", "household_cap": 1000, "government_aid": [],
            "needs": [{"id": f"N{k}", "household": "K", "kelurahan": "32.73.01.1001", "ppks": 24, "kind": "pangan",
                       "amount": 600, "priority": 6} for k in range(2)],
            "offers": [{"id": "O", "lks": "L", "kind": "pangan", "capacity": 5000, "areas": [],
                        "ppks": []}]}  # fmt: skip
    prep = prepare(parse_instance(data))
    flow = solve_flow(prep)
    assert flow.bound == 10
    assert lagrangian_bound(prep, flow, lower=0).bound == 6
    result = solve(parse_instance(data), SolverSettings(time_limit=0.5, exact_pairs_limit=0, lns_pairs_limit=0))
    assert (result.stats.objective, result.stats.bound, result.stats.status) == (6, 6, "OPTIMAL")


def test_flow_duals_reproduce_the_lp_value_without_a_cap() -> None:
    """Without a cap the relaxed problem is integral: at the flow's duals it is the LP optimum."""
    data = generate(SHAPES["kelurahan-many"], SCALES["small"], 0)
    prep = prepare(parse_instance(data))
    flow = solve_flow(prep)
    prices, _ = flow_duals(prep, flow)
    value, margin, _, _ = Lagrangian(prep).evaluate(prices)
    # lp_value is the LP with gains rounded up to the flow's scale (at most total flow / scale above it)
    assert flow.lp_value - 1 <= value <= flow.lp_value + margin


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_fuzzed_small_instances(shape: str) -> None:
    for seed in range(2):
        instance = parse_instance(generate(SHAPES[shape], SCALES["small"], seed))
        prep = prepare(instance)
        flow = solve_flow(prep)
        plain = lagrangian_bound(prep, flow, lower=0)
        lag = lagrangian_bound(prep, flow, lower=0, pairs=offer_needs(prep))
        result = solve(instance, SolverSettings(time_limit=0.5, exact_pairs_limit=0, lns_pairs_limit=0))
        assert result.stats.objective <= lag.bound <= plain.bound <= flow.bound, (shape, seed)
        assert result.stats.bound == min(lag.bound, flow.bound), (shape, seed)


def test_an_offer_that_holds_one_need_is_bounded_by_it() -> None:
    """No cap; one offer of 1,000 and two needs of 600 (priority 6): the LP takes 1 2/3 needs (10), the
    offer's knapsack only one (6), which is the optimum."""
    data = {"version": 1, "period": "2026-12", "government_aid": [],
            "needs": [{"id": f"N{k}", "household": f"K{k}", "kelurahan": "32.73.01.1001", "ppks": 24,
                       "kind": "pangan", "amount": 600, "priority": 6} for k in range(2)],
            "offers": [{"id": "O", "lks": "L", "kind": "pangan", "capacity": 1000, "areas": [],
                        "ppks": []}]}  # fmt: skip
    prep = prepare(parse_instance(data))
    flow = solve_flow(prep)
    assert flow.bound == 10 and lagrangian_bound(prep, flow, lower=0).bound == 10
    lag = lagrangian_bound(prep, flow, lower=0, pairs=offer_needs(prep))
    assert lag.bound == 6 and lag.knapsack_offers == 1
    assert solve(parse_instance(data), SolverSettings(exact_pairs_limit=0, lns_pairs_limit=0)).stats.status == "OPTIMAL"


def _few_fit(seed: int) -> dict[str, Any]:
    """Up to 7 needs of odd sizes and 2-3 offers that hold a few of them (capacities above the
    knapsack's width, so its weights are scaled and rounded down), with or without a cap."""
    rng = random.Random(f"few-fit-{seed}")
    kels = ["32.73.01.1001", "32.73.01.1002"]
    needs = [{"id": f"N{i}", "household": f"K{rng.randint(0, 3)}", "kelurahan": rng.choice(kels),
              "ppks": rng.choice([1, 24]), "kind": "pangan", "amount": rng.randint(1_000, 9_000),
              "priority": rng.randint(1, 20)} for i in range(rng.randint(1, 7))]  # fmt: skip
    offers = []
    for j in range(rng.randint(1, 3)):
        o: dict[str, Any] = {"id": f"O{j}", "lks": "L", "kind": "pangan", "capacity": rng.randint(1_500, 20_000),
                             "areas": rng.choice([[], [kels[0]]]), "ppks": rng.choice([[], [24]])}  # fmt: skip
        if rng.random() < 0.3:
            o["max_per_need"] = rng.randint(3_000, 9_000)
        offers.append(o)
    data: dict[str, Any] = {"version": 1, "period": "2026-12", "needs": needs, "offers": offers,
                            "government_aid": []}  # fmt: skip
    if rng.random() < 0.5:
        data["household_cap"] = rng.randint(4_000, 15_000)
    return data


@pytest.mark.parametrize("seed", range(60))
def test_offer_knapsacks_keep_the_bound_above_the_optimum(seed: int) -> None:
    data = _few_fit(seed)
    instance = parse_instance(data)
    prep = prepare(instance)
    flow = solve_flow(prep)
    plain = lagrangian_bound(prep, flow, lower=0)
    lag = lagrangian_bound(prep, flow, lower=0, pairs=offer_needs(prep))
    optimum = brute_force(data)  # independent of the model (tests/matching/checker.py)
    assert optimum <= lag.bound <= plain.bound <= flow.bound
    result = solve(instance, SolverSettings(time_limit=1.0, exact_pairs_limit=0, lns_pairs_limit=0))
    assert result.info["guard"] == {"violations": 0}
    assert result.stats.objective <= optimum <= result.stats.bound <= lag.bound


def test_offer_knapsacks_tighten_the_random_instances() -> None:
    """The knapsacks are not idle: on some of the instances above they lower the bound."""
    tighter = 0
    for seed in range(60):
        prep = prepare(parse_instance(_few_fit(seed)))
        flow = solve_flow(prep)
        plain = lagrangian_bound(prep, flow, lower=0)
        tighter += lagrangian_bound(prep, flow, lower=0, pairs=offer_needs(prep)).bound < plain.bound
    assert tighter >= 1


@pytest.mark.parametrize("seed", range(40))
def test_any_prices_with_the_offer_knapsacks_bound_the_optimum(seed: int) -> None:
    """The bound is valid for every price vector, not only the flow's duals (raise_prices searches them)."""
    data = _few_fit(seed)
    prep = prepare(parse_instance(data))
    relax = Lagrangian(prep)
    pairs = offer_needs(prep)
    optimum = brute_force(data)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        prices = rng.exponential(1 / 500, prep.n_offers) * rng.integers(0, 2, prep.n_offers)
        value, margin, _, _ = relax.evaluate(prices)
        saving, _ = offer_knapsack_savings(relax, prices, *pairs)
        assert optimum <= value + margin - saving
    raised = raise_prices(relax, flow_duals(prep, solve_flow(prep))[0], *pairs)
    value, margin, _, _ = relax.evaluate(raised)
    assert optimum <= value + margin - offer_knapsack_savings(relax, raised, *pairs)[0]


def test_raise_prices_is_counted_and_deterministic() -> None:
    prep = prepare(parse_instance(generate(SHAPES["kelurahan-many"], SCALES["mid"], 0)))
    relax = Lagrangian(prep)
    pairs = offer_needs(prep)
    prices = flow_duals(prep, solve_flow(prep))[0]
    raised = raise_prices(relax, prices, *pairs)
    assert not np.array_equal(raised, prices) and (raised >= prices).all()
    assert np.array_equal(raised, raise_prices(relax, prices, *pairs))
    assert np.array_equal(raise_prices(relax, prices, *pairs, max_terms=0), prices)
