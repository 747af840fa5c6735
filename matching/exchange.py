"""Exchange search: each offer re-chooses its weakest needs and the best unserved ones as a 0/1 knapsack.

The rounding (:mod:`matching.heuristic`) is maximal: at its end no unserved need fits any offer it is
eligible for. Yet every offer keeps some room smaller than those needs, which the LP fills with a
fraction of one more need; with thousands of small offers (kelurahan offers, no household cap) that
room is most of the gap. Here an offer ``j`` gives up to ``freed`` of its lowest-priority-per-rupiah
needs back and takes, from its unserved eligible needs that fit in what is then free, the ``pool``
best by priority per rupiah and the ``pool`` best by priority; the best subset of those needs within
its room is found exactly by dynamic programming over priority (the least rupiah for each priority
sum). The swap is made only when its priority sum beats what the offer gave up, so the objective
never falls; the capacity and the household cap are checked in exact integers, so feasibility holds.
Needs given up may go whole to another offer with room (a greedy pass after each sweep).

Sweeps visit offers in index order; after the first only offers that changed, or that could take a
need given up elsewhere, are visited again. Work is counted (DP cells), never timed: deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.data import IntArray, Prepared, offer_needs
from matching.heuristic import UNASSIGNED, greedy

PROFIT_CELLS = 1 << 14  # DP width: priority sums above this are scaled down (the gain is still checked exactly)
_INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class ExchangeStats:
    gain: int  # objective gained
    sweeps: int
    swaps: int  # offers whose needs changed
    cells: int  # DP cells computed (the work counted)


def best_subset(weights: IntArray, profits: IntArray, capacity: int) -> tuple[np.ndarray, int]:
    """A subset of largest profit sum with weight sum <= ``capacity`` (0/1 knapsack, DP over profit).

    Returns ``(chosen mask, cells)``. Profits must be small non-negative integers (the DP is
    ``len(weights) x (sum(profits) + 1)``); weights are exact integers.
    """
    k = len(weights)
    top = int(profits.sum())
    dp = np.full(top + 1, _INF, dtype=np.int64)
    dp[0] = 0
    took = np.zeros((k, top + 1), dtype=bool)
    for t in range(k):
        q, w = int(profits[t]), int(weights[t])
        with_t = dp[: top + 1 - q] + w
        better = with_t < dp[q:]
        took[t, q:] = better
        dp[q:] = np.where(better, with_t, dp[q:])
    best = int(np.flatnonzero(dp <= capacity)[-1])
    chosen = np.zeros(k, dtype=bool)
    for t in range(k - 1, -1, -1):
        if took[t, best]:
            chosen[t] = True
            best -= int(profits[t])
    return chosen, k * (top + 1)


def _ranks(order: IntArray) -> IntArray:
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _first(idx: IntArray, key: IntArray, k: int) -> IntArray:
    """The ``k`` entries of ``idx`` with the smallest ``key`` (unique integers), smallest first."""
    keys = key[idx]
    if len(idx) > k:
        part = np.argpartition(keys, k)[:k]
        idx, keys = idx[part], keys[part]
    return idx[np.argsort(keys)]


def exchange(
    prep: Prepared,
    assign: IntArray,
    *,
    freed: int = 12,
    pool: int = 12,
    max_sweeps: int = 3,
    max_cells: int = 2_000_000_000,
    pairs: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, ExchangeStats]:
    """Improve ``assign`` (a feasible assignment, not changed) by per-offer knapsack exchanges."""
    assign = assign.copy()
    n, m = prep.n_needs, prep.n_offers
    rem, pri, hh = prep.remainder, prep.priority, prep.household
    if n == 0 or m == 0:
        return assign, ExchangeStats(0, 0, 0, 0)
    needs, start = pairs if pairs is not None else offer_needs(prep)
    density = pri / np.maximum(rem, 1)
    # Ranks as unique integer keys, so that a partial sort picks the same needs every run.
    by_density = _ranks(np.lexsort((np.arange(n), -density)))
    by_priority = _ranks(np.lexsort((np.arange(n), -density, -pri)))
    got = assign != UNASSIGNED
    # Exact integer sums (bincount's float weights could round above 2**53).
    resid = prep.capacity.copy()
    np.subtract.at(resid, assign[got], rem[got])
    cap = prep.household_cap
    capped = cap is not None
    hroom = np.full(prep.n_households, _INF if cap is None else cap, dtype=np.int64)
    if capped:
        np.subtract.at(hroom, hh[got], rem[got])
    gain = swaps = cells = sweeps = 0
    visit = np.ones(m, dtype=bool)
    for sweep in range(1, max_sweeps + 1):
        sweeps = sweep
        changed = np.zeros(m, dtype=bool)
        given_up: list[IntArray] = []
        for j in np.flatnonzero(visit).tolist():
            if cells >= max_cells:
                break
            e = needs[start[j] : start[j + 1]]
            if len(e) == 0:
                continue
            at = assign[e]
            mine = e[at == j]
            # The offer's weakest needs (lowest priority per rupiah, then the latest index).
            weak = _first(mine, -by_density, freed)
            room = int(resid[j]) + int(rem[weak].sum())
            open_ = e[at == UNASSIGNED]
            open_ = open_[(rem[open_] <= room) & (rem[open_] <= hroom[hh[open_]])]
            if len(open_) == 0:
                continue
            new = np.union1d(_first(open_, by_density, pool), _first(open_, by_priority, pool))
            if capped:  # one need per household: each fits the household's room alone
                new = new[np.argsort(by_density[new])]
                _, first = np.unique(hh[new], return_index=True)
                new = np.sort(new[first])
            items = np.concatenate([weak, new])
            profits = pri[items]
            total = int(profits.sum())
            if total > PROFIT_CELLS:  # scaled for the DP only; the swap below is judged exactly
                profits = profits * PROFIT_CELLS // total
            chosen, used = best_subset(rem[items], profits, room)
            cells += used
            before = int(pri[weak].sum())
            after = int(pri[items[chosen]].sum())
            if after <= before:
                continue
            out = weak[~chosen[: len(weak)]]
            into = new[chosen[len(weak) :]]
            assign[out] = UNASSIGNED
            assign[into] = j
            resid[j] = room - int(rem[items[chosen]].sum())
            if capped:
                np.add.at(hroom, hh[out], rem[out])
                np.subtract.at(hroom, hh[into], rem[into])
            gain += after - before
            swaps += 1
            changed[j] = True
            given_up.append(out)
        out_all = np.concatenate(given_up) if given_up else np.zeros(0, dtype=np.int64)
        if len(out_all):  # needs given up, highest priority first, to any offer with room
            order = out_all[np.lexsort((out_all, -pri[out_all]))]
            before_fill = int(pri[assign != UNASSIGNED].sum())
            assign = greedy(prep, order, assign=assign)
            gain += int(pri[assign != UNASSIGNED].sum()) - before_fill
            got = assign != UNASSIGNED
            resid = prep.capacity.copy()
            np.subtract.at(resid, assign[got], rem[got])
            if cap is not None:
                hroom[:] = cap
                np.subtract.at(hroom, hh[got], rem[got])
        if not changed.any() or cells >= max_cells:
            break
        # Next: offers that changed, and offers that could take a need given up (freed pool members).
        visit = changed.copy()
        left = out_all[assign[out_all] == UNASSIGNED]
        for c in np.unique(prep.cls[left]).tolist():
            visit[prep.class_offers[c]] = True
    return assign, ExchangeStats(gain=gain, sweeps=sweeps, swaps=swaps, cells=cells)
