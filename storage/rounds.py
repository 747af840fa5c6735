"""Matching rounds in the product: build the contract instance from the database, solve it in the
background, and store the proposals in one transaction.

Nothing is written before the solver has finished: a failure or a kill mid-way leaves no round, no
allocation and no object behind (only the job row, which shows the failure). The instance and result
are kept in object storage so that any round can be replayed with ``jitu match solve``.
Re-running a round for a period replaces that period's unapproved proposals only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marketplace import regions
from marketplace.audit import AuditEvent
from marketplace.rounds import (
    AidRecord,
    NeedRecord,
    OfferRecord,
    Refusal,
    build_instance,
    explain_proposals,
    explain_refusals,
    solve_instance,
)
from marketplace.settings import Settings, get_settings
from matching import SolverSettings
from storage import setwise
from storage.jobs import JobContext, job_handler
from storage.marginal import put_marginal_values
from storage.objects import make_object_store
from storage.tables import (
    Allocation,
    GovernmentAid,
    Lks,
    MatchingRound,
    Need,
    Offer,
    UnmatchedNeed,
)
from storage.uow import unit_of_work

Progress = Callable[[int, str], Awaitable[None]]
CHUNK = 2000
"""Rows per INSERT: PostgreSQL takes at most 32,767 parameters a statement (2,000 × 12 columns fits)."""


class RoundError(ValueError):
    """A round that cannot start; the message is Indonesian."""


def check_period(period: str) -> str:
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError as exc:
        raise RoundError("Periode harus berbentuk TTTT-BB, misalnya 2026-11") from exc
    return period


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def load_records(period: str) -> tuple[list[NeedRecord], list[OfferRecord], list[AidRecord], dict[int, str]]:
    """Verified needs not yet served, published offers of verified LKS with room left (but none of an LKS
    paused for overdue reports, ``storage.lks_reports.deadlines``), aid of the period."""
    from storage.lks_reports.deadlines import paused_lks_ids

    paused = await paused_lks_ids()
    other_period_proposals = {
        row["need"] for row in await Allocation.select(Allocation.need).where(
            (Allocation.status == "proposed") & (Allocation.round.period != period)
        )
    }
    need_rows = await Need.select(  # the need's own copy of its household's kelurahan: no join of the city
        Need.id, Need.household, Need.kelurahan_code.as_alias("kelurahan"), Need.ppks, Need.kind,
        Need.amount, Need.priority,
    ).where(Need.status.is_in(["verified", "matched"]))
    needs = [
        NeedRecord(r["id"], r["household"], r["kelurahan"], r["ppks"], r["kind"], int(r["amount"]), int(r["priority"]))
        for r in need_rows if r["id"] not in other_period_proposals
    ]
    offer_rows = await Offer.select(
        Offer.id, Offer.lks, Offer.kind, Offer.remaining, Offer.is_goods, Offer.unit_value, Offer.areas, Offer.ppks,
        Offer.max_per_need,
    ).where((Offer.period == period) & (Offer.status == "published") & (Offer.lks.status == "verified")
            & (Offer.remaining > 0))
    offers = [
        OfferRecord(r["id"], r["lks"], r["kind"], int(r["remaining"]), int(r["unit_value"]) if r["is_goods"] else 0,
                    tuple(_list(r["areas"])), tuple(int(p) for p in _list(r["ppks"])),
                    int(r["max_per_need"]) if r["max_per_need"] is not None else None)
        for r in offer_rows if r["lks"] not in paused
    ]
    aid_rows = await GovernmentAid.select(
        GovernmentAid.household, GovernmentAid.kind, GovernmentAid.program.code.as_alias("program"),
        GovernmentAid.amount,
    ).where(GovernmentAid.period == period)
    aid = [AidRecord(r["household"], r["kind"], r["program"], int(r["amount"])) for r in aid_rows]
    lks_names = {r["id"]: r["name"] for r in await Lks.select(Lks.id, Lks.name)}
    return needs, offers, aid, lks_names


def _list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or [])


@dataclass(frozen=True)
class RoundSummary:
    round_id: int
    status: str
    objective: int
    bound: int
    matched: int
    unmatched: int
    replaced: int


async def run_round(period: str, actor: str, started_by: int | None = None, progress: Progress | None = None,
                    settings: Settings | None = None) -> RoundSummary:
    settings = settings or get_settings()
    check_period(period)

    async def report(pct: int, message: str) -> None:
        if progress is not None:
            await progress(pct, message)

    await report(5, "Membaca kebutuhan terverifikasi, penawaran, dan bantuan pemerintah…")
    needs, offers, aid, lks_names = await load_records(period)
    if not needs:
        raise RoundError("Tidak ada kebutuhan terverifikasi yang menunggu untuk periode ini")
    instance = build_instance(period, settings.household_cap, needs, offers, aid)
    await report(20, f"Menyelesaikan model: {len(instance['needs'])} kebutuhan, {len(instance['offers'])} penawaran…")
    solver = SolverSettings(time_limit=settings.match_time_limit, workers=settings.match_workers,
                            seed=settings.match_seed)
    parsed, result = await asyncio.to_thread(solve_instance, instance, solver, offers)
    await report(80, "Menyimpan usulan alokasi…")
    region_names = {r.code: r.name for r in regions.all_regions()}
    proposals = explain_proposals(parsed, result, region_names, lks_names)
    lks_of_offer = {o.id: o.lks_id for o in offers}

    store = make_object_store(settings)
    folder = f"rounds/{period}/{uuid.uuid4().hex}"
    instance_key, result_key = f"{folder}/instance.json", f"{folder}/result.json"

    def explain_and_keep() -> list[Refusal]:
        """Python work that overlaps PostgreSQL's share of the store (the proposals' COPY and status
        steps, seconds at city scale): the refusals' explanations, and the instance and result put away."""
        refusals = explain_refusals(parsed, result, region_names)
        store.put(instance_key, json.dumps(instance, ensure_ascii=False).encode(), "application/json")
        store.put(result_key, json.dumps(result.to_json(), ensure_ascii=False).encode(), "application/json")
        return refusals

    side = asyncio.ensure_future(asyncio.to_thread(explain_and_keep))
    try:
        summary = await _store_round(period, actor, started_by, instance_key, result_key, result, proposals,
                                     side, lks_of_offer, len(instance["needs"]), len(instance["offers"]))
    except BaseException:
        with contextlib.suppress(BaseException):
            await side  # the thread cannot be stopped: let it finish before its objects are removed
        store.delete(instance_key)
        store.delete(result_key)
        raise
    put_marginal_values(store, result_key, result.info)  # once the round is stored: where Rp 1 juta helps most
    await _analyze()
    await report(100, "Selesai")
    return summary


