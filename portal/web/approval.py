"""Dinsos reviews a round's proposed allocations (``/alokasi?round=…``) and approves or rejects them,
one by one or in bulk; every approval re-checks every rule at that moment (``storage/approval.py``)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import regions
from marketplace.money import rupiah
from marketplace.vocabulary import KIND_LABELS, Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import language_of, page
from storage import approval
from storage.decisions import review
from storage.decisions.selection import INT4_MAX, Selection, SelectionError, check_selection, refusal_lines
from storage.jobs import job_queue
from storage.tables import Allocation, Job, Lks

DINSOS = roles(Role.DINSOS_ADMIN)
menu.add("/alokasi", "Persetujuan alokasi", Role.DINSOS_ADMIN)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _bounded(value: Any) -> int | None:
    """A positive id that fits PostgreSQL's integer, or None."""
    number = _int(value)
    return number if number is not None and 0 < number <= INT4_MAX else None


def _filters(params: Any) -> approval.ProposalFilter:
    kind = str(params.get("kind", "") or "")
    kecamatan = str(params.get("kecamatan", "") or "")[:16]
    status = str(params.get("status", "proposed") or "")
    priority = _int(params.get("priority"))
    return approval.ProposalFilter(
        kecamatan=kecamatan if kecamatan in regions.by_code() else "",
        lks_id=_bounded(params.get("lks")),
        kind=kind if kind in KIND_LABELS else "",
        min_priority=priority if priority is not None and 0 <= priority <= INT4_MAX else None,
        status=status if status in ("proposed", "approved", "rejected", "") else "proposed",
    )


async def _render(request: Request[Any, Any, Any], round_id: int | None, f: approval.ProposalFilter,
                  after: tuple[int, int] | None = None, results: list[approval.Decision] | None = None,
                  error: str = "", status_code: int = 200) -> Template:
    rnd = await approval.get_round(round_id) if round_id else None
    rows: list[dict[str, Any]] = []
    summary = review.Summary()
    lks_names: dict[int, str] = {}
    if rnd:
        rows = await review.rows(rnd["id"], f, after)
        summary = await review.summary(rnd["id"], f)
        everything = await review.summary(rnd["id"], approval.ProposalFilter(status=""))
        in_round = {t[0] for t in everything.by_lks}
        if in_round:  # all LKS (a few hundred rows), kept to those in the round: an is_in() of 300 ids cost
            # Piccolo more to build (a value check per id) than PostgreSQL to answer
            lks_names = {r["id"]: r["name"] for r in await Lks.select(Lks.id, Lks.name) if r["id"] in in_round}
    lks_options = sorted(lks_names.items(), key=lambda o: str(o[1]))  # (id, name): no attribute look-ups per option
    region_names = {r.code: r.name for r in regions.all_regions()}
    kecamatan = sorted(({"code": r.code, "name": r.name} for r in regions.kecamatan()), key=lambda k: k["name"])
    next_after = f"{rows[-1]['priority']}.{rows[-1]['id']}" if len(rows) == review.PAGE_SIZE else ""
    return await page(request, "approval/list.html", status_code=status_code, round=rnd, rows=rows,
                      total=summary.count, summary=summary, lks_names=lks_names, f=f, lks_options=lks_options,
                      kecamatan=kecamatan, kelurahan=region_names, region_names=region_names,
                      results=results or [], error=error, query=_query(rnd["id"] if rnd else None, f),
                      next_after=next_after, paged=after is not None)


def _query(round_id: int | None, f: approval.ProposalFilter) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in {
        "round": round_id, "kecamatan": f.kecamatan, "lks": f.lks_id, "kind": f.kind,
        "priority": f.min_priority, "status": f.status}.items() if v not in (None, "")})


@get("/alokasi", opt=DINSOS, name="approval_list")
async def approval_list(request: Request[Any, Any, Any]) -> Template:
    params = request.query_params
    round_id = _bounded(params.get("round")) or await approval.latest_round_id()
    return await _render(request, round_id, _filters(params), review.parse_after(params.get("after")))


