"""Impact (issue 11): the public report, the donor's own impact, the Dinsos command center."""

from __future__ import annotations

from typing import Any


def _routes() -> list[Any]:
    from portal.web.impact import command, donor, pages

    return [*pages.ROUTES, *command.ROUTES, *donor.ROUTES]


ROUTES = _routes()
