"""The allocation model: a frozen instance in, allocations plus solver statistics and explanations out.

Contract: /work/shared/contracts/matching-v1.md. Imports only the standard library, ortools and numpy.
"""

from matching.explain import Explainer, Explanation, explain, explain_unmatched
from matching.instance import (
    KINDS,
    REASONS,
    Allocation,
    GovernmentAid,
    Instance,
    InstanceError,
    Need,
    Offer,
    Result,
    Stats,
    Unmatched,
    aid_totals,
    area_covers,
    is_eligible,
    parse_instance,
    ppks_served,
    remainder,
    remainders,
)
from matching.model import SolverSettings, solve, solve_json

__all__ = [
    "KINDS",
    "REASONS",
    "Allocation",
    "Explainer",
    "Explanation",
    "GovernmentAid",
    "Instance",
    "InstanceError",
    "Need",
    "Offer",
    "Result",
    "SolverSettings",
    "Stats",
    "Unmatched",
    "aid_totals",
    "area_covers",
    "explain",
    "explain_unmatched",
    "is_eligible",
    "parse_instance",
    "ppks_served",
    "remainder",
    "remainders",
    "solve",
    "solve_json",
]
