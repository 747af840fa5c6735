"""The Puskesos view of a household: what it already receives, grouped by period, and which government
programmes it may still be eligible for (pure).

"May still be eligible" is a hint for the operator, not a decision: an active programme whose desil
threshold (``GovernmentProgram.desil_max``, set by Dinsos) the household's desil meets, that the
household has not received in the last ``RECENT_PERIODS`` months. Programmes also have rules the
registry does not hold (ages, school enrolment, housing condition), so the operator checks those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RECENT_PERIODS = 3


def recent_periods(current: str, n: int = RECENT_PERIODS) -> list[str]:
    """``current`` (YYYY-MM) and the n-1 months before it."""
    year, month = int(current[:4]), int(current[5:7])
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


@dataclass(frozen=True, slots=True)
class Programme:
    code: str
    name: str
    kind: str
    desil_max: int
    active: bool


def still_eligible(desil: int, programmes: Iterable[Programme], received_recently: set[str]) -> list[Programme]:
    return sorted((p for p in programmes if p.active and desil <= p.desil_max and p.code not in received_recently),
                  key=lambda p: p.code)


def by_period(rows: Iterable[dict[str, object]]) -> list[tuple[str, list[dict[str, object]]]]:
    """Rows with a ``period`` key grouped by period, newest first (order within a period kept)."""
    groups: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        groups.setdefault(str(r["period"]), []).append(r)
    return sorted(groups.items(), key=lambda kv: kv[0], reverse=True)
