"""Data section: the instance turned into numpy arrays and eligibility classes.

Eligibility (rule 2) depends only on a need's (kind, kelurahan, ppks) and on its remainder compared with
each offer's ``max_per_need``. Needs that share (kind, kelurahan, ppks) form a *base class*; its
eligible offers, sorted by their limit, are cut by the remainder into a suffix, so every need belongs
to one *class* (base class, cut) whose eligible offers are the same list. At city scale there are a few
tens of thousands of classes for hundreds of thousands of needs, so pairs (millions) are never
materialised one by one: the flow network links offers to classes, and classes to needs.

An offer's *limit* is ``min(max_per_need, capacity)``: an offer whose whole capacity is smaller than a
remainder could never take that need either (rule 4), and a need larger than the household cap could
never be matched (rule 5). Such needs are reported as ``no_eligible_offer`` ("no offer could ever
take it"); dropping these impossible pairs keeps the model exact and makes the LP bound tighter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.instance import KINDS, PPKS_MAX, Instance, aid_totals, kecamatan_of

IntArray = npt.NDArray[np.int64]

KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
NO_CLASS = -1


@dataclass(frozen=True)
class Prepared:
    """Arrays over needs (instance order) and offers, plus eligibility classes."""

    remainder: IntArray  # rule 1, per need
    priority: IntArray
    household: IntArray  # household index per need
    n_households: int
    household_cap: int | None
    cls: IntArray  # class per need, NO_CLASS when the need has no candidate (or remainder 0)
    capacity: IntArray  # per offer
    need_kind: IntArray  # index into KINDS, per need
    offer_kind: IntArray  # index into KINDS, per offer
    class_offers: list[IntArray]  # per class: eligible offer indices, ascending
    pairs: int  # number of eligible (need, offer) pairs with remainder > 0
    magnitude: int = 0  # exact (Python int) sum of capacities and of candidate remainders

    @property
    def n_needs(self) -> int:
        return len(self.remainder)

    @property
    def n_offers(self) -> int:
        return len(self.capacity)

    @property
    def n_classes(self) -> int:
        return len(self.class_offers)


def prepare(instance: Instance) -> Prepared:
    needs, offers = instance.needs, instance.offers
    n, m = len(needs), len(offers)
    aid = aid_totals(instance.government_aid)
    amount = np.fromiter((x.amount for x in needs), dtype=np.int64, count=n)
    # Aid beyond the amount changes nothing (rule 1 floors at 0); clamping keeps huge sums in int64.
    aid_arr = np.fromiter((min(aid.get((x.household, x.kind), 0), x.amount) for x in needs), dtype=np.int64, count=n)
    remainder = np.maximum(amount - aid_arr, 0)
    priority = np.fromiter((x.priority for x in needs), dtype=np.int64, count=n)
    hh_index: dict[str, int] = {}
    household = np.fromiter((hh_index.setdefault(x.household, len(hh_index)) for x in needs), dtype=np.int64, count=n)
    kel_index: dict[str, int] = {}
    kel = np.fromiter((kel_index.setdefault(x.kelurahan, len(kel_index)) for x in needs), np.int64, n)
    kind = np.fromiter((KIND_INDEX[x.kind] for x in needs), dtype=np.int64, count=n)
    ppks = np.fromiter((x.ppks for x in needs), dtype=np.int64, count=n)

    capacity = np.fromiter((o.capacity for o in offers), dtype=np.int64, count=m)
    big = np.iinfo(np.int64).max
    limit = np.array(
        [min(o.capacity, big if o.max_per_need is None else o.max_per_need) for o in offers],
        dtype=np.int64,
    ).reshape(m)
    offer_kind = np.fromiter((KIND_INDEX[o.kind] for o in offers), dtype=np.int64, count=m)

    # Offer x kelurahan coverage and offer x ppks service, as boolean matrices.
    n_kel = len(kel_index)
    kels_of_kec: dict[str, list[int]] = {}
    for code, idx in kel_index.items():
        kels_of_kec.setdefault(kecamatan_of(code), []).append(idx)
    area = np.zeros((m, n_kel), dtype=bool)
    serve = np.zeros((m, PPKS_MAX + 1), dtype=bool)
    for j, o in enumerate(offers):
        if not o.areas:
            area[j, :] = True
        for code in o.areas:
            if code in kel_index:
                area[j, kel_index[code]] = True
            elif code in kels_of_kec:
                area[j, kels_of_kec[code]] = True
        if o.ppks:
            serve[j, list(o.ppks)] = True
        else:
            serve[j, :] = True

    cap = instance.household_cap
    candidate = remainder > 0
    if cap is not None:
        candidate &= remainder <= cap
    cls = np.full(n, NO_CLASS, dtype=np.int64)
    class_offers: list[IntArray] = []
    class_key: dict[tuple[int, int], int] = {}
    pairs = 0

    cand_idx = np.flatnonzero(candidate)
    base = (kind[cand_idx] * max(n_kel, 1) + kel[cand_idx]) * (PPKS_MAX + 1) + ppks[cand_idx]
    order = np.lexsort((cand_idx, base))
    sorted_base = base[order]
    sorted_needs = cand_idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_base[1:] != sorted_base[:-1]]) if len(order) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(order)].astype(int) if len(order) else np.zeros(0, int)
    offers_of_kind = [np.flatnonzero(offer_kind == k) for k in range(len(KINDS))]
    for b, (s, e) in enumerate(zip(starts, ends, strict=True)):
        group = sorted_needs[s:e]
        first = group[0]
        k_offers = offers_of_kind[kind[first]]
        ok = k_offers[area[k_offers, kel[first]] & serve[k_offers, ppks[first]]]
        if len(ok) == 0:
            continue
        by_limit = ok[np.argsort(limit[ok], kind="stable")]
        lims = limit[by_limit]
        cuts = np.searchsorted(lims, remainder[group], side="left")
        for cut in np.unique(cuts):
            if cut >= len(by_limit):
                continue
            members = group[cuts == cut]
            eligible = np.sort(by_limit[cut:])
            c = class_key.setdefault((b, int(cut)), len(class_offers))
            if c == len(class_offers):
                class_offers.append(eligible.astype(np.int64))
            cls[members] = c
            pairs += len(members) * len(eligible)

    magnitude = sum(o.capacity for o in offers) + sum(int(r) for r in remainder[cls != NO_CLASS].tolist())
    return Prepared(
        magnitude=magnitude,
        remainder=remainder,
        priority=priority,
        household=household,
        n_households=len(hh_index),
        household_cap=cap,
        cls=cls,
        capacity=capacity,
        need_kind=kind,
        offer_kind=offer_kind,
        class_offers=class_offers,
        pairs=pairs,
    )


def offer_needs(prep: Prepared) -> tuple[IntArray, IntArray]:
    """Every eligible (offer, need) pair grouped by offer: ``(needs, start)``, offer ``j``'s needs being
    ``needs[start[j]:start[j + 1]]`` (ascending within each of its classes)."""
    cand = np.flatnonzero(prep.cls != NO_CLASS)
    members = cand[np.argsort(prep.cls[cand], kind="stable")]
    class_start = np.searchsorted(prep.cls[members], np.arange(prep.n_classes + 1))
    sizes = np.diff(class_start)
    lens = [len(o) for o in prep.class_offers]
    oc_off = np.concatenate(prep.class_offers).astype(np.int64) if lens else np.zeros(0, np.int64)
    oc_cls = np.repeat(np.arange(prep.n_classes), lens)
    by_offer = np.lexsort((oc_cls, oc_off))
    oc_off, oc_cls = oc_off[by_offer], oc_cls[by_offer]
    counts = sizes[oc_cls]
    total = int(counts.sum())
    # Expand each (offer, class) pair into its class's members: position k of pair q -> members[s_q + k].
    pair_of = np.repeat(np.arange(len(oc_cls)), counts)
    first = np.cumsum(counts) - counts
    offset = np.arange(total, dtype=np.int64) - first[pair_of]
    needs = members[class_start[oc_cls][pair_of] + offset]
    per_offer = np.bincount(oc_off, weights=counts, minlength=prep.n_offers).astype(np.int64)
    start = np.r_[0, np.cumsum(per_offer)].astype(np.int64)
    return needs, start
