"""The LP relaxation as a min-cost flow, for a proven upper bound and a near-integral start.

Relaxing "whole need" (rule 3) to "any part of the remainder", a need's gain ``priority`` is spread over
its remainder, ``priority / remainder`` per rupiah, and the problem becomes a max-profit flow::

    source --C_j--> offer j --> class c --r_i, gain p_i/r_i--> household h (or sink) --cap--> sink
    source --------------------------- bypass, gain 0 ----------------------------------------> sink

(classes group needs with the same eligible offers, see :mod:`matching.data`; a household gets a node
only when its candidate remainders exceed the cap). Every integer allocation is a flow of this network
with the same objective, so the flow optimum is an upper bound.

Min-cost flow needs integer unit costs. The gain per rupiah is scaled by ``S`` and rounded **up**:
``w_i = ceil(S * p_i / r_i)``. Any flow's scaled profit with ``w`` is at least ``S`` times its true
profit, so the flow optimum ``W*`` satisfies ``W* >= S * LP >= S * OPT`` and ``floor(W* / S)`` is a
proven upper bound on the (integer) objective; the rounding adds at most ``total flow / S``, and ``S``
is chosen as large as the int64 cost range of OR-Tools allows, up to a few times the total flow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.data import NO_CLASS, IntArray, Prepared

_LIMIT = 1 << 62


@dataclass(frozen=True)
class FlowSolution:
    bound: int  # floor(W* / S): proven upper bound on the objective
    lp_value: float  # W* / S
    need_flow: IntArray  # rupiah of each need's remainder served by the relaxation
    class_offer_flow: list[IntArray]  # per class, aligned with Prepared.class_offers[c]
    scale: int
    seconds: float


def _scale(prep: Prepared, cand: IntArray, n_nodes: int) -> int:
    r = prep.remainder[cand]
    p = prep.priority[cand]
    total_flow = int(min(int(prep.capacity.sum()), int(r.sum())))
    max_gain = float((p / r).max())
    # Cost range: OR-Tools scales costs by (n_nodes + 1); total cost must stay in int64.
    s_cost = _LIMIT / (4.0 * (n_nodes + 1) * max_gain)
    s_total = (_LIMIT / 4.0 - float(r.sum())) / float(p.sum())
    target = 4.0 * max(total_flow, 1)
    s = min(s_cost, s_total, target)
    return max(1, 1 << max(0, int(np.floor(np.log2(max(s, 1.0))))))


def solve_flow(prep: Prepared) -> FlowSolution:
    start = time.perf_counter()
    cand = np.flatnonzero(prep.cls != NO_CLASS)
    need_flow = np.zeros(prep.n_needs, dtype=np.int64)
    class_offer_flow = [np.zeros(len(o), dtype=np.int64) for o in prep.class_offers]
    if len(cand) == 0 or prep.n_offers == 0:
        return FlowSolution(0, 0.0, need_flow, class_offer_flow, 1, time.perf_counter() - start)

    # ---- nodes
    m, n_cls = prep.n_offers, prep.n_classes
    source, sink, offer0 = 0, 1, 2
    class0 = offer0 + m
    r = prep.remainder[cand]
    hh = prep.household[cand]
    cap = prep.household_cap
    hh_total = np.bincount(hh, weights=r, minlength=prep.n_households)
    capped = np.zeros(prep.n_households, dtype=bool) if cap is None else hh_total > cap
    capped_ids = np.flatnonzero(capped)
    hh_node = np.full(prep.n_households, sink, dtype=np.int64)
    hh_node[capped_ids] = class0 + n_cls + np.arange(len(capped_ids))
    n_nodes = class0 + n_cls + len(capped_ids)
    scale = _scale(prep, cand, n_nodes)
    p = prep.priority[cand]
    w = (scale * p + r - 1) // r  # ceil(S * p / r): rounding up keeps the bound valid

    # ---- arcs
    total_cap = int(prep.capacity.sum())
    cls_total = np.bincount(prep.cls[cand], weights=r, minlength=n_cls).astype(np.int64)
    oc_tail = np.concatenate(prep.class_offers) + offer0
    oc_class = np.repeat(np.arange(n_cls), [len(o) for o in prep.class_offers])
    oc_cap = np.minimum(prep.capacity[oc_tail - offer0], cls_total[oc_class])
    tails = np.concatenate(
        [[source], np.full(m, source), oc_tail, class0 + prep.cls[cand], hh_node[capped_ids]]
    ).astype(np.int32)
    heads = np.concatenate(
        [[sink], offer0 + np.arange(m), class0 + oc_class, hh_node[hh], np.full(len(capped_ids), sink)]
    ).astype(np.int32)
    caps = np.concatenate([[total_cap], prep.capacity, oc_cap, r, np.full(len(capped_ids), cap or 0)]).astype(np.int64)
    costs = np.concatenate([[0], np.zeros(m), np.zeros(len(oc_tail)), -w, np.zeros(len(capped_ids))]).astype(np.int64)

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = total_cap, -total_cap
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)

    # ---- solve
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")

    # ---- extract
    first_oc = 1 + m
    first_need = first_oc + len(oc_tail)
    flows = smcf.flows(arcs)
    need_flow[cand] = flows[first_need : first_need + len(cand)]
    oc_flow = flows[first_oc:first_need]
    bounds = np.cumsum([0] + [len(o) for o in prep.class_offers])
    class_offer_flow = [oc_flow[bounds[c] : bounds[c + 1]].astype(np.int64) for c in range(n_cls)]
    scaled_profit = sum(int(x) for x in (w * need_flow[cand]))
    return FlowSolution(
        bound=scaled_profit // scale,
        lp_value=scaled_profit / scale,
        need_flow=need_flow,
        class_offer_flow=class_offer_flow,
        scale=scale,
        seconds=time.perf_counter() - start,
    )
