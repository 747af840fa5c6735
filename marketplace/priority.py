"""Priority of a verified need: the positive integer that matching maximises.

    priority = base
             + desil_weight   × (11 − desil)            # desil 1 (poorest) gives 10 steps
             + extreme_weight × [on the P3KE list]
             + severity_weight × severity(PPKS)         # 1 … 3, see ``SEVERITY``
             + wait_weight    × min(months waiting, wait_cap_months)

Weights live in ``PriorityWeights`` (frozen, with defaults) so Dinsos can change them in one place.

Worked example with the defaults (base 1, desil 10, extreme 30, severity 15, wait 5 per month, cap 12):
a desil-2 household on the P3KE list, PPKS 8 (lanjut usia telantar, severity 3), waiting 4 months:
1 + 10×9 + 30 + 15×3 + 5×4 = 1 + 90 + 30 + 45 + 20 = **186**.
A desil-9 household, not extreme-poor, PPKS 24 (fakir miskin, severity 2), verified today:
1 + 10×2 + 0 + 15×2 + 0 = **51**.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SEVERITY: dict[int, int] = {
    **{p: 2 for p in range(1, 27)},
    # children without care, the neglected elderly, victims of violence / trafficking / disasters: 3
    1: 3, 2: 3, 6: 3, 7: 3, 8: 3, 18: 3, 19: 3, 21: 3,
    # groups whose need is usually less urgent in rupiah terms: 1
    14: 1, 26: 1,
}


@dataclass(frozen=True, slots=True)
class PriorityWeights:
    base: int = 1
    desil: int = 10
    extreme_poor: int = 30
    severity: int = 15
    wait_per_month: int = 5
    wait_cap_months: int = 12


DEFAULT_WEIGHTS = PriorityWeights()


def months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def priority(*, desil: int, extreme_poor: bool, ppks: int, submitted_on: date, today: date,
             weights: PriorityWeights = DEFAULT_WEIGHTS) -> int:
    desil = min(max(desil, 1), 10)
    waited = min(months_between(submitted_on, today), weights.wait_cap_months)
    value = (
        weights.base
        + weights.desil * (11 - desil)
        + (weights.extreme_poor if extreme_poor else 0)
        + weights.severity * SEVERITY.get(ppks, 2)
        + weights.wait_per_month * waited
    )
    return max(value, 1)
