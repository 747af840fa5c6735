"""The exchange search (matching.exchange): exact knapsack, never infeasible, never worse, deterministic."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import pytest

from matching import SolverSettings, parse_instance, solve
from matching.checker import check
from matching.data import NO_CLASS, offer_needs, prepare
from matching.exchange import best_subset, exchange
from matching.flow import solve_flow
from matching.fuzz import SCALES, SHAPES, generate
from matching.heuristic import UNASSIGNED, baseline, greedy, lp_rounding, objective
from matching.instance import Instance
from matching.model import extract
from tests.matching.builders import instance, need, offer


@pytest.mark.parametrize("seed", range(30))
def test_best_subset_is_the_knapsack_optimum(seed: int) -> None:
    rng = random.Random(f"knap-{seed}")
    k = rng.randint(1, 9)
    weights = np.array([rng.randint(0, 50) for _ in range(k)], dtype=np.int64)
    profits = np.array([rng.randint(0, 9) for _ in range(k)], dtype=np.int64)
    capacity = rng.randint(0, 120)
    chosen, cells = best_subset(weights, profits, capacity)
    assert cells == k * (int(profits.sum()) + 1)
    assert int(weights[chosen].sum()) <= capacity
    best = max(
        sum(int(profits[t]) for t in s)
        for r in range(k + 1)
        for s in itertools.combinations(range(k), r)
        if sum(int(weights[t]) for t in s) <= capacity
    )
    assert int(profits[chosen].sum()) == best


def test_offer_needs_lists_every_eligible_pair_once() -> None:
    inst = parse_instance(generate(SHAPES["mixed-levels"], SCALES["tiny"] * 5, 1))
    prep = prepare(inst)
    needs, start = offer_needs(prep)
    assert len(needs) == prep.pairs
    want: dict[int, list[int]] = {j: [] for j in range(prep.n_offers)}
    for i in np.flatnonzero(prep.cls != NO_CLASS).tolist():
        for j in prep.class_offers[int(prep.cls[i])].tolist():
            want[j].append(i)
    for j in range(prep.n_offers):
        assert sorted(needs[start[j] : start[j + 1]].tolist()) == want[j]


def _checked(inst: Instance, assign: np.ndarray) -> int:
    """The objective of ``assign``, after the independent checker found nothing wrong with it."""
    prep = prepare(inst)
    result = extract(inst, prep, assign, bound=10**15, seconds=0.0, info={})
    assert check(inst, result) == []
    return result.stats.objective


def test_a_heavy_need_is_swapped_for_two_that_fill_the_offer() -> None:
    # Highest priority first: N-A (600, 6) goes in, leaving 400 where neither N-B nor N-C (500, 5) fits.
    # Giving N-A back and taking both fills the offer: 10 > 6.
    inst = parse_instance(instance([need("N-A", 600, 6), need("N-B", 500, 5), need("N-C", 500, 5)],
                                   [offer("O", 1000)]))  # fmt: skip
    prep = prepare(inst)
    start = baseline(prep)
    assert start.tolist() == [0, UNASSIGNED, UNASSIGNED]
    better, stats = exchange(prep, start)
    assert better.tolist() == [UNASSIGNED, 0, 0]
    assert stats.gain == 4 and stats.swaps == 1
    assert _checked(inst, better) == 10


def test_the_household_cap_is_kept() -> None:
    # The same swap, but N-B and N-C belong to one household whose cap (600) holds only one of them.
    inst = parse_instance(instance(
        [need("N-A", 600, 6), need("N-B", 500, 5, household="K"), need("N-C", 500, 5, household="K")],
        [offer("O", 1000)], household_cap=600))  # fmt: skip
    prep = prepare(inst)
    better, stats = exchange(prep, baseline(prep))
    assert better.tolist() == [0, UNASSIGNED, UNASSIGNED] and stats.gain == 0
    _checked(inst, better)


def test_a_need_given_up_moves_to_another_offer_with_room() -> None:
    # O-1 (1000) holds N-A (600, 6); O-2 (700) is eligible only for N-A and empty. The swap at O-1
    # takes N-B and N-C; N-A then goes whole to O-2: 16 in all.
    inst = parse_instance(instance(
        [need("N-A", 600, 6, ppks=1), need("N-B", 500, 5), need("N-C", 500, 5)],
        [offer("O-1", 1000), offer("O-2", 700, ppks=[1])]))  # fmt: skip
    prep = prepare(inst)
    start = np.array([0, UNASSIGNED, UNASSIGNED], dtype=np.int64)
    better, stats = exchange(prep, start)
    assert better.tolist() == [1, 0, 0] and stats.gain == 10
    assert _checked(inst, better) == 16


def _random(seed: int) -> dict[str, Any]:
    rng = random.Random(f"exchange-{seed}")
    kels = ["32.73.01.1001", "32.73.01.1002", "32.73.02.1001"]
    needs = [need(f"N{i}", rng.randint(1, 12) * 100, rng.randint(1, 40), household=f"K{rng.randint(0, 9)}",
                  kelurahan=rng.choice(kels), ppks=rng.choice([1, 24]), kind=rng.choice(["pangan", "tunai"]))
             for i in range(rng.randint(10, 40))]  # fmt: skip
    offers = []
    for j in range(rng.randint(1, 6)):
        o = offer(f"O{j}", rng.randint(0, 40) * 100, kind=rng.choice(["pangan", "tunai"]),
                  areas=rng.choice([[], ["32.73.01"], [rng.choice(kels)]]), ppks=rng.choice([[], [24]]))  # fmt: skip
        if rng.random() < 0.4:
            o["max_per_need"] = rng.randint(3, 12) * 100
        offers.append(o)
    cap = rng.choice([None, 800, 1500, 3000])
    aid = [{"household": f"K{h}", "kind": "pangan", "program": "BPNT", "amount": 300} for h in range(0, 10, 3)]
    return instance(needs, offers, aid, household_cap=cap)


@pytest.mark.parametrize("seed", range(40))
def test_never_infeasible_never_worse_and_deterministic(seed: int) -> None:
    inst = parse_instance(_random(seed))
    prep = prepare(inst)
    rng = np.random.default_rng(seed)
    starts = [baseline(prep), lp_rounding(prep, solve_flow(prep)),
              greedy(prep, rng.permutation(prep.n_needs))]  # fmt: skip
    for start in starts:
        before = _checked(inst, start)
        kept = start.copy()
        better, stats = exchange(prep, start, freed=3, pool=3)
        assert np.array_equal(start, kept)  # the input is not changed
        after = _checked(inst, better)
        assert after >= before
        assert after - before == stats.gain == objective(prep, better) - objective(prep, start)
        again, _ = exchange(prep, start, freed=3, pool=3)
        assert np.array_equal(better, again)


def test_work_is_counted_not_timed() -> None:
    """``max_cells`` stops the search after the offer that reaches it, the same way every run."""
    inst = parse_instance(generate(SHAPES["tight-cap"], SCALES["small"], 0))
    prep = prepare(inst)
    start = baseline(prep)
    full, stats = exchange(prep, start, max_sweeps=1)
    assert stats.gain > 0 and stats.cells > 0
    cut, cut_stats = exchange(prep, start, max_sweeps=1, max_cells=1)  # stops after the first knapsack
    assert 0 < cut_stats.cells < stats.cells
    assert 0 <= cut_stats.gain <= stats.gain
    assert objective(prep, cut) == objective(prep, start) + cut_stats.gain
    _checked(inst, full)
    _checked(inst, cut)


def test_above_the_pair_list_limit_the_solver_does_without() -> None:
    """Above ``pair_list_limit`` neither the exchange nor the offers' knapsack bounds run (memory)."""
    inst = parse_instance(generate(SHAPES["tight-cap"], SCALES["small"], 0))
    rounding = {"exact_pairs_limit": 0, "lns_pairs_limit": 0, "time_limit": 0.5}
    full = solve(inst, SolverSettings(**rounding))
    bare = solve(inst, SolverSettings(**rounding, pair_list_limit=0))
    assert full.info["exchange_gain"] > 0 and "exchange_gain" not in bare.info
    assert bare.info["knapsack_offers"] == 0
    for result in (full, bare):
        assert check(inst, result) == [] and result.info["guard"] == {"violations": 0}
    assert bare.stats.objective < full.stats.objective
