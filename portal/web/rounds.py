"""Matching rounds for Dinsos: start one for a period (in the background, with a progress bar), see its
solver figures and why each need went unmatched, download its instance and result for replay."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from marketplace import clock
from marketplace.vocabulary import Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import PAGE_SIZE, page, page_count, page_number
from storage import rounds as round_service
from storage.jobs import job_queue
from storage.objects import make_object_store
from storage.tables import Job, MatchingRound, Need, UnmatchedNeed

DINSOS = roles(Role.DINSOS_ADMIN)
REASON_LABELS = {
    "covered_by_government": "Sudah tertutup bantuan pemerintah",
    "no_eligible_offer": "Tidak ada penawaran yang memenuhi syarat",
    "not_selected": "Memenuhi syarat, tetapi kapasitas habis untuk prioritas lebih tinggi",
}

menu.add("/ronde", "Ronde pencocokan", Role.DINSOS_ADMIN)


def _default_period() -> str:
    return clock.today().strftime("%Y-%m")


@get("/ronde", opt=DINSOS, name="rounds")
async def rounds_page(request: Request[Any, Any, Any]) -> Template:
    rows = await MatchingRound.select().order_by(MatchingRound.id, ascending=False).limit(50)
    running = await Job.select(Job.id, Job.status, Job.progress, Job.message, Job.payload).where(
        (Job.kind == "match.round") & Job.status.is_in(["queued", "running"])
    ).order_by(Job.id, ascending=False)
    return await page(request, "rounds/list.html", rounds=rows, running=running, period=_default_period(),
                      error=None)


@post("/ronde", opt=DINSOS, name="round_start")
async def round_start(request: Request[Any, Any, Any]) -> Template:
    user = await current_user(request)
    assert user is not None
    form = await request.form()
    period = str(form.get("period", "")).strip()
    try:
        round_service.check_period(period)
    except round_service.RoundError as exc:
        rows = await MatchingRound.select().order_by(MatchingRound.id, ascending=False).limit(50)
        return await page(request, "rounds/list.html", status_code=400, rounds=rows, running=[], period=period,
                          error=str(exc))
    if not await Need.exists().where(Need.status.is_in(["verified", "matched"])):
        rows = await MatchingRound.select().order_by(MatchingRound.id, ascending=False).limit(50)
        return await page(request, "rounds/list.html", status_code=400, rounds=rows, running=[], period=period,
                          error="Tidak ada kebutuhan terverifikasi yang menunggu untuk periode ini")
    job_id = await job_queue().enqueue("match.round", {"period": period, "actor": user.username,
                                                      "started_by": user.id}, created_by=user.id)
    return await page(request, "rounds/progress.html", job_id=job_id, period=period)


@get("/ronde/{round_id:int}", opt=DINSOS, name="round_detail")
async def round_detail(request: Request[Any, Any, Any], round_id: FromPath[int]) -> Template:
    row = await MatchingRound.select().where(MatchingRound.id == round_id).first()
    if row is None:
        raise NotFoundException("Ronde tidak ditemukan")
    reason = request.query_params.get("reason") or ""
    page_no = page_number(request)
    counts = {key: await UnmatchedNeed.count().where((UnmatchedNeed.round == round_id) & (UnmatchedNeed.reason == key))
              for key in REASON_LABELS}
    query = UnmatchedNeed.select(
        UnmatchedNeed.need, UnmatchedNeed.reason, UnmatchedNeed.explanation,
        UnmatchedNeed.need.kind.as_alias("kind"), UnmatchedNeed.need.priority.as_alias("priority"),
    ).where(UnmatchedNeed.round == round_id)
    if reason in REASON_LABELS:
        query = query.where(UnmatchedNeed.reason == reason)
    total = counts.get(reason, sum(counts.values())) if reason else sum(counts.values())
    unmatched = await query.order_by(UnmatchedNeed.need.priority, ascending=False).limit(PAGE_SIZE).offset(
        (page_no - 1) * PAGE_SIZE)
    gap = (row["bound"] - row["objective"]) / row["bound"] if row["bound"] else 0.0
    return await page(request, "rounds/detail.html", round=row, gap=gap, counts=counts, labels=REASON_LABELS,
                      unmatched=unmatched, reason=reason, page_no=page_no, pages=page_count(total))


@get("/ronde/{round_id:int}/unduh/{which:str}", opt=DINSOS, name="round_download")
async def round_download(round_id: FromPath[int], which: FromPath[str]) -> Response[bytes]:
    row = await MatchingRound.select(MatchingRound.instance_key, MatchingRound.result_key, MatchingRound.period
                                     ).where(MatchingRound.id == round_id).first()
    if row is None or which not in ("instance", "result"):
        raise NotFoundException("Berkas ronde tidak ditemukan")
    key = row["instance_key"] if which == "instance" else row["result_key"]
    data = make_object_store().get(key)
    filename = f"ronde-{round_id}-{row['period']}-{which}.json"
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


ROUTES = [rounds_page, round_start, round_detail, round_download]
