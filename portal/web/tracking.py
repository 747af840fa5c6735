"""The public tracking page: a ticket code posted from the landing page (never in the URL), answered with
the status timeline and no personal data. A complaint's ticket is answered here too. Look-ups are
rate-limited per client IP in the database."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from marketplace import complaints as complaint_rules
from marketplace import needs as rules
from marketplace import resident_requests as request_rules
from marketplace.vocabulary import KIND_LABELS
from portal.auth import PUBLIC
from portal.web.common import client_ip, page
from storage import complaints, registry, resident_requests


@get("/lacak", opt=PUBLIC, name="tracking_form")
async def tracking_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "tracking/result.html", needs=None, error=None)


@post("/lacak", opt=PUBLIC, name="tracking_lookup")
async def tracking_lookup(request: Request[Any, Any, Any]) -> Template:
    if not await registry.allow_lookup(client_ip(request)):
        return await page(request, "tracking/result.html", status_code=429, needs=None,
                          error="Terlalu banyak pencarian dari alamat Anda. Tunggu satu menit lalu coba lagi.")
    form = await request.form()
    code = str(form.get("ticket", ""))[:40]
    needs = await registry.track(code) if code.strip() else None
    resident = await resident_requests.public_status(code) if code.strip() else None
    if resident is not None and not resident["consent_version"]:
        resident = None  # a request the kelurahan or a social worker filed: its needs tell everything
    if not needs and resident is None:
        complaint = await complaints.public_status(code) if code.strip() else None
        if complaint is not None:
            return await page(request, "tracking/result.html", needs=[], error=None, complaint=complaint,
                              ticket=rules.normalise_ticket(code), complaint_label=complaint_rules.label,
                              category_label=complaint_rules.category_label)
        return await page(request, "tracking/result.html", status_code=404, needs=None,
                          error="Kode tiket tidak ditemukan. Periksa kembali kode pada bukti permohonan Anda.")
    return await page(request, "tracking/result.html", needs=needs or [], error=None, label=rules.label,
                      kind_labels=KIND_LABELS, ticket=rules.normalise_ticket(code), resident=resident,
                      request_label=request_rules.label)


ROUTES = [tracking_form, tracking_lookup]
