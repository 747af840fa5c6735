"""The public impact report ``/dampak``: confirmed deliveries by kecamatan, kind and LKS. Aggregates only:
no names, no addresses, no per-household rows."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from portal.auth import PUBLIC
from portal.web.common import page
from storage.delivery import impact_report


@get("/dampak", opt=PUBLIC, name="impact")
async def impact(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "impact/report.html", report=await impact_report())


ROUTES = [impact]