@post("/alokasi/keputusan", opt=DINSOS, name="approval_decide")
async def approval_decide(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    user = await current_user(request)
    assert user is not None
    round_id = _bounded(form.get("round"))
    f = _filters(form)
    ids = [i for i in (_bounded(v) for v in form.getall("ids")) if i is not None] if "ids" in form else []
    action = str(form.get("action", ""))
    one = _bounded(form.get("approve_one"))
    if one is not None:  # the row's own "approve" button
        ids, action = [one], "approve"
    reason = str(form.get("reason", "")).strip()
    if action not in ("approve", "reject") or not ids:
        return await _render(request, round_id, f, error="Pilih alokasi dan keputusan (setujui atau tolak).",
                             status_code=400)
    if action == "reject" and len(reason) < 5:
        return await _render(request, round_id, f, error="Alasan penolakan wajib diisi (paling sedikit 5 karakter).",
                             status_code=400)
    # only allocations of this round: an id from elsewhere is ignored, never decided by accident
    in_round = {r["id"] for r in await Allocation.select(Allocation.id).where(
        Allocation.id.is_in(ids) & (Allocation.round == round_id))} if round_id else set()
    results = await approval.decide_many([i for i in ids if i in in_round], action, reason, user.username, user.id)
    missing = "Alokasi tidak ditemukan pada ronde ini."
    results += [approval.Decision(i, False, missing) for i in ids if i not in in_round]
    status = 200 if any(r.ok for r in results) else 400
    return await _render(request, round_id, f, results=results, status_code=status)


# --- decide by selection: confirm (count and rupiah), run as a background job, follow its progress -------

def _selection_of(form: Any) -> Selection:
    return check_selection(form.get("round"), form.get("kecamatan"), form.get("lks"), form.get("kind"),
                           form.get("priority"))


def _selection_text(sel: Selection, lks_name: str = "") -> str:
    parts = [f"ronde #{sel.round_id}"]
    if sel.kecamatan:
        parts.append("kecamatan " + regions.name_of(sel.kecamatan))
    if sel.lks_id:
        parts.append("LKS " + (lks_name or f"#{sel.lks_id}"))
    if sel.kind:
        parts.append("jenis " + KIND_LABELS[sel.kind][0].lower())
    if sel.min_priority is not None:
        parts.append(f"prioritas minimal {sel.min_priority}")
    return ", ".join(parts)


async def _lks_name(lks_id: int | None) -> str:
    row = await Lks.select(Lks.name).where(Lks.id == lks_id).first() if lks_id else None
    return str(row["name"]) if row else ""


@post("/alokasi/pilihan", opt=DINSOS, name="approval_selection_confirm")
async def selection_confirm(request: Request[Any, Any, Any]) -> Template:
    """Step one: what the filters select, counted in allocations and rupiah, before anything changes."""
    form = await request.form()
    action = str(form.get("action", ""))
    reason = str(form.get("reason", "")).strip()
    round_id = _bounded(form.get("round"))
    error = ""
    sel: Selection | None = None
    try:
        sel = _selection_of(form)
    except SelectionError as exc:
        error = str(exc)
    if not error and action not in ("approve", "reject"):
        error = "Pilih keputusan: setujui atau tolak semua yang terpilih."
    if not error and action == "reject" and len(reason) < 5:
        error = "Alasan penolakan wajib diisi (paling sedikit 5 karakter)."
    if sel is not None and not error and await approval.get_round(sel.round_id) is None:
        error = "Ronde tidak ditemukan."
    if error or sel is None:
        return await _render(request, round_id, _filters(form), error=error, status_code=400)
    from storage.decisions.selection import selection_size

    count, amount = await selection_size(sel)
    return await page(request, "approval/confirm.html", sel=sel, action=action, reason=reason, count=count,
                      amount=amount, amount_text=rupiah(amount),
                      what=_selection_text(sel, await _lks_name(sel.lks_id)),
                      query=_query(sel.round_id, _filters(form)))


@post("/alokasi/pilihan/jalankan", opt=DINSOS, name="approval_selection_run")
async def selection_run(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Step two: the confirmed selection runs as a background job; its page follows the progress."""
    form = await request.form()
    user = await current_user(request)
    assert user is not None
    action = str(form.get("action", ""))
    reason = str(form.get("reason", "")).strip()
    try:
        sel = _selection_of(form)
        if action not in ("approve", "reject") or (action == "reject" and len(reason) < 5):
            raise SelectionError("Keputusan atau alasan penolakan tidak lengkap.")
    except SelectionError as exc:
        return await _render(request, _bounded(form.get("round")), _filters(form), error=str(exc), status_code=400)
    if await approval.get_round(sel.round_id) is None:
        return await _render(request, None, _filters(form), error="Ronde tidak ditemukan.", status_code=400)
    job_id = await job_queue().enqueue("allocation.selection", {
        "selection": sel.describe(), "action": action, "reason": reason, "actor": user.username,
        "decided_by": user.id, "what": _selection_text(sel, await _lks_name(sel.lks_id)),
    }, created_by=user.id)
    return Redirect(path=f"/alokasi/pekerjaan/{job_id}", status_code=303)


@get("/alokasi/pekerjaan/{job_id:int}", opt=DINSOS, name="approval_selection_job")
async def selection_job_page(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Template:
    if not 0 < job_id <= INT4_MAX:
        raise NotFoundException("Pekerjaan tidak ditemukan")
    job = await Job.select().where((Job.id == job_id) & (Job.kind == "allocation.selection")).first()
    if job is None:
        raise NotFoundException("Pekerjaan tidak ditemukan")
    payload = job["payload"] if isinstance(job["payload"], dict) else json.loads(job["payload"] or "{}")
    result = job["result"] if isinstance(job["result"], dict) else json.loads(job["result"] or "{}")
    return await page(request, "approval/job.html", job=job, payload=payload, result=result,
                      refusals=refusal_lines(result.get("refused", {}), language_of(request)),
                      amount_text=rupiah(int(result.get("amount", 0) or 0)))


ROUTES = [approval_list, approval_decide, selection_confirm, selection_run, selection_job_page]
