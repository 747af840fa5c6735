"""CP-SAT over a set of free needs and offers, everything else fixed.

With all candidate needs and all offers free this is the exact model (its bound is global); with a
neighbourhood it improves an incumbent (large neighbourhood search, its bound says nothing global).
Sections: pairs (data) -> variables -> constraints -> objective -> solve -> extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.data import IntArray, Prepared
from matching.heuristic import UNASSIGNED


@dataclass(frozen=True)
class Neighbourhood:
    needs: IntArray  # free needs (candidates), ascending
    offer_mask: np.ndarray  # offers a free need may go to


@dataclass(frozen=True)
class SubResult:
    assign: IntArray  # full assignment (incumbent with the neighbourhood re-solved)
    proven_optimal: bool
    bound: float  # CP-SAT's objective bound over the free needs (plus fixed objective)
    deterministic_time: float


def _pairs(prep: Prepared, hood: Neighbourhood) -> tuple[IntArray, IntArray]:
    need_parts, offer_parts = [], []
    for i in hood.needs.tolist():
        offs = prep.class_offers[int(prep.cls[i])]
        offs = offs[hood.offer_mask[offs]]
        need_parts.append(np.full(len(offs), i, dtype=np.int64))
        offer_parts.append(offs)
    if not need_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(need_parts), np.concatenate(offer_parts)


def solve_neighbourhood(
    prep: Prepared,
    incumbent: IntArray,
    hood: Neighbourhood,
    time_limit: float,
    workers: int,
    seed: int,
    upper_bound: int | None = None,
) -> SubResult:
    """Re-solve the free needs of ``hood`` with CP-SAT, starting from ``incumbent``.

    ``upper_bound`` (a proven bound on the whole objective, only meaningful with nothing fixed) is added
    as a constraint so that CP-SAT stops as soon as it reaches it.
    """
    rem, pri, hh = prep.remainder, prep.priority, prep.household
    free = np.zeros(prep.n_needs, dtype=bool)
    free[hood.needs] = True
    fixed = (~free) & (incumbent != UNASSIGNED)
    fixed_idx = np.flatnonzero(fixed)
    fixed_obj = int(pri[fixed_idx].sum())
    # Room left by the fixed part.
    resid = prep.capacity.copy()
    np.subtract.at(resid, incumbent[fixed_idx], rem[fixed_idx])
    cap = prep.household_cap
    hroom = None
    if cap is not None:
        hroom = np.full(prep.n_households, cap, dtype=np.int64)
        np.subtract.at(hroom, hh[fixed_idx], rem[fixed_idx])

    # ---- data
    pn, po = _pairs(prep, hood)
    model = cp_model.CpModel()
    # ---- variables
    x = [model.new_bool_var(f"x{k}") for k in range(len(pn))]
    # ---- constraints
    by_need: dict[int, list[int]] = {}
    by_offer: dict[int, list[int]] = {}
    for k, (i, j) in enumerate(zip(pn.tolist(), po.tolist(), strict=True)):
        by_need.setdefault(i, []).append(k)
        by_offer.setdefault(j, []).append(k)
    for ks in by_need.values():  # whole need, one giver
        if len(ks) > 1:
            model.add_at_most_one(x[k] for k in ks)
    for j, ks in sorted(by_offer.items()):  # capacity
        if int(rem[pn[ks]].sum()) > resid[j]:
            model.add(cp_model.LinearExpr.weighted_sum([x[k] for k in ks], rem[pn[ks]].tolist()) <= int(resid[j]))
    if hroom is not None:  # household cap
        by_hh: dict[int, list[int]] = {}
        for i, ks in by_need.items():
            by_hh.setdefault(int(hh[i]), []).extend(ks)
        for h, ks in sorted(by_hh.items()):
            need_set = sorted(set(pn[ks].tolist()))
            if int(rem[need_set].sum()) > hroom[h]:
                model.add(cp_model.LinearExpr.weighted_sum([x[k] for k in ks], rem[pn[ks]].tolist()) <= int(hroom[h]))
    # ---- objective
    gain = cp_model.LinearExpr.weighted_sum(x, pri[pn].tolist())
    if upper_bound is not None:
        model.add(gain <= upper_bound - fixed_obj)
    model.maximize(gain)
    for k, (i, j) in enumerate(zip(pn.tolist(), po.tolist(), strict=True)):
        model.add_hint(x[k], bool(incumbent[i] == j))

    # ---- solve
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_deterministic_time = max(0.01, time_limit)
    params.num_workers = max(1, workers)
    params.random_seed = seed
    if workers > 1:
        params.interleave_search = True  # deterministic with several workers
    params.log_search_progress = False
    params.linearization_level = 2
    status = solver.solve(model)

    # ---- extract
    assign = incumbent.copy()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SubResult(assign, False, float("inf"), solver.deterministic_time)
    assign[hood.needs] = UNASSIGNED
    values = [solver.boolean_value(v) for v in x]
    for k, v in enumerate(values):
        if v:
            assign[pn[k]] = po[k]
    if int(pri[assign != UNASSIGNED].sum()) < int(pri[incumbent != UNASSIGNED].sum()):
        return SubResult(incumbent.copy(), False, float("inf"), solver.deterministic_time)
    return SubResult(
        assign,
        status == cp_model.OPTIMAL,
        fixed_obj + solver.best_objective_bound,
        solver.deterministic_time,
    )
