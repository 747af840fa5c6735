"""Where help is most needed now (issue 10): the latest round's marginal values for the offer form
(LKS staff) and the public impact page (counts suppressed). Context only; no routes of its own."""

from __future__ import annotations

from typing import Any

from marketplace import regions
from marketplace.where_needed import public_rows, ranked, staff_sentence
from storage.marginal import latest_marginal_values


def _names() -> dict[str, str]:
    return {r.code: r.name for r in regions.kecamatan()}


async def staff_context(lang: str, limit: int = 10) -> dict[str, Any]:
    """``needed_period`` and ``needed_lines`` (sentences) for the offer form."""
    period, values = await latest_marginal_values()
    lines = [staff_sentence(r, lang) for r in ranked(values, _names(), limit)]
    return {"needed_period": period, "needed_lines": lines}


async def public_context(lang: str, limit: int = 10) -> dict[str, Any]:
    """``needed_period`` and ``needed_now`` (table rows, small counts shown as "< 5") for ``/dampak``."""
    period, values = await latest_marginal_values()
    return {"needed_period": period, "needed_now": public_rows(values, _names(), lang, limit)}
