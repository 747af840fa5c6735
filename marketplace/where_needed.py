"""Where help is most needed now: the matching round's marginal values (``matching.marginal``) in words.

Staff of an LKS writing an offer see, per kind x kecamatan, what Rp 1 juta more would serve there
("di Kecamatan X, pangan: Rp 1 juta melayani sekitar N keluarga lagi dengan prioritas P"); the public
impact page shows the same ranking with its household counts through small-cell suppression
(``marketplace.disclosure``: fewer than 5 shows "< 5"). No personal data: only aggregates per kind
and kecamatan, computed from the relaxation of the latest round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.disclosure import SMALL_LABEL, is_small
from marketplace.vocabulary import KIND_LABELS


@dataclass(frozen=True, slots=True)
class NeededNow:
    kind: str
    kecamatan: str
    place: str  # kecamatan name (its code when unknown)
    value: float  # priority-weighted need served by Rp 1 juta more
    households: float  # about how many more households Rp 1 juta serves
    priority: float  # their average priority
    unserved_needs: int  # needs of this kind in this kecamatan the round leaves (partly) unserved


def ranked(values: Iterable[Mapping[str, Any]], names: Mapping[str, str], limit: int = 10,
           kind: str | None = None) -> list[NeededNow]:
    """The ``limit`` kind x kecamatan where Rp 1 juta serves most, highest first (value > 0 only)."""
    rows = [
        NeededNow(str(v["kind"]), str(v["kecamatan"]), names.get(str(v["kecamatan"]), str(v["kecamatan"])),
                  float(v["value"]), float(v["households"]), float(v["priority"]), int(v["unserved_needs"]))
        for v in values if float(v.get("value", 0)) > 0 and (kind is None or v["kind"] == kind)
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r.value, r.kind, r.kecamatan))
    return rows[:limit]


def _number(x: float, lang: str) -> str:
    text = f"{x:,.0f}" if x >= 10 else f"{x:,.1f}"
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def kind_label(kind: str, lang: str) -> str:
    labels = KIND_LABELS.get(kind, (kind, kind))
    return labels[0 if lang == "id" else 1]


def staff_sentence(row: NeededNow, lang: str) -> str:
    """For LKS staff (not public): the estimate itself, however small."""
    kind = kind_label(row.kind, lang).lower()
    n, p = _number(row.households, lang), _number(row.priority, lang)
    if lang == "id":
        return f"di Kecamatan {row.place}, {kind}: Rp 1 juta melayani sekitar {n} keluarga lagi dengan prioritas {p}"
    return f"in Kecamatan {row.place}, {kind}: Rp 1 million serves about {n} more households of priority {p}"


def public_households(count: float, lang: str) -> str:
    """A household count for the public page: fewer than 5 households shows "< 5"."""
    whole = round(count)
    if whole <= 0 or is_small(whole):
        return SMALL_LABEL
    return f"{whole:,}".replace(",", "." if lang == "id" else ",")


def public_rows(values: Iterable[Mapping[str, Any]], names: Mapping[str, str], lang: str,
                limit: int = 10) -> list[dict[str, str]]:
    """Rows of the public "di mana bantuan paling dibutuhkan sekarang" table, counts suppressed."""
    return [
        {"place": r.place, "kind": kind_label(r.kind, lang), "households": public_households(r.households, lang),
         "waiting": public_households(r.unserved_needs, lang), "priority": _number(r.priority, lang)}
        for r in ranked(values, names, limit)
    ]  # fmt: skip
