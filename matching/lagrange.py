"""A Lagrangian bound: offer capacities priced, each household's cap solved exactly as a 0/1 knapsack.

The min-cost-flow relaxation (:mod:`matching.flow`) lets a household at its cap take a fraction of one
more need; with tens of thousands of capped households that fraction is most of the gap. Here the
offers' capacities are moved into the objective with prices ``lam[j] >= 0`` (priority per rupiah):

    L(lam) = sum_j lam_j * C_j
           + sum_h max { sum_{i in S} (p_i - r_i * min_{j eligible for i} lam_j) :
                         S a set of h's candidate needs, sum_{i in S} r_i <= cap }

**Valid for any prices.** Take a feasible allocation, need ``i`` to offer ``j``: ``p_i = (p_i - lam_j r_i)
+ lam_j r_i <= v_i + lam_j r_i`` with ``v_i`` the need's best value above; the allocated needs of a
household fit its cap, so they are one of the sets ``S``; and ``sum_i lam_j r_i <= sum_j lam_j C_j``
because no offer is over-filled. So the objective is at most ``L(lam)``.

**At least as tight as the LP where the cap binds.** With the flow's optimal dual prices, replacing
the household knapsack by its fractional relaxation gives exactly the LP optimum (LP duality); the
0/1 knapsack is never above its fractional relaxation, and drops the fractional need.

The prices start from the flow's duals, read off its residual network by longest paths (the flow's
own integer-scaled gains, so the values are exact), and are then improved by a few projected
subgradient steps (Polyak step towards the incumbent). Each household's knapsack is solved by
enumerating its subsets with numpy (households grouped by their number of candidate needs; up to
``ENUMERATE_MAX`` needs), above that by its fractional (Dantzig) bound, which is still valid.
The value is computed in floating point and a margin far above the rounding error is added before
the floor, so the integer bound stays proven.

Where only a few needs fit an offer, ``lam_j C_j`` overstates what the offer can earn: the LP fills it
with a fraction of one more need. :func:`offer_knapsack_savings` splits each need's value between its
household and its offers and bounds those offers as 0/1 knapsacks (no household cap is needed for it;
this is what tightens the uncapped kelurahan-many shape, where ``L`` is the LP itself); since any prices
are valid, :func:`raise_prices` then raises those offers' prices where that lowers the bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.data import NO_CLASS, IntArray, Prepared
from matching.flow import FlowSolution

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

KNAPSACK_MAX_FIT = 30  # offers where at most this many needs fit together get their own knapsack bound
KNAPSACK_WIDTH = 16_000  # capacity cells of that knapsack (weights scaled down to fit, rounded down)
SEARCH_ITEMS = 64  # raise_prices judges an offer's knapsack on its 64 highest-priority and 64 densest needs
ENUMERATE_MAX = 10  # households with up to this many candidate needs: knapsack by enumeration
ROWS_PER_CHUNK = 1 << 22  # households x subsets evaluated at once (memory: 3 x 32 MB)
_NEG = -(1 << 60)


@dataclass(frozen=True)
class LagrangeBound:
    bound: int  # proven upper bound on the objective
    value: float  # L(prices) of the best prices
    prices: FloatArray  # per offer
    chosen: BoolArray  # per need: in the subproblem's solution at the best prices
    steps: int
    dual_iterations: int
    seconds: float
    knapsack_saving: float = 0.0  # taken off L(prices) by the offers' knapsacks (prices: those of ``bound``)
    knapsack_offers: int = 0  # offers bounded as knapsacks
    without_knapsacks: int | None = None  # the bound at the subgradient's best prices, no offer knapsacks


def flow_duals(prep: Prepared, flow: FlowSolution, max_iterations: int = 500) -> tuple[FloatArray, int]:
    """Dual prices of the offers' capacities from the optimal flow (longest paths in its residual network).

    ``y[v]`` is the scaled value of one more unit of flow at node ``v`` (longest path to the sink over
    residual arcs; the flow is optimal, so there is no positive cycle). An offer's price is
    ``y[offer] - y[source]`` when positive. Stopping early still gives prices ``>= 0``, which is all
    the bound needs.
    """
    m = prep.n_offers
    price = np.zeros(m, dtype=np.float64)
    cand = np.flatnonzero(prep.cls != NO_CLASS)
    if len(cand) == 0 or m == 0:
        return price, 0
    scale = flow.scale
    r = prep.remainder[cand]
    p = prep.priority[cand]
    w = (scale * p + r - 1) // r
    f = flow.need_flow[cand]
    c_of = prep.cls[cand]
    n_cls = prep.n_classes
    hh = prep.household[cand]
    cap = prep.household_cap
    hh_total = np.bincount(hh, weights=r, minlength=prep.n_households)
    capped = np.zeros(prep.n_households, dtype=bool) if cap is None else hh_total > cap
    hh_node = np.full(prep.n_households, -1, dtype=np.int64)
    capped_ids = np.flatnonzero(capped)
    hh_node[capped_ids] = np.arange(len(capped_ids))
    node = hh_node[hh]  # -1: the need's arc goes to the sink
    hh_flow = np.bincount(node[node >= 0], weights=f[node >= 0], minlength=len(capped_ids))
    hh_open = hh_flow < (cap or 0)

    oc_off = np.concatenate(prep.class_offers).astype(np.int64)
    oc_cls = np.repeat(np.arange(n_cls), [len(o) for o in prep.class_offers])
    oc_flow = np.concatenate(flow.class_offer_flow).astype(np.int64)
    off_flow = np.bincount(oc_off, weights=oc_flow, minlength=m).astype(np.int64)
    off_open = off_flow < prep.capacity
    off_used = off_flow > 0
    bypass_open = int(off_flow.sum()) > 0

    # Arcs that never change: a need not fully served into the sink (uncapped household).
    fwd_need = f < r
    fwd_sink = fwd_need & (node < 0)
    fwd_hh = np.flatnonzero(fwd_need & (node >= 0))
    bwd_hh = np.flatnonzero((f > 0) & (node >= 0))
    class_base = np.full(n_cls, _NEG, dtype=np.int64)
    np.maximum.at(class_base, c_of[fwd_sink], w[fwd_sink])
    # An offer -> class arc's capacity (min of the offer's capacity and the class's total) never binds
    # alone: the offer's own arc or the needs' arcs bind too. Left open, the prices land on the offers.
    oc_back = np.flatnonzero(oc_flow > 0)
    oc_fwd = np.arange(len(oc_off))

    y_cls = class_base.copy()
    y_off = np.full(m, _NEG, dtype=np.int64)
    y_hh = np.where(hh_open, 0, _NEG).astype(np.int64)
    y_src = 0 if bypass_open else _NEG
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        before = (y_cls.copy(), y_off.copy(), y_hh.copy(), y_src)
        # household <- class over a served need's reverse arc (gain -w)
        if len(bwd_hh):
            np.maximum.at(y_hh, node[bwd_hh], np.maximum(y_cls[c_of[bwd_hh]] - w[bwd_hh], _NEG))
        # class <- household over an unfilled need's arc (gain w)
        if len(fwd_hh):
            np.maximum.at(y_cls, c_of[fwd_hh], np.maximum(w[fwd_hh] + y_hh[node[fwd_hh]], _NEG))
        # class <- offer over a reverse arc carrying flow
        np.maximum.at(y_cls, oc_cls[oc_back], y_off[oc_off[oc_back]])
        # offer <- class over an open arc; offer <- source over its reverse arc
        np.maximum.at(y_off, oc_off[oc_fwd], y_cls[oc_cls[oc_fwd]])
        y_off = np.where(off_used, np.maximum(y_off, y_src), y_off)
        # source <- offer with room
        if off_open.any():
            y_src = max(y_src, int(y_off[off_open].max()))
        if (
            y_src == before[3]
            and np.array_equal(y_cls, before[0])
            and np.array_equal(y_off, before[1])
            and np.array_equal(y_hh, before[2])
        ):
            break
    base = y_src if y_src > _NEG // 2 else 0
    gain = np.where(y_off > _NEG // 2, y_off - base, 0)
    price = np.maximum(gain, 0).astype(np.float64) / scale
    return price, iterations


class Lagrangian:
    """The relaxed problem of one instance, evaluated for any prices (arrays built once)."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        cand = np.flatnonzero(prep.cls != NO_CLASS)
        self.cand = cand
        self.r = prep.remainder[cand].astype(np.float64)
        self.p = prep.priority[cand].astype(np.float64)
        self.c_of = prep.cls[cand]
        lens = np.array([len(o) for o in prep.class_offers], dtype=np.int64)
        self.co = np.concatenate(prep.class_offers).astype(np.int64) if len(lens) else np.zeros(0, np.int64)
        self.co_start = np.r_[0, np.cumsum(lens)[:-1]].astype(np.int64)
        self.co_seg = np.repeat(np.arange(len(lens)), lens)
        self.capacity = prep.capacity.astype(np.float64)
        cap = prep.household_cap
        self.cap = cap
        hh = prep.household[cand]
        hh_total = np.bincount(hh, weights=self.r, minlength=prep.n_households)
        capped = np.zeros(prep.n_households, dtype=bool) if cap is None else hh_total > cap
        in_capped = capped[hh]
        self.free = np.flatnonzero(~in_capped)  # positions (into cand) whose household never binds
        # Capped households grouped by their number of candidate needs: (households, k) positions.
        pos = np.flatnonzero(in_capped)
        order = pos[np.lexsort((pos, hh[pos]))]
        groups: dict[int, list[IntArray]] = {}
        self.large: list[IntArray] = []
        if len(order):
            h_sorted = hh[order]
            starts = np.flatnonzero(np.r_[True, h_sorted[1:] != h_sorted[:-1]])
            sizes = np.diff(np.r_[starts, len(order)])
            for k in np.unique(sizes).tolist():
                rows = starts[sizes == k]
                mat = order[rows[:, None] + np.arange(k)[None, :]]
                if k <= ENUMERATE_MAX:
                    groups.setdefault(k, []).append(mat)
                else:
                    self.large.extend(list(mat))
        self.groups = {k: np.concatenate(v) for k, v in sorted(groups.items())}
        self.masks = {
            k: ((np.arange(1 << k)[:, None] >> np.arange(k)[None, :]) & 1).astype(np.float64) for k in self.groups
        }

    def evaluate(self, prices: FloatArray) -> tuple[float, float, FloatArray, BoolArray]:
        """``(L, error margin, rupiah used per offer, chosen)`` for ``prices`` (chosen: per candidate position)."""
        n = len(self.cand)
        chosen = np.zeros(n, dtype=bool)
        m = self.prep.n_offers
        if n == 0:
            return 0.0, 1e-6, np.zeros(m), chosen
        vals = prices[self.co]
        least = np.minimum.reduceat(vals, self.co_start)
        is_min = np.flatnonzero(vals == least[self.co_seg])
        first = is_min[np.r_[True, self.co_seg[is_min[1:]] != self.co_seg[is_min[:-1]]]]
        best_offer = self.co[first]  # per class: the cheapest eligible offer (lowest index on ties)
        lam = least[self.c_of]
        v = self.p - self.r * lam
        terms: list[float] = []
        free = self.free[v[self.free] > 0]
        chosen[free] = True
        cap = float(self.cap or 0)
        for k, mat in self.groups.items():
            masks = self.masks[k]
            step = max(1, ROWS_PER_CHUNK // masks.shape[0])
            for s in range(0, len(mat), step):
                block = mat[s : s + step]
                vb = v[block]
                vb = np.where(vb > 0, vb, -1e30)
                tot_r = self.r[block] @ masks.T
                tot_v = vb @ masks.T
                tot_v[tot_r > cap] = -np.inf
                pick = masks[np.argmax(tot_v, axis=1)] > 0
                chosen[block[pick]] = True
        for row in self.large:  # fractional knapsack: still an upper bound on the household's best set
            good = row[v[row] > 0]
            good = good[np.lexsort((good, -(v[good] / self.r[good])))]
            room = cap
            for i in good.tolist():
                if self.r[i] <= room:
                    chosen[i] = True
                    room -= self.r[i]
                else:
                    terms.append(float(v[i]) * room / float(self.r[i]))
                    break
        picked = np.flatnonzero(chosen)
        terms.extend((prices * self.capacity).tolist())
        value = math.fsum(terms) + math.fsum(v[picked].tolist())
        used = np.bincount(best_offer[self.c_of[picked]], weights=self.r[picked], minlength=m).astype(np.float64)
        # Float error is below 1e-12 of the magnitudes summed; the margin is a thousand times that.
        scale = float(self.p.sum()) + float((prices * self.capacity).sum()) + float((self.r * lam).sum())
        margin = 1e-9 * scale + 1e-6
        return value, margin, used, chosen


def offer_knapsack_savings(
    relax: Lagrangian, prices: FloatArray, needs: IntArray, start: IntArray
) -> tuple[float, int]:
    """How far ``sum_j prices_j * C_j`` overstates what the offers can earn: ``(saving, offers bounded)``.

    Each need's value splits as ``p_i = u_i + q_i`` with ``q_i = min(p_i, r_i * min_j lam_j)`` (its
    cheapest eligible offer's price) and ``u_i = p_i - q_i`` (the household part, ``max(v_i, 0)`` above).
    A feasible allocation earns at most ``sum u`` over a household-feasible set plus, per offer, the
    best 0/1 knapsack of ``q`` over its eligible needs within its capacity (each need counted once on
    each side). ``L`` bounds that knapsack by ``lam_j C_j`` (every ``q_i <= lam_j r_i``); where only a
    few needs fit an offer (at most ``KNAPSACK_MAX_FIT``: the remainders of that many smallest ones
    already sum above the capacity) a dynamic programme bounds it more tightly. Its weights are the
    remainders divided by ``g = ceil(C / KNAPSACK_WIDTH)`` and rounded *down*, the capacity too, so
    every feasible set stays feasible and the programme's optimum is still an upper bound; per
    rounded weight only as many needs as can ever be taken together are kept (the best ``q`` first,
    a swap that keeps the weight and does not lower the value). Offers with many small needs keep
    ``lam_j C_j``: there the needs at the offer's price fill it to within rupiah.
    """
    prep = relax.prep
    n = prep.n_needs
    saving = 0.0
    bounded = 0
    if len(relax.cand) == 0:
        return 0.0, 0
    vals = prices[relax.co]
    least = np.minimum.reduceat(vals, relax.co_start)
    q = np.zeros(n, dtype=np.float64)
    q[relax.cand] = np.minimum(relax.p, relax.r * least[relax.c_of])
    rem = prep.remainder
    for j in np.flatnonzero(prices > 0).tolist():
        e = needs[start[j] : start[j + 1]]
        e = e[q[e] > 0]
        best = _knapsack(rem[e], q[e], int(prep.capacity[j]))
        if best is None:
            continue  # more than KNAPSACK_MAX_FIT needs fit together
        saving += max(0.0, float(prices[j]) * int(prep.capacity[j]) - best)
        bounded += 1
    return saving, bounded


def _knapsack(rem: IntArray, value: FloatArray, capacity: int, width: int = KNAPSACK_WIDTH) -> float | None:
    """An upper bound on the best 0/1 knapsack of ``value`` within ``capacity`` (see
    :func:`offer_knapsack_savings`), or ``None`` when more than ``KNAPSACK_MAX_FIT`` needs fit together."""
    k = KNAPSACK_MAX_FIT + 1
    if len(rem) >= k and int(np.partition(rem, k - 1)[:k].sum()) <= capacity:
        return None
    g = max(1, -(-capacity // width))
    cells = capacity // g
    w = rem // g
    free = float(value[w == 0].sum())  # rounded to weight 0: all of them fit
    w, value = w[w > 0], value[w > 0]
    order = np.lexsort((-value, w))
    w, value = w[order], value[order]
    first = np.flatnonzero(np.r_[True, w[1:] != w[:-1]]) if len(w) else np.zeros(0, np.int64)
    rank = np.arange(len(w)) - np.repeat(first, np.diff(np.r_[first, len(w)]))
    keep = rank < np.minimum(cells // np.maximum(w, 1), KNAPSACK_MAX_FIT)
    dp = np.zeros(cells + 1, dtype=np.float64)
    for wi, vi in zip(w[keep].tolist(), value[keep].tolist(), strict=True):
        dp[wi:] = np.maximum(dp[wi:], dp[: cells + 1 - wi] + vi)
    return free + float(dp[-1])


def raise_prices(
    relax: Lagrangian,
    prices: FloatArray,
    needs: IntArray,
    start: IntArray,
    factors: tuple[float, ...] = (1.5, 2.5, 4.0),
    width: int = 2_000,
    max_terms: int = 20_000,
) -> FloatArray:
    """Prices of the offers bounded as knapsacks, raised one offer at a time where that lowers the bound.

    Any prices give a valid bound, so this is a search. Raising offer ``j``'s price moves value of the
    needs whose cheapest offer it is from the household part to the offer part, where the knapsacks of
    the few-need offers can cut it. It changes only the terms of ``j``'s eligible needs and of the
    knapsack offers that share one of them, so each try is judged on those alone (with a coarser
    knapsack, ``width`` cells); the caller keeps the new prices only if the whole bound is lower. The
    work is counted: after ``max_terms`` knapsacks the search stops (many offers sharing needs, e.g.
    city-wide tiny offers, would otherwise cost minutes), so it never depends on the clock.
    """
    prep = relax.prep
    prices = prices.copy()
    if len(relax.cand) == 0:
        return prices
    rem = prep.remainder
    pri = prep.priority.astype(np.float64)
    cls = prep.cls
    class_offers = prep.class_offers
    least = np.minimum.reduceat(prices[relax.co], relax.co_start)
    offer_classes: list[list[int]] = [[] for _ in range(prep.n_offers)]
    for c, offs in enumerate(class_offers):
        for j in offs.tolist():
            offer_classes[j].append(c)

    def q_of(e: IntArray) -> FloatArray:
        return np.minimum(pri[e], rem[e] * least[cls[e]])

    knapsack = np.zeros(prep.n_offers, dtype=bool)
    items: dict[int, IntArray] = {}
    for j in np.flatnonzero(prices > 0).tolist():
        e = needs[start[j] : start[j + 1]]
        e = e[q_of(e) > 0]
        k = KNAPSACK_MAX_FIT + 1
        knapsack[j] = not (len(e) >= k and int(np.partition(rem[e], k - 1)[:k].sum()) <= int(prep.capacity[j]))
        if knapsack[j] and len(e) > 2 * SEARCH_ITEMS:  # the search judges on the likeliest needs only
            by_priority = e[np.lexsort((e, -pri[e]))][:SEARCH_ITEMS]
            by_density = e[np.lexsort((e, -pri[e] / np.maximum(rem[e], 1)))][:SEARCH_ITEMS]
            e = np.union1d(by_priority, by_density)
        items[j] = e

    terms = [0]

    def term(k: int) -> float:
        terms[0] += 1
        e = items[k]
        q = q_of(e)
        e, q = e[q > 0], q[q > 0]
        full = float(prices[k]) * int(prep.capacity[k])
        best = _knapsack(rem[e], q, int(prep.capacity[k]), width)
        return full if best is None else min(full, best)

    for j in np.flatnonzero(knapsack).tolist():
        if terms[0] >= max_terms:
            break
        e = needs[start[j] : start[j + 1]]
        household = np.maximum(0.0, pri[e] - rem[e] * least[cls[e]])
        if not (household > 0).any():
            continue  # no household part to move: a higher price only raises the knapsacks
        mine = np.array(offer_classes[j], dtype=np.int64)
        lens = np.array([len(class_offers[c]) for c in mine.tolist()], dtype=np.int64)
        idx = np.concatenate([class_offers[c] for c in mine.tolist()])
        cuts = np.r_[0, np.cumsum(lens)[:-1]]
        touched = np.unique(idx[knapsack[idx]]).tolist()

        def local(e: IntArray = e, touched: list[int] = touched) -> float:
            household = float(np.maximum(0.0, pri[e] - rem[e] * least[cls[e]]).sum())
            return household + sum(term(k) for k in touched)

        base_price = float(prices[j])
        best_value, best_price = local(), base_price
        for f in factors:
            prices[j] = base_price * f
            least[mine] = np.minimum.reduceat(prices[idx], cuts)
            value = local()
            if value >= best_value - 1e-9:
                break  # the bound rose again: higher prices will not help this offer
            best_value, best_price = value, float(prices[j])
        prices[j] = best_price
        least[mine] = np.minimum.reduceat(prices[idx], cuts)
    return prices


def lagrangian_bound(
    prep: Prepared,
    flow: FlowSolution,
    lower: int,
    steps: int = 12,
    relax: Lagrangian | None = None,
    pairs: tuple[IntArray, IntArray] | None = None,
) -> LagrangeBound:
    """The best ``L(prices)`` over the flow's duals and ``steps`` subgradient steps towards ``lower``.

    With ``pairs`` (:func:`matching.data.offer_needs`) the offers where few needs fit are bounded as
    knapsacks at those prices too (:func:`offer_knapsack_savings`).
    """
    start = time.perf_counter()
    relax = relax or Lagrangian(prep)
    prices, iterations = flow_duals(prep, flow)
    if not relax.groups and not relax.large:
        steps = 0  # no cap binds: the subproblem is integral, its best prices give the LP value itself
    best: tuple[float, float, FloatArray, BoolArray] | None = None
    theta = 1.0
    stall = 0
    done = 0
    for done in range(steps + 1):
        value, margin, used, chosen = relax.evaluate(prices)
        if best is None or value + margin < best[0] + best[1]:
            best = (value, margin, prices.copy(), chosen)
            stall = 0
        else:
            stall += 1
            if stall >= 2:
                theta /= 2
                stall = 0
        if done == steps or value <= lower:
            break
        g = relax.capacity - used
        g = np.where((prices <= 0) & (g > 0), 0.0, g)
        norm = float(g @ g)
        if norm == 0.0:
            break
        prices = np.maximum(0.0, prices - theta * (value - lower) / norm * g)
    assert best is not None
    value, margin, best_prices, chosen_pos = best
    chosen = np.zeros(prep.n_needs, dtype=bool)
    chosen[relax.cand[chosen_pos]] = True
    saving, bounded = 0.0, 0
    plain = math.floor(value + margin)
    if pairs is not None:
        saving, bounded = offer_knapsack_savings(relax, best_prices, *pairs)
        raised = raise_prices(relax, best_prices, *pairs)
        if not np.array_equal(raised, best_prices):  # any prices are valid: keep the lower bound
            r_value, r_margin, _, _ = relax.evaluate(raised)
            r_saving, r_bounded = offer_knapsack_savings(relax, raised, *pairs)
            if r_value + r_margin - r_saving < value + margin - saving:
                value, margin, saving, bounded, best_prices = r_value, r_margin, r_saving, r_bounded, raised
        # The programme's float sums err far below this margin; subtracting it keeps the bound proven.
        saving = max(0.0, saving - (1e-9 * float((best_prices * relax.capacity).sum()) + 1e-6))
    return LagrangeBound(
        bound=math.floor(value + margin - saving),
        knapsack_saving=saving,
        knapsack_offers=bounded,
        without_knapsacks=plain,
        value=value,
        prices=best_prices,
        chosen=chosen,
        steps=done,
        dual_iterations=iterations,
        seconds=time.perf_counter() - start,
    )
