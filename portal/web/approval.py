"""Dinsos reviews a round's proposed allocations (``/alokasi?round=…``) and approves or rejects them,
one by one or in bulk; every approval re-checks every rule at that moment (``storage/approval.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from marketplace.vocabulary import KIND_LABELS, Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import page
from storage import approval
from storage.tables import Allocation, Lks, Region

DINSOS = roles(Role.DINSOS_ADMIN)
menu.add("/alokasi", "Persetujuan alokasi", Role.DINSOS_ADMIN)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _filters(params: Any) -> approval.ProposalFilter:
    kind = str(params.get("kind", "") or "")
    status = str(params.get("status", "proposed") or "")
    return approval.ProposalFilter(
        kecamatan=str(params.get("kecamatan", "") or "")[:16],
        lks_id=_int(params.get("lks")),
        kind=kind if kind in KIND_LABELS else "",
        min_priority=_int(params.get("priority")),
        status=status if status in ("proposed", "approved", "rejected", "") else "proposed",
    )


async def _render(request: Request[Any, Any, Any], round_id: int | None, f: approval.ProposalFilter, page_no: int,
                  results: list[approval.Decision] | None = None, error: str = "",
                  status_code: int = 200) -> Template:
    rnd = await approval.get_round(round_id) if round_id else None
    rows: list[dict[str, Any]] = []
    total = 0
    lks_options: list[dict[str, Any]] = []
    kelurahan: dict[str, str] = {}
    if rnd:
        rows, total = await approval.list_proposals(rnd["id"], f, page_no)
        lks_ids = await Allocation.select(Allocation.lks).where(Allocation.round == rnd["id"]).distinct()
        if lks_ids:
            lks_options = await Lks.select(Lks.id, Lks.name).where(
                Lks.id.is_in([r["lks"] for r in lks_ids])).order_by(Lks.name)
        codes = sorted({r["kelurahan_code"] for r in rows})
        if codes:
            kelurahan = {r["code"]: r["name"] for r in await Region.select(Region.code, Region.name).where(
                Region.code.is_in(codes))}
    kecamatan = await Region.select(Region.code, Region.name).where(Region.level == "kecamatan").order_by(Region.name)
    pages = max((total + approval.PAGE_SIZE - 1) // approval.PAGE_SIZE, 1)
    return await page(request, "approval/list.html", status_code=status_code, round=rnd, rows=rows, total=total,
                      page_no=page_no, pages=pages, f=f, lks_options=lks_options, kecamatan=kecamatan,
                      kelurahan=kelurahan, results=results or [], error=error,
                      query=_query(rnd["id"] if rnd else None, f))


def _query(round_id: int | None, f: approval.ProposalFilter) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in {
        "round": round_id, "kecamatan": f.kecamatan, "lks": f.lks_id, "kind": f.kind,
        "priority": f.min_priority, "status": f.status}.items() if v not in (None, "")})


@get("/alokasi", opt=DINSOS, name="approval_list")
async def approval_list(request: Request[Any, Any, Any]) -> Template:
    params = request.query_params
    round_id = _int(params.get("round")) or await approval.latest_round_id()
    return await _render(request, round_id, _filters(params), max(_int(params.get("page")) or 1, 1))


@post("/alokasi/keputusan", opt=DINSOS, name="approval_decide")
async def approval_decide(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    user = await current_user(request)
    assert user is not None
    round_id = _int(form.get("round"))
    f = _filters(form)
    ids = [i for i in (_int(v) for v in form.getall("ids")) if i is not None] if "ids" in form else []
    action = str(form.get("action", ""))
    one = _int(form.get("approve_one"))
    if one is not None:  # the row's own "approve" button
        ids, action = [one], "approve"
    reason = str(form.get("reason", "")).strip()
    if action not in ("approve", "reject") or not ids:
        return await _render(request, round_id, f, 1, error="Pilih alokasi dan keputusan (setujui atau tolak).",
                             status_code=400)
    if action == "reject" and len(reason) < 5:
        return await _render(request, round_id, f, 1, error="Alasan penolakan wajib diisi (paling sedikit 5 karakter).",
                             status_code=400)
    # only allocations of this round: an id from elsewhere is ignored, never decided by accident
    in_round = {r["id"] for r in await Allocation.select(Allocation.id).where(
        Allocation.id.is_in(ids) & (Allocation.round == round_id))} if round_id else set()
    results = await approval.decide_many([i for i in ids if i in in_round], action, reason, user.username, user.id)
    missing = "Alokasi tidak ditemukan pada ronde ini."
    results += [approval.Decision(i, False, missing) for i in ids if i not in in_round]
    status = 200 if any(r.ok for r in results) else 400
    return await _render(request, round_id, f, 1, results=results, status_code=status)


ROUTES = [approval_list, approval_decide]