async def _store_round(period: str, actor: str, started_by: int | None, instance_key: str, result_key: str,
                       result: Any, proposals: list[Any], explained: Awaitable[list[Refusal]],
                       lks_of_offer: dict[int, int], needs_count: int, offers_count: int) -> RoundSummary:
    """One transaction. The refusals arrive as ``explained`` once their thread is done: the proposals and the
    needs' status steps are written first, so PostgreSQL works while Python explains."""
    now = datetime.now(UTC)
    matched_ids = [p.need_id for p in proposals]
    async with unit_of_work() as uow:
        same_period = MatchingRound.select(MatchingRound.id).where(MatchingRound.period == period)
        old_rounds = [r["id"] for r in await same_period]
        replaced: list[int] = []
        if old_rounds:
            replaced = [r["need"] for r in await Allocation.select(Allocation.need).where(
                Allocation.round.is_in(old_rounds) & (Allocation.status == "proposed"))]
            await Allocation.delete().where(Allocation.round.is_in(old_rounds) & (Allocation.status == "proposed"))
            await UnmatchedNeed.delete().where(UnmatchedNeed.round.is_in(old_rounds))
        rows = await MatchingRound.insert(MatchingRound(
            period=period, status="proposed", started_by=started_by, started_at=now, finished_at=datetime.now(UTC),
            instance_key=instance_key, result_key=result_key, solver_status=result.stats.status,
            objective=result.stats.objective, bound=result.stats.bound,
            seconds={"total": result.stats.seconds, **{k: v for k, v in result.info.items() if k.endswith("_s")}},
            needs_count=needs_count, offers_count=offers_count, matched_count=len(proposals),
        )).returning(MatchingRound.id)
        round_id = int(rows[0]["id"])
        # bulk writes (COPY on PostgreSQL, executemany on SQLite) and set-wise status changes
        await setwise.insert("allocation", ALLOCATION_COLUMNS, [
            (round_id, p.need_id, p.offer_id, lks_of_offer[p.offer_id], p.amount, p.priority, "proposed",
             p.explanation) for p in proposals])
        back_to_verified = sorted(set(replaced) - set(matched_ids))
        newly_matched = sorted(set(matched_ids) - set(replaced))
        await _move_needs(back_to_verified, "matched", "verified", "Usulan ronde sebelumnya diganti", now)
        await _move_needs(newly_matched, "verified", "matched", "Diusulkan untuk dibantu LKS", now)
        refusals = await explained
        await setwise.insert("unmatched_need", UNMATCHED_COLUMNS, [
            (round_id, r.need_id, r.reason, r.explanation) for r in refusals])
        await uow.record(AuditEvent(actor, "round.proposed", "matching_round", str(round_id), None, {
            "period": period, "status": result.stats.status, "objective": result.stats.objective,
            "bound": result.stats.bound, "matched": len(proposals), "unmatched": len(refusals),
            "replaced_proposals": len(replaced), "instance": instance_key, "result": result_key,
            # proposals of the solver's answer left out to keep goods offers within whole packages
            # (marketplace.rounds.fit_whole_units): a replay of the instance shows them, the round does not
            "dropped_for_whole_units": result.info.get("whole_units", {}).get("dropped", 0),
        }))
    return RoundSummary(round_id, result.stats.status, result.stats.objective, result.stats.bound,
                        len(proposals), len(refusals), len(replaced))


