"""Integer solutions by greedy passes: the LP-guided rounding and the plain greedy baseline.

Both walk needs in a given order and give each whole need to one eligible offer that still has room,
keeping the household cap; they differ in the order and in which offer they prefer.
"""

from __future__ import annotations

import numpy as np

from matching.data import NO_CLASS, IntArray, Prepared
from matching.flow import FlowSolution

UNASSIGNED = -1


def _household_room(prep: Prepared) -> IntArray:
    room = np.iinfo(np.int64).max if prep.household_cap is None else prep.household_cap
    return np.full(prep.n_households, room, dtype=np.int64)


def greedy(
    prep: Prepared,
    order: IntArray,
    budgets: list[IntArray] | None = None,
    assign: IntArray | None = None,
) -> IntArray:
    """Assign needs in ``order``; each goes whole to an eligible offer with room, within the cap.

    Without ``budgets`` the offer with most room left is taken. With ``budgets`` (per class, aligned
    with its offers: rupiah the LP sent from that offer to that class) the offer with the largest
    remaining budget among those with room is preferred. ``assign`` (offer per need) is extended in
    place when given, so a pass can continue an earlier one.
    """
    rem, hh, cls = prep.remainder, prep.household, prep.cls
    if assign is None:
        assign = np.full(prep.n_needs, UNASSIGNED, dtype=np.int64)
    resid = prep.capacity.copy()
    hroom = _household_room(prep)
    done = np.flatnonzero(assign != UNASSIGNED)
    np.subtract.at(resid, assign[done], rem[done])
    np.subtract.at(hroom, hh[done], rem[done])
    class_offers = prep.class_offers
    for i in order.tolist():
        c = int(cls[i])
        if c == NO_CLASS or assign[i] != UNASSIGNED:
            continue
        r = int(rem[i])
        h = int(hh[i])
        if hroom[h] < r:
            continue
        offs = class_offers[c]
        room = resid[offs]
        if budgets is None:
            k = int(np.argmax(room))
            if room[k] < r:
                continue
        else:
            # Choose only among offers that still fit: a budget can be negative (a need larger than
            # what was left of it), so masking the others with a constant such as -1 could let an
            # offer without room win.
            fits = room >= r
            if not fits.any():
                continue
            bud = budgets[c]
            fitting = np.flatnonzero(fits)
            k = int(fitting[np.argmax(bud[fitting])])
            if bud[k] <= 0:
                k = int(fitting[np.argmax(room[fitting])])
            else:
                bud[k] -= r
        j = int(offs[k])
        assign[i] = j
        resid[j] -= r
        hroom[h] -= r
    return assign


def baseline_order(prep: Prepared) -> IntArray:
    """Highest priority first (ties: instance order)."""
    idx = np.arange(prep.n_needs)
    return np.lexsort((idx, -prep.priority))


def baseline(prep: Prepared) -> IntArray:
    """The greedy baseline: highest priority first, to the eligible offer with most room left."""
    return greedy(prep, baseline_order(prep))


def lp_order(prep: Prepared, flow: FlowSolution, first: np.ndarray | None = None) -> IntArray:
    """Needs the LP serves fully first, then by served fraction, then by priority per rupiah.

    ``first`` (a mask over needs, e.g. the Lagrangian subproblem's choice, which respects every
    household's cap exactly) puts those needs before all others, in the same order among themselves.
    """
    rem = np.maximum(prep.remainder, 1)
    frac = flow.need_flow / rem
    density = prep.priority / rem
    idx = np.arange(prep.n_needs)
    if first is None:
        return np.lexsort((idx, -prep.priority, -density, -frac))
    return np.lexsort((idx, -prep.priority, -density, -frac, ~first.astype(bool)))


def lp_rounding(prep: Prepared, flow: FlowSolution, first: np.ndarray | None = None) -> IntArray:
    budgets = [b.copy() for b in flow.class_offer_flow]
    return greedy(prep, lp_order(prep, flow, first), budgets=budgets)


def objective(prep: Prepared, assign: IntArray) -> int:
    return int(prep.priority[assign != UNASSIGNED].sum())
