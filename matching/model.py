"""Solve a matching instance: LP bound by min-cost flow, LP-guided rounding, CP-SAT improvement.

Sections, each a function: data (:func:`matching.data.prepare`) -> relaxation and bound
(:func:`matching.flow.solve_flow`) -> integer start (:mod:`matching.heuristic`) -> CP-SAT (variables,
constraints, objective, solve in :mod:`matching.cpsat`) -> extract (:func:`extract`).

* Small instances (``pairs <= exact_pairs_limit``) get the full CP-SAT model, hinted with the rounded
  LP solution; CP-SAT's own bound can then prove optimality.
* Every instance gets the Lagrangian bound (:mod:`matching.lagrange`: offer capacities priced by the
  flow's duals, each household's cap solved exactly, offers where few needs fit bounded as knapsacks),
  and the rounding takes the needs that bound's subproblem chose first; then each offer swaps its
  weakest needs for unserved ones that fill its room better (:mod:`matching.exchange`, a knapsack per
  offer, never lowering the objective).
* Larger ones get CP-SAT on a neighbourhood: the needs the LP serves only in part or the rounding
  dropped, competing with the lowest-value matched needs for the same offers and households, all
  else fixed.

The bound reported is the smallest of the flow bound, the Lagrangian bound and CP-SAT's bound (on the
full model only);
status is ``OPTIMAL`` only when the objective equals it. Deterministic for fixed settings: no wall-clock
limit decides anything (CP-SAT runs under a *deterministic* time limit, with ``interleave_search`` when
it has several workers), and every ordering has an index tie-break.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matching.checker import guard
from matching.cpsat import Neighbourhood, solve_neighbourhood
from matching.data import NO_CLASS, IntArray, Prepared, offer_needs, prepare
from matching.exchange import exchange
from matching.flow import FlowSolution, solve_flow
from matching.heuristic import UNASSIGNED, baseline, greedy, lp_rounding, objective
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
from matching.lagrange import lagrangian_bound
from matching.marginal import marginal_values

# CP-SAT deterministic time units granted per second of ``time_limit``. Measured on the 2-core
# benchmark machine: one unit takes 1.5-2.8 s of wall time including building the models in Python.
DETERMINISTIC_PER_SECOND = 0.4
MAX_SWEEPS = 20
# Knapsack cells of the exchange search (matching.exchange) granted per second of ``time_limit``: counted
# work, so the result never depends on the clock. Measured: 460 M cells took 1.2 s at city scale.
EXCHANGE_CELLS_PER_SECOND = 200_000_000
# Above this sum of amounts the flow and CP-SAT models could overflow int64: such instances (amounts
# near 2**63) get the greedy passes, which only ever subtract, and the trivial bound.
SAFE_MAGNITUDE = 1 << 52


@dataclass(frozen=True)
class SolverSettings:
    """Solver parameters.

    ``time_limit`` (seconds) is the budget of the CP-SAT phase. It is counted in CP-SAT's
    *deterministic* time (``DETERMINISTIC_PER_SECOND`` units a second), never in wall-clock time, so
    the same instance with the same settings always gives the same result; the wall time it takes is
    about ``time_limit`` on the benchmark machine. ``workers`` > 1 uses CP-SAT's interleaved search,
    which stays deterministic. The flow bound and the rounding always run to completion.
    """

    time_limit: float = 30.0
    workers: int = 1
    seed: int = 0
    exact_pairs_limit: int = 50_000  # full CP-SAT model up to this many eligible pairs
    # CP-SAT neighbourhoods up to this many pairs; above, rounding only (at 1.4 M pairs the LNS took
    # 24 s of wall time for +0.002 %: its neighbourhoods are built in Python).
    lns_pairs_limit: int = 1_000_000
    lagrange_steps: int = 12  # subgradient steps of the Lagrangian bound (only with a binding cap)
    neighbourhood_size: int = 2_000  # about this many pairs per neighbourhood (doubled when stuck)
    exchange_sweeps: int = 3  # sweeps of the per-offer knapsack exchange after the rounding (0: none)
    # The exchange search and the offers' knapsack bounds read a flat list of the eligible pairs (8 bytes
    # a pair, about 32 while it is built: 0.4 GB at the bench's 13 M pairs); above this many, both are
    # skipped so that memory stays far below 4 GB.
    pair_list_limit: int = 30_000_000


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


def exact(
    prep: Prepared, assign: IntArray, bound: int, budget: float, settings: SolverSettings, info: dict[str, Any]
) -> tuple[IntArray, int]:
    """The full CP-SAT model, hinted with ``assign``; returns the assignment and the tightened bound."""
    hood = Neighbourhood(np.flatnonzero(prep.cls != NO_CLASS), np.ones(prep.n_offers, dtype=bool))
    sub = solve_neighbourhood(prep, assign, hood, budget, settings.workers, settings.seed, upper_bound=bound)
    info["method"] = info.get("method", "flow") + "+exact"
    if sub.proven_optimal:
        return sub.assign, objective(prep, sub.assign)
    if not np.isfinite(sub.bound):  # stopped before CP-SAT had a bound: keep the flow bound
        return sub.assign, bound
    return sub.assign, min(bound, int(np.floor(sub.bound + 1e-6)))


def _batches(
    prep: Prepared, flow: FlowSolution, assign: IntArray, size: int, rng: np.random.Generator | None
) -> list[IntArray]:
    """Offers in batches of one kind, kinds with the largest LP-minus-incumbent value first.

    The first pass takes offers of a kind in index order; later passes (``rng`` given) shuffle them so
    that other offers meet in one neighbourhood.
    """
    rem = np.maximum(prep.remainder, 1)
    lp_by_kind = np.bincount(prep.need_kind, weights=prep.priority * flow.need_flow / rem, minlength=8)
    got = assign != UNASSIGNED
    int_by_kind = np.bincount(prep.need_kind[got], weights=prep.priority[got], minlength=8)
    assigned_per_offer = np.bincount(assign[got], minlength=prep.n_offers)
    batches: list[IntArray] = []
    for k in np.lexsort((np.arange(8), -(lp_by_kind - int_by_kind))).tolist():
        if lp_by_kind[k] - int_by_kind[k] < 1e-9:
            continue
        of_kind = np.flatnonzero(prep.offer_kind == k)
        if rng is not None:
            of_kind = rng.permutation(of_kind)
        current: list[int] = []
        load = 0
        for j in of_kind.tolist():
            current.append(j)
            load += 3 * int(assigned_per_offer[j]) + 30
            if load * min(len(current), 10) >= size:
                batches.append(np.array(current, dtype=np.int64))
                current, load = [], 0
        if current:
            batches.append(np.array(current, dtype=np.int64))
    return batches


def _neighbourhood(
    prep: Prepared,
    flow: FlowSolution,
    assign: IntArray,
    offers: IntArray,
    members: list[IntArray],
    offer_classes: list[list[int]],
) -> Neighbourhood:
    """Needs given to ``offers`` plus the best unassigned candidates of the classes they serve."""
    mask = np.zeros(prep.n_offers, dtype=bool)
    mask[offers] = True
    held = np.flatnonzero(np.isin(assign, offers))
    classes = sorted({c for j in offers.tolist() for c in offer_classes[j]})
    pool = np.concatenate([members[c] for c in classes]) if classes else np.zeros(0, dtype=np.int64)
    pool = pool[assign[pool] == UNASSIGNED]
    rem = np.maximum(prep.remainder[pool], 1)
    rank = np.lexsort((pool, -prep.priority[pool] / rem, -flow.need_flow[pool] / rem))
    take = pool[rank[: 2 * len(held) + 100]]
    return Neighbourhood(np.unique(np.concatenate([held, take])), mask)


def improve(
    prep: Prepared,
    flow: FlowSolution,
    assign: IntArray,
    bound: int,
    budget: float,
    settings: SolverSettings,
    info: dict[str, Any],
) -> tuple[IntArray, float]:
    """Large neighbourhood search: CP-SAT re-solves batches of offers of one kind, the rest fixed.

    Sweeps over all batches while it gains and ``budget`` (deterministic time) lasts; a sweep without
    gain doubles the neighbourhood size. Returns the assignment and the deterministic time used.
    """
    cand = np.flatnonzero(prep.cls != NO_CLASS)
    order = np.lexsort((cand, prep.cls[cand]))
    sorted_cand = cand[order]
    bounds = np.searchsorted(prep.cls[sorted_cand], np.arange(prep.n_classes + 1))
    members = [sorted_cand[bounds[c] : bounds[c + 1]] for c in range(prep.n_classes)]
    offer_classes: list[list[int]] = [[] for _ in range(prep.n_offers)]
    for c, offs in enumerate(prep.class_offers):
        for j in offs.tolist():
            offer_classes[j].append(c)
    used = 0.0
    solved = 0
    size = settings.neighbourhood_size
    rng = np.random.default_rng(settings.seed)
    value = objective(prep, assign)
    for sweep in range(MAX_SWEEPS):
        start_value = value
        batches = _batches(prep, flow, assign, size, rng if sweep else None)
        for b, offers in enumerate(batches):
            if used >= budget:
                break
            share = min((budget - used) / (len(batches) - b), max(0.5, budget / 10))
            hood = _neighbourhood(prep, flow, assign, offers, members, offer_classes)
            sub = solve_neighbourhood(prep, assign, hood, share, settings.workers, settings.seed)
            used += sub.deterministic_time
            assign = sub.assign
            value = objective(prep, assign)
            solved += 1
        if used >= budget or value >= bound:
            break
        if value == start_value:  # no gain in a whole sweep: larger neighbourhoods
            if size >= 3 * prep.pairs:
                break
            size *= 2
    info["method"] = "flow+lns"
    info["lns_neighbourhoods"] = solved
    info["lns_deterministic_time"] = round(used, 2)
    return assign, used


def solve(instance: Instance, settings: SolverSettings | None = None) -> Result:
    """Solve ``instance``; the result has passed the independent checker (:func:`matching.checker.guard`)."""
    start = time.perf_counter()
    result = _solve(instance, settings or SolverSettings(), start)
    t = time.perf_counter()
    result = guard(instance, result)
    info = dict(result.info)
    info["check_s"] = round(time.perf_counter() - t, 3)
    seconds = time.perf_counter() - start
    return replace(result, stats=replace(result.stats, seconds=seconds), info=info)


def _solve(instance: Instance, settings: SolverSettings, start: float) -> Result:
    info: dict[str, Any] = {}
    prep = prepare(instance)
    info["pairs"] = prep.pairs
    info["prepare_s"] = round(time.perf_counter() - start, 3)
    if prep.magnitude > SAFE_MAGNITUDE:
        return _solve_huge(instance, prep, start, info)
    flow = solve_flow(prep)
    info["flow_s"] = round(flow.seconds, 3)
    info["lp_value"] = flow.lp_value
    bound = flow.bound
    t = time.perf_counter()
    info["marginal_values"] = [m.to_json() for m in marginal_values(instance, prep, flow)]
    info["marginal_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    greedy_assign = baseline(prep)
    info["baseline_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    pairs = offer_needs(prep) if prep.pairs <= settings.pair_list_limit else None
    info["pair_list_s"] = round(time.perf_counter() - t, 3)
    lag = lagrangian_bound(prep, flow, objective(prep, greedy_assign), steps=settings.lagrange_steps, pairs=pairs)
    info["lagrange_s"] = round(lag.seconds, 3)
    info["lagrange_bound"] = lag.bound
    info["lagrange_steps"] = lag.steps
    info["lagrange_bound_without_knapsacks"] = lag.without_knapsacks
    info["knapsack_offers"] = lag.knapsack_offers
    info["flow_bound"] = flow.bound
    bound = min(bound, lag.bound)
    t = time.perf_counter()
    # The subproblem's needs (each household's best set within its cap at the prices) first.
    assign = lp_rounding(prep, flow, first=lag.chosen)
    if objective(prep, greedy_assign) > objective(prep, assign):
        assign = greedy_assign
    info["rounding_s"] = round(time.perf_counter() - t, 3)
    info["rounding_objective"] = objective(prep, assign)
    if objective(prep, assign) < bound and pairs is not None and settings.exchange_sweeps > 0:
        t = time.perf_counter()
        cells = int(settings.time_limit * EXCHANGE_CELLS_PER_SECOND)
        assign, ex = exchange(prep, assign, max_sweeps=settings.exchange_sweeps, max_cells=cells, pairs=pairs)
        info["exchange_s"] = round(time.perf_counter() - t, 3)
        info["exchange_gain"] = ex.gain
        info["exchange_sweeps"] = ex.sweeps
        info["exchange_swaps"] = ex.swaps
    pairs = None  # the flat pair list is not needed any more (CP-SAT builds its own models)
    t = time.perf_counter()
    info["method"] = "flow+rounding"
    budget = settings.time_limit * DETERMINISTIC_PER_SECOND
    if objective(prep, assign) < bound and prep.pairs <= settings.lns_pairs_limit:
        # Small instances keep half the budget for the full model (its bound can prove optimality).
        share = budget / 2 if prep.pairs <= settings.exact_pairs_limit else budget
        assign, used = improve(prep, flow, assign, bound, share, settings, info)
        budget -= used
    if objective(prep, assign) < bound and prep.pairs <= settings.exact_pairs_limit and budget > 0:
        assign, bound = exact(prep, assign, bound, budget, settings, info)
    info["cpsat_s"] = round(time.perf_counter() - t, 3)
    return extract(instance, prep, assign, bound, time.perf_counter() - start, info)


def _solve_huge(instance: Instance, prep: Prepared, start: float, info: dict[str, Any]) -> Result:
    """Amounts too large for the models: the better greedy pass, bounded by all candidates' priority."""
    by_priority = baseline(prep)
    rem = np.maximum(prep.remainder, 1)
    by_density = greedy(prep, np.lexsort((np.arange(prep.n_needs), -prep.priority / rem)))
    assign = max(by_priority, by_density, key=lambda a: objective(prep, a))
    bound = sum(int(p) for p in prep.priority[prep.cls != NO_CLASS].tolist())
    info["method"] = "greedy (amounts too large for the models)"
    info["marginal_values"] = []
    return extract(instance, prep, assign, bound, time.perf_counter() - start, info)


def solve_json(data: dict[str, Any], settings: SolverSettings | None = None) -> dict[str, Any]:
    """Parse (raises :class:`~matching.instance.InstanceError`), solve, and return the result form."""
    return solve(parse_instance(data), settings).to_json()
