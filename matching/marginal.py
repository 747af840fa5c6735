"""Where the next rupiah helps most: marginal value of more offers per kind x kecamatan, from the LP.

The linear relaxation (:mod:`matching.flow`) of the round, with its offers as they are, leaves some
needs (or parts of them) unserved. An extra offer of ``budget`` rupiah of kind *k* for kecamatan *X*
(every PPKS type, no ``max_per_need``) would serve, in the relaxation, the unserved rest of the needs of
kind *k* in *X* with the highest priority per rupiah first, within what the household cap leaves. We
report, per kind x kecamatan with need, the priority-weighted need that budget serves (the LP gain),
about how many households that is (fractions of needs add up) and their average priority.

This is the direct effect. A new offer could also take over needs an existing (e.g. city-wide) offer
now serves and free that offer's money; the value of that indirect effect is never more than the
direct value of the same kind elsewhere (the freed money goes to needs unserved in some kecamatan), so
the kind x kecamatan with the highest value here is also the best place for the budget in the LP.
Needs no offer could ever take (``no_eligible_offer``) count as unserved: that is where money is most
missing. Plain numbers out; nothing here knows about the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from matching.data import KIND_INDEX, Prepared
from matching.flow import FlowSolution
from matching.instance import KINDS, Instance, kecamatan_of

BUDGET = 1_000_000  # rupiah: "Rp 1 juta"


@dataclass(frozen=True, slots=True)
class MarginalValue:
    kind: str
    kecamatan: str
    value: float  # priority-weighted need served by ``budget`` more rupiah (LP gain)
    households: float  # about how many households that serves (fractions of needs add up)
    priority: float  # their average priority
    unserved_needs: int  # needs of this kind here the relaxation leaves (partly) unserved
    unserved_amount: int  # rupiah of those needs left unserved
    budget: int

    def to_json(self) -> dict[str, float | int | str]:
        return {
            "kind": self.kind, "kecamatan": self.kecamatan, "value": round(self.value, 4),
            "households": round(self.households, 3), "priority": round(self.priority, 2),
            "unserved_needs": self.unserved_needs, "unserved_amount": self.unserved_amount, "budget": self.budget,
        }  # fmt: skip


def marginal_values(
    instance: Instance, prep: Prepared, flow: FlowSolution, budget: int = BUDGET
) -> list[MarginalValue]:
    """One entry per kind x kecamatan that has needs, highest value first (ties: kind, kecamatan)."""
    n = prep.n_needs
    if n == 0:
        return []
    kec_index: dict[str, int] = {}
    kec = np.fromiter((kec_index.setdefault(kecamatan_of(x.kelurahan), len(kec_index)) for x in instance.needs),
                      dtype=np.int64, count=n)  # fmt: skip
    kec_codes = list(kec_index)
    rem = prep.remainder
    left = rem - flow.need_flow
    # Room the relaxation leaves each household under the cap; a need larger than the cap never fits.
    if prep.household_cap is None:
        room = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        fits = np.ones(n, dtype=bool)
    else:
        served = np.bincount(prep.household, weights=flow.need_flow, minlength=prep.n_households)
        room = np.maximum(prep.household_cap - served, 0).astype(np.int64)[prep.household]
        fits = rem <= prep.household_cap
    take = np.minimum(left, room)
    open_ = (take > 0) & fits
    groups = prep.need_kind * len(kec_codes) + kec
    has_need = np.zeros(len(KINDS) * len(kec_codes), dtype=bool)
    has_need[groups[rem > 0]] = True

    idx = np.flatnonzero(open_)
    density = prep.priority[idx] / np.maximum(rem[idx], 1)
    order = np.lexsort((idx, -density, groups[idx]))
    idx, density = idx[order], density[order]
    g = groups[idx]
    amounts = take[idx].astype(np.float64)
    cuts = [*(np.flatnonzero(np.r_[True, g[1:] != g[:-1]]).tolist() if len(g) else []), len(g)]
    out: list[MarginalValue] = []
    stats: dict[int, tuple[float, float, float, int, int]] = {}
    for s, e in pairwise(cuts):
        a = amounts[s:e]
        before = np.concatenate([[0.0], np.cumsum(a)[:-1]])
        used = np.clip(budget - before, 0, a)  # rupiah of the budget each need gets, best first
        frac = used / np.maximum(rem[idx[s:e]], 1)
        value = float((density[s:e] * used).sum())
        households = float(frac.sum())
        weighted = float((prep.priority[idx[s:e]] * frac).sum())
        stats[int(g[s])] = (value, households, weighted / households if households else 0.0, e - s,
                            int(left[idx[s:e]].sum()))  # fmt: skip
    for group in np.flatnonzero(has_need).tolist():
        value, households, priority, count, unserved = stats.get(group, (0.0, 0.0, 0.0, 0, 0))
        k, x = divmod(group, len(kec_codes))
        out.append(MarginalValue(KINDS[k], kec_codes[x], value, households, priority, count, unserved, budget))
    out.sort(key=lambda m: (-m.value, KIND_INDEX[m.kind], m.kecamatan))
    return out
