"""Explanations: why a need was (not) matched, as a rule name and a sentence in Indonesian and English.

For ``no_eligible_offer`` the offers are filtered rule by rule, in the order of the contract (kind, area,
PPKS type, ``max_per_need``) and then by the two limits that make a need impossible to take whatever
else happens (an offer's whole capacity, the household cap); the rule that removed the last candidates
is the one reported. Region codes are shown by name when a mapping ``code -> name`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matching.instance import (
    REASON_COVERED,
    REASON_NO_OFFER,
    REASON_NOT_SELECTED,
    Instance,
    Need,
    Offer,
    Result,
    aid_totals,
    area_covers,
    kecamatan_of,
    ppks_served,
    remainder,
)

RULE_KIND = "kind"
RULE_AREA = "area"
RULE_PPKS = "ppks"
RULE_MAX_PER_NEED = "max_per_need"
RULE_CAPACITY = "capacity"
RULE_HOUSEHOLD_CAP = "household_cap"


@dataclass(frozen=True, slots=True)
class Explanation:
    need: str
    reason: str | None  # contract reason; None when the need is matched
    rule: str | None  # for no_eligible_offer: the rule that removed the last candidate offers
    id: str  # Indonesian
    en: str  # English


def rupiah_id(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def rupiah_en(amount: int) -> str:
    return f"Rp {amount:,}"


def _place(code: str, names: Mapping[str, str] | None) -> str:
    name = (names or {}).get(code)
    return f"{name} ({code})" if name else code


def blocking_rule(
    need: Need, need_remainder: int, offers: Sequence[Offer], household_cap: int | None
) -> tuple[str | None, list[Offer]]:
    """The rule that removes the last candidate offer, and the candidates just before it.

    Returns ``(None, candidates)`` when some offer could take the need.
    """
    steps = [
        (RULE_KIND, lambda o: o.kind == need.kind),
        (RULE_AREA, lambda o: area_covers(o.areas, need.kelurahan)),
        (RULE_PPKS, lambda o: ppks_served(o.ppks, need.ppks)),
        (RULE_MAX_PER_NEED, lambda o: o.max_per_need is None or need_remainder <= o.max_per_need),
        (RULE_CAPACITY, lambda o: need_remainder <= o.capacity),
    ]
    candidates = list(offers)
    for rule, keep in steps:
        kept = [o for o in candidates if keep(o)]
        if not kept:
            return rule, candidates
        candidates = kept
    if household_cap is not None and need_remainder > household_cap:
        return RULE_HOUSEHOLD_CAP, candidates
    return None, candidates


def _no_offer_sentences(
    rule: str, need: Need, rest: int, before: list[Offer], cap: int | None, names: Mapping[str, str] | None
) -> tuple[str, str]:
    kel = _place(need.kelurahan, names)
    kind = need.kind
    if rule == RULE_KIND:
        return (
            f"Tidak ada LKS yang menawarkan bantuan {kind} pada periode ini.",
            f"No LKS offers {kind} support in this period.",
        )
    if rule == RULE_AREA:
        kec = _place(kecamatan_of(need.kelurahan), names)
        return (
            f"Tidak ada LKS yang melayani {kind} di Kelurahan {kel} (Kecamatan {kec}).",
            f"No LKS serves {kind} in Kelurahan {kel} (Kecamatan {kec}).",
        )
    if rule == RULE_PPKS:
        return (
            f"LKS yang melayani {kind} di Kelurahan {kel} tidak melayani PPKS jenis {need.ppks}.",
            f"The LKS serving {kind} in Kelurahan {kel} do not serve PPKS type {need.ppks}.",
        )
    if rule == RULE_MAX_PER_NEED:
        top = max(o.max_per_need or 0 for o in before)
        return (
            f"Sisa kebutuhan {rupiah_id(rest)} melebihi batas per kebutuhan setiap LKS yang cocok "
            f"(paling tinggi {rupiah_id(top)}).",
            f"The remaining need of {rupiah_en(rest)} exceeds the per-need limit of every matching LKS "
            f"(highest {rupiah_en(top)}).",
        )
    if rule == RULE_CAPACITY:
        top = max(o.capacity for o in before)
        return (
            f"Sisa kebutuhan {rupiah_id(rest)} melebihi seluruh kapasitas setiap LKS yang cocok "
            f"(paling besar {rupiah_id(top)}).",
            f"The remaining need of {rupiah_en(rest)} exceeds the whole capacity of every matching LKS "
            f"(largest {rupiah_en(top)}).",
        )
    assert cap is not None
    return (
        f"Sisa kebutuhan {rupiah_id(rest)} melebihi batas bantuan per keluarga {rupiah_id(cap)}.",
        f"The remaining need of {rupiah_en(rest)} exceeds the household cap of {rupiah_en(cap)}.",
    )


class Explainer:
    """Explains needs of one instance (and optionally its result); built once, asked many times."""

    def __init__(self, instance: Instance, result: Result | None = None) -> None:
        self.instance = instance
        self.aid = aid_totals(instance.government_aid)
        self.programs: dict[tuple[str, str], list[str]] = {}
        for g in instance.government_aid:
            self.programs.setdefault((g.household, g.kind), []).append(g.program)
        self.needs = {n.id: n for n in instance.needs}
        self.offers = {o.id: o for o in instance.offers}
        self.offers_by_kind: dict[str, list[Offer]] = {}
        for o in instance.offers:
            self.offers_by_kind.setdefault(o.kind, []).append(o)
        self._places: dict[tuple[str, str, int], tuple[str | None, list[Offer], int]] = {}
        self._areas: dict[tuple[str, str], list[Offer]] = {}
        self._limits: dict[tuple[tuple[str, str, int], int], tuple[str | None, list[Offer]]] = {}
        self.allocated: dict[str, tuple[str, int]] = {}
        self.reasons: dict[str, str] = {}
        if result is not None:
            self.allocated = {a.need: (a.offer, a.amount) for a in result.allocations}
            self.reasons = {u.need: u.reason for u in result.unmatched}

    def _place_rule(self, need: Need) -> tuple[str | None, list[Offer]]:
        """The first three steps of :func:`blocking_rule` (kind, area, PPKS type), the area step kept per
        (kind, kelurahan)."""
        pool = self.offers_by_kind.get(need.kind, [])
        if not pool:
            return RULE_KIND, []
        area = self._areas.get((need.kind, need.kelurahan))
        if area is None:
            area = self._areas[(need.kind, need.kelurahan)] = [o for o in pool if area_covers(o.areas, need.kelurahan)]
        if not area:
            return RULE_AREA, list(pool)
        served = [o for o in area if ppks_served(o.ppks, need.ppks)]
        return (RULE_PPKS, list(area)) if not served else (None, served)

    def _blocking_rule(self, need: Need, rest: int) -> tuple[str | None, list[Offer]]:
        """:func:`blocking_rule`, with the steps that depend only on (kind, kelurahan, PPKS type) done once
        per such place: a city round explains some 300,000 needs against a few thousand offers."""
        key = (need.kind, need.kelurahan, need.ppks)
        place = self._places.get(key)
        if place is None:
            rule, before = self._place_rule(need)
            # the smallest limit among the candidates: a remainder within it passes both limits everywhere
            floor = min((min(o.capacity, o.max_per_need if o.max_per_need is not None else o.capacity)
                         for o in before), default=0)
            place = self._places[key] = (rule, before, floor)
        rule, before, floor = place
        if rule is not None:  # kind, area or PPKS type: the remainder does not matter
            return rule, before
        cap = self.instance.household_cap
        if rest <= floor:
            return (RULE_HOUSEHOLD_CAP, before) if cap is not None and rest > cap else (None, before)
        # the candidates pass the first three steps, so this is the same answer as over the whole pool;
        # needs of one place often ask the same amount
        answer = self._limits.get((key, rest))
        if answer is None:
            answer = self._limits[(key, rest)] = blocking_rule(need, rest, before, cap)
        return answer

    def explain(self, need_id: str, names: Mapping[str, str] | None = None) -> Explanation:
        need = self.needs[need_id]
        rest = remainder(need, self.aid)
        if need_id in self.allocated:
            offer_id, amount = self.allocated[need_id]
            lks = self.offers[offer_id].lks
            return Explanation(
                need_id,
                None,
                None,
                f"Dipenuhi oleh penawaran {offer_id} ({lks}) sebesar {rupiah_id(amount)}.",
                f"Matched to offer {offer_id} ({lks}) for {rupiah_en(amount)}.",
            )
        if rest == 0:
            progs = ", ".join(sorted(set(self.programs.get((need.household, need.kind), []))))
            return Explanation(
                need_id,
                REASON_COVERED,
                None,
                f"Kebutuhan {need.kind} sudah tertutup bantuan pemerintah ({progs}).",
                f"The {need.kind} need is already covered by government aid ({progs}).",
            )
        rule, before = self._blocking_rule(need, rest)
        if rule is not None:
            text_id, text_en = _no_offer_sentences(rule, need, rest, before, self.instance.household_cap, names)
            return Explanation(need_id, REASON_NO_OFFER, rule, text_id, text_en)
        n = len(before)
        return Explanation(
            need_id,
            self.reasons.get(need_id, REASON_NOT_SELECTED),
            None,
            f"Memenuhi syarat untuk {n} penawaran LKS, tetapi kapasitasnya atau batas per keluarga sudah "
            f"terpakai untuk kebutuhan dengan total prioritas lebih tinggi.",
            f"Eligible for {n} LKS offer(s), but their capacity or the household cap went to needs of "
            f"higher total priority.",
        )


def explain(
    instance: Instance, need_id: str, result: Result | None = None, names: Mapping[str, str] | None = None
) -> Explanation:
    """One need's explanation (build an :class:`Explainer` to explain many)."""
    return Explainer(instance, result).explain(need_id, names)


def explain_unmatched(
    instance: Instance, result: Result, names: Mapping[str, str] | None = None
) -> dict[str, Explanation]:
    """Explanations of every unmatched need of a result, by need id."""
    ex = Explainer(instance, result)
    return {u.need: ex.explain(u.need, names) for u in result.unmatched}