ALLOCATION_COLUMNS = ("round", "need", "offer", "lks", "amount", "priority", "status", "explanation")
UNMATCHED_COLUMNS = ("round", "need", "reason", "explanation")
NEED_EVENT_COLUMNS = ("need", "from_status", "to_status", "public_note", "occurred_at")
STATUS_CHUNK = 20_000
"""Needs per status UPDATE (one array parameter, so only to keep each statement short)."""


async def _move_needs(need_ids: list[int], from_status: str, to_status: str, note: str, now: datetime) -> None:
    """Set-wise status step of the round's needs, with a timeline event for each need actually moved."""
    for chunk in _chunks(need_ids, STATUS_CHUNK):
        moved = await setwise.set_status("need", list(chunk), to_status, from_status, ", updated_at = {}", now)
        await setwise.insert("need_event", NEED_EVENT_COLUMNS,
                             [(n, from_status, to_status, note, now) for n in sorted(moved)])


async def _analyze() -> None:
    """Fresh planner statistics after a round's bulk writes (PostgreSQL), so the approval list and the
    decision batches that follow get index plans at once, not after autovacuum's next pass."""
    if setwise.is_postgres():
        await Allocation.raw("ANALYZE allocation")
        await Allocation.raw("ANALYZE unmatched_need")


@job_handler("match.round")
async def round_job(ctx: JobContext) -> dict[str, Any]:
    summary = await run_round(ctx.payload["period"], ctx.payload.get("actor", "system"),
                              ctx.payload.get("started_by"), ctx.progress)
    return {"round_id": summary.round_id, "status": summary.status, "objective": summary.objective,
            "bound": summary.bound, "matched": summary.matched, "unmatched": summary.unmatched}
