"""Approve or reject a whole selection of a round (a kecamatan, an LKS, a kind, a priority threshold, or
everything), set-wise, in transactions of ``BATCH`` allocations.

Why it holds the same guarantees as ``storage.approval.approve`` one row at a time:

- each batch reads its facts in a handful of SQL statements, under the same locks and in the same order
  as a single approval (PostgreSQL: allocation rows, then households, then offers, then needs, then the
  audit chain), so a single approval by another officer waits for the batch or the batch for it, and
  neither can slip past the other's capacity or household cap;
- each row is then decided by the very rules of a single approval (``marketplace.approval.decide_batch``:
  ``check_approval`` with running totals, so the rows of a batch count against each other), and the
  writes are set-wise statements guarded again by the database (``status = 'proposed'``, ``remaining >=
  units``, the table's ``remaining >= 0`` check);
- a batch is one transaction: a refusal refuses its row only; a failure undoes that batch only; a
  job that stops half-way is simply run again: decided rows are skipped (and counted as skipped).

Each batch writes its ledger entries, its need events, one audit event naming its allocations, and
keeps one notification per LKS for the whole run up to date; the run ends with one audit event holding
the selection and the counts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from marketplace.approval import (
    REFUSAL_LABELS,
    Candidate,
    OfferState,
    check_rejection,
    decide_batch,
    end_of_period,
)
from marketplace.audit import AuditEvent
from marketplace.ledger import Entry, allocation_out
from marketplace.money import rupiah
from marketplace.needs import check_transition, public_note
from marketplace.reminders import Kind
from marketplace.settings import Settings, get_settings
from marketplace.vocabulary import AllocationStatus, NeedStatus
from storage import setwise
from storage.jobs import JobContext, job_handler
from storage.tables import MatchingRound, Notification
from storage.uow import unit_of_work

BATCH = 2000
"""Allocations per transaction (setting ``SELECTION_BATCH``): big enough for speed, small enough that a
lock is held for a moment only."""
COUNTED = ("approved", "delivered", "confirmed", "disputed")
Progress = Callable[[int, str], Awaitable[None]]


class SelectionError(ValueError):
    """A selection that cannot be decided; the message is Indonesian."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What the officer's filters select in one round (whatever the rows' status: decided rows are skipped)."""

    round_id: int
    kecamatan: str = ""
    lks_id: int | None = None
    kind: str = ""
    min_priority: int | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


@dataclass
class Tally:
    """What a run did. ``decided`` is approved (or rejected) rows; ``amount`` their rupiah."""

    action: str
    decided: int = 0
    amount: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    seen: int = 0
    batches: int = 0
    by_lks: dict[int, list[int]] = field(default_factory=dict)
    """LKS id → [allocations, rupiah of funds, units of goods] decided in this run."""

    def as_dict(self) -> dict[str, Any]:
        key = "approved" if self.action == "approve" else "rejected"
        return {"action": self.action, key: self.decided, "amount": self.amount,
                "refused": dict(self.refused), "refused_total": sum(self.refused.values()),
                "skipped": self.skipped, "seen": self.seen, "batches": self.batches}


INT4_MAX = 2**31 - 1


def check_selection(round_id: Any, kecamatan: Any = "", lks_id: Any = None, kind: Any = "",
                    min_priority: Any = None) -> Selection:
    """A selection from untrusted input (form, command line); ``SelectionError`` (Indonesian) if wrong."""
    from marketplace import regions
    from marketplace.vocabulary import KIND_LABELS

    def whole(value: Any, what: str, low: int) -> int | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        if not text.isdigit() or not low <= int(text) <= INT4_MAX:
            raise SelectionError(f"{what} harus bilangan bulat antara {low} dan {INT4_MAX}.")
        return int(text)

    rid = whole(round_id, "Nomor ronde", 1)
    if rid is None:
        raise SelectionError("Nomor ronde wajib diisi.")
    code = str(kecamatan or "").strip()
    if code and (code not in regions.by_code() or regions.by_code()[code].level != "kecamatan"):
        raise SelectionError(f"Kode kecamatan tidak dikenal: {code[:20]}")
    kind_code = str(kind or "").strip()
    if kind_code and kind_code not in KIND_LABELS:
        raise SelectionError(f"Jenis bantuan tidak dikenal: {kind_code[:20]}")
    return Selection(rid, code, whole(lks_id, "Id LKS", 1), kind_code, whole(min_priority, "Prioritas minimal", 0))


_is_postgres = setwise.is_postgres
_ids = setwise.ids
_rows = setwise.rows
_p = setwise.param
_raw = setwise.raw
_set_status = setwise.set_status


def _where(sel: Selection) -> tuple[str, str, list[Any]]:
    """JOINs, WHERE and arguments of the selection, for ``allocation a JOIN need n``."""
    joins = " JOIN household h ON h.id = n.household" if sel.kecamatan else ""
    where: list[str] = ["a.round = {}"]
    args: list[Any] = [sel.round_id]
    if sel.kecamatan:
        where.append("h.kelurahan_code LIKE {}")
        args.append(sel.kecamatan + ".%")
    if sel.lks_id:
        where.append("a.lks = {}")
        args.append(sel.lks_id)
    if sel.kind:
        where.append("n.kind = {}")
        args.append(sel.kind)
    if sel.min_priority is not None:
        where.append("a.priority >= {}")
        args.append(sel.min_priority)
    return joins, " AND ".join(where), args


async def selection_size(sel: Selection, status: str | None = AllocationStatus.PROPOSED) -> tuple[int, int]:
    """How many allocations (and how many rupiah) the selection holds, of one status or all."""
    joins, where, args = _where(sel)
    if status:
        where += " AND a.status = {}"
        args.append(status)
    rows = await _raw(f"SELECT COUNT(*) AS n, COALESCE(SUM(a.amount), 0) AS amount FROM allocation a "  # noqa: S608
                      f"JOIN need n ON n.id = a.need{joins} WHERE {where}", *args)
    return int(rows[0]["n"]), int(rows[0]["amount"])


async def _candidates(sel: Selection, after_id: int, limit: int) -> list[dict[str, Any]]:
    joins, where, args = _where(sel)
    lock = " FOR UPDATE OF a" if _is_postgres() else ""
    return await _raw(
        f"SELECT a.id, a.status, a.amount, a.priority, a.offer, a.lks, a.need, n.household "  # noqa: S608
        f"FROM allocation a JOIN need n ON n.id = a.need{joins} WHERE {where} AND a.id > {{}} "
        f"ORDER BY a.id LIMIT {{}}{lock}", *args, after_id, limit)


async def _lock_rows(table: str, ids: Sequence[int], columns: str) -> list[dict[str, Any]]:
    """Read (PostgreSQL: and lock, in id order) rows of ``household``, ``offer`` or ``need``."""
    assert table in ("household", "offer", "need")
    lock = " FOR UPDATE" if _is_postgres() else ""
    where, args = _ids("id", ids)
    return await _raw(f'SELECT {columns} FROM "{table}" WHERE {where} ORDER BY id{lock}', *args)  # noqa: S608


async def _household_approved(households: Sequence[int], period: str) -> dict[int, int]:
    where, args = _ids("n.household", households)
    counted = ", ".join(f"'{s}'" for s in COUNTED)
    rows = await _raw(
        "SELECT n.household, SUM(a.amount) AS total FROM allocation a JOIN need n ON n.id = a.need "  # noqa: S608
        f"JOIN matching_round r ON r.id = a.round WHERE r.period = {{}} AND a.status IN ({counted}) "
        f"AND {where} GROUP BY n.household", period, *args)
    return {int(r["household"]): int(r["total"] or 0) for r in rows}


async def _government_aid(households: Sequence[int], period: str) -> dict[tuple[int, str], int]:
    where, args = _ids("household", households)
    rows = await _raw(
        "SELECT household, kind, SUM(amount) AS total FROM government_aid WHERE period = {} "  # noqa: S608
        f"AND {where} GROUP BY household, kind", period, *args)
    return {(int(r["household"]), str(r["kind"])): int(r["total"] or 0) for r in rows}


async def _take_capacity(units_by_offer: dict[int, int]) -> None:
    """One guarded statement for all offers of the batch; the locks make a shortfall impossible, so one
    is a bug and undoes the batch."""
    table, args = _rows(("int", "bigint"), sorted(units_by_offer.items()))
    rows = await _raw(f"UPDATE offer SET remaining = remaining - t.c1 FROM {table} t "  # noqa: S608
                      "WHERE offer.id = t.c0 AND offer.remaining >= t.c1 RETURNING offer.id", *args)
    if len(rows) != len(units_by_offer):
        raise RuntimeError("offer capacity changed under a held lock")


async def _need_events(need_ids: Sequence[int], from_status: str, to_status: str, at: datetime) -> None:
    note = public_note(check_transition(from_status, to_status))
    table, args = _rows(("int",), [(n,) for n in need_ids])
    await _raw(f"INSERT INTO need_event (need, from_status, to_status, public_note, occurred_at) "  # noqa: S608
               f"SELECT t.c0, {_p('text')}, {_p('text')}, {_p('text')}, {_p('timestamptz')} FROM {table} t",
               from_status, to_status, note, at, *args)


async def _ledger_out(entries: Sequence[tuple[int, Entry]], at: datetime) -> None:
    """The approved funds leave the LKS ledgers: one entry per allocation (``marketplace.ledger``)."""
    if not entries:
        return
    table, args = _rows(("int", "text", "bigint", "int", "text"), [
        (lks_id, str(e.entry_type), e.amount, e.allocation_id, e.memo) for lks_id, e in entries])
    await _raw("INSERT INTO ledger_entry (lks, entry_type, amount, allocation, memo, created_at) "  # noqa: S608
               f"SELECT t.c0, t.c1, t.c2, t.c3, t.c4, {_p('timestamptz')} FROM {table} t", at, *args)


def _notification_text(action_round: int, counts: list[int], deliver_by: str) -> str:
    n, funds, units = counts
    what = [rupiah(funds)] if funds else []
    what += [f"{units} unit barang"] if units else []
    return (f"Dinas Sosial menyetujui {n} alokasi ronde #{action_round} untuk LKS Anda "
            f"({' dan '.join(what) or 'tanpa nilai'}); salurkan paling lambat {deliver_by}.")


async def _notify(run: str, round_id: int, tally: Tally, lks_ids: set[int], deliver_by: str) -> None:
    """One notification per LKS per run, kept up to date batch by batch (inside the batch's transaction)."""
    link = f"/lks-saya/keluarga#keputusan-{run}"
    for lks_id in sorted(lks_ids):
        message = _notification_text(round_id, tally.by_lks[lks_id], deliver_by)
        updated = await Notification.update({Notification.message: message, Notification.read_at: None}).where(
            (Notification.lks == lks_id) & (Notification.link == link)).returning(Notification.id)
        if not updated:
            await Notification.insert(Notification(lks=lks_id, message=message, link=link, kind=Kind.DECISION))


async def _approve_batch(sel: Selection, period: str, after_id: int, run: str, tally: Tally, actor: str,
                         decided_by: int | None, cap: int, limit: int) -> int | None:
    """Decide the next batch after ``after_id``; return its last allocation id, None when there is none."""
    async with unit_of_work() as uow:
        rows = await _candidates(sel, after_id, limit)
        if not rows:
            return None
        proposed = [r for r in rows if r["status"] == AllocationStatus.PROPOSED]
        tally.seen += len(rows)
        tally.batches += 1
        tally.skipped += len(rows) - len(proposed)
        if not proposed:
            return int(rows[-1]["id"])
        households = sorted({int(r["household"]) for r in proposed})
        if _is_postgres():
            await _lock_rows("household", households, "id")
        offers = {int(o["id"]): o for o in await _lock_rows(
            "offer", sorted({int(r["offer"]) for r in proposed}), "id, status, remaining, is_goods, unit_value")}
        needs = {int(n["id"]): n for n in await _lock_rows(
            "need", sorted({int(r["need"]) for r in proposed}), "id, status, amount, kind")}
        approved_before = await _household_approved(households, period)
        aid = await _government_aid(households, period)
        states = {oid: OfferState(str(o["status"]), int(o["remaining"]),
                                  int(o["unit_value"] or 0) if o["is_goods"] else 0) for oid, o in offers.items()}
        candidates = [Candidate(
            allocation_id=int(r["id"]), allocation_status=str(r["status"]), household_id=int(r["household"]),
            offer_id=int(r["offer"]), amount=int(r["amount"]), need_status=str(needs[int(r["need"])]["status"]),
            need_amount=int(needs[int(r["need"])]["amount"]),
            government_aid=aid.get((int(r["household"]), str(needs[int(r["need"])]["kind"])), 0),
        ) for r in sorted(proposed, key=lambda r: (-int(r["priority"]), int(r["id"])))]
        outcomes = decide_batch(candidates, approved_before, states, cap)
        by_id = {int(r["id"]): r for r in proposed}
        done = [o for o in outcomes if o.result == "approved"]
        refused = {str(o.candidate.allocation_id): o.rule for o in outcomes if o.result == "refused"}
        now = datetime.now(UTC)
        ids = sorted(o.candidate.allocation_id for o in done)
        if ids:
            deliver_by = end_of_period(period)
            changed = await _set_status(
                "allocation", ids, AllocationStatus.APPROVED, AllocationStatus.PROPOSED,
                ", decided_by = {}, decided_at = {}, rejection_reason = '', deliver_by = COALESCE(deliver_by, {})",
                decided_by, now, deliver_by)
            if len(changed) != len(ids):
                raise RuntimeError("allocation decided under a held lock")
            units: Counter[int] = Counter()
            for o in done:
                units[o.candidate.offer_id] += o.units
            await _take_capacity(dict(units))
            await _ledger_out([(int(by_id[o.candidate.allocation_id]["lks"]),
                                allocation_out(o.candidate.allocation_id, o.candidate.amount))
                               for o in done if not offers[o.candidate.offer_id]["is_goods"]], now)
            need_ids = sorted(int(by_id[i]["need"]) for i in ids)
            moved = await _set_status("need", need_ids, NeedStatus.APPROVED, NeedStatus.MATCHED,
                                      ", updated_at = {}", now)
            if len(moved) != len(need_ids):
                raise RuntimeError("need changed under a held lock")
            await _need_events(need_ids, NeedStatus.MATCHED, NeedStatus.APPROVED, now)
            touched: set[int] = set()
            for o in done:
                lks_id = int(by_id[o.candidate.allocation_id]["lks"])
                counts = tally.by_lks.setdefault(lks_id, [0, 0, 0])
                counts[0] += 1
                if offers[o.candidate.offer_id]["is_goods"]:
                    counts[2] += o.units
                else:
                    counts[1] += o.candidate.amount
                touched.add(lks_id)
            await _notify(run, sel.round_id, tally, touched, f"{deliver_by:%d-%m-%Y}")
        await uow.record(AuditEvent(actor, "allocation.approve_batch", "matching_round", str(sel.round_id), None, {
            "run": run, "selection": sel.describe(), "approved": ids, "refused": refused,
            "skipped": len(rows) - len(proposed), "first": int(rows[0]["id"]), "last": int(rows[-1]["id"]),
        }))
    tally.decided += len(ids)
    tally.amount += sum(o.candidate.amount for o in done)
    tally.refused.update(refused.values())
    return int(rows[-1]["id"])


async def _reject_batch(sel: Selection, reason: str, after_id: int, run: str, tally: Tally, actor: str,
                        decided_by: int | None, limit: int) -> int | None:
    async with unit_of_work() as uow:
        rows = await _candidates(sel, after_id, limit)
        if not rows:
            return None
        proposed = [r for r in rows if r["status"] == AllocationStatus.PROPOSED]
        tally.seen += len(rows)
        tally.batches += 1
        tally.skipped += len(rows) - len(proposed)
        ids = sorted(int(r["id"]) for r in proposed)
        if ids:
            now = datetime.now(UTC)
            changed = await _set_status("allocation", ids, AllocationStatus.REJECTED, AllocationStatus.PROPOSED,
                                        ", rejection_reason = {}, decided_by = {}, decided_at = {}",
                                        reason, decided_by, now)
            if len(changed) != len(ids):
                raise RuntimeError("allocation decided under a held lock")
            # a matched need goes back in the pool for the next round (as a single rejection does)
            need_ids = sorted(int(r["need"]) for r in proposed)
            if _is_postgres():
                await _lock_rows("need", need_ids, "id")
            moved = await _set_status("need", need_ids, NeedStatus.VERIFIED, NeedStatus.MATCHED,
                                      ", updated_at = {}", now)
            if moved:
                await _need_events(sorted(moved), NeedStatus.MATCHED, NeedStatus.VERIFIED, now)
        await uow.record(AuditEvent(actor, "allocation.reject_batch", "matching_round", str(sel.round_id), None, {
            "run": run, "selection": sel.describe(), "rejected": ids, "reason": reason,
            "skipped": len(rows) - len(proposed), "first": int(rows[0]["id"]), "last": int(rows[-1]["id"]),
        }))
    tally.decided += len(ids)
    tally.amount += sum(int(r["amount"]) for r in proposed)
    return int(rows[-1]["id"])


async def decide_selection(sel: Selection, action: str, actor: str, *, decided_by: int | None = None,
                           reason: str = "", progress: Progress | None = None, settings: Settings | None = None,
                           batch_size: int | None = None) -> Tally:
    """Approve (``action="approve"``) or reject (``"reject"``, with ``reason``) everything ``sel`` selects.

    Safe to run again after an interruption or beside single decisions: see the module docstring.
    """
    settings = settings or get_settings()
    batch_size = batch_size or settings.selection_batch
    if action not in ("approve", "reject"):
        raise SelectionError("Keputusan harus 'approve' (setujui) atau 'reject' (tolak).")
    if action == "reject":
        reason = check_rejection(AllocationStatus.PROPOSED, reason)
    rnd = await MatchingRound.select(MatchingRound.id, MatchingRound.period).where(
        MatchingRound.id == sel.round_id).first()
    if rnd is None:
        raise SelectionError(f"Ronde #{sel.round_id} tidak ditemukan.")
    total, _ = await selection_size(sel, None)
    run = uuid.uuid4().hex[:12]
    tally = Tally(action)
    after = 0
    while True:
        if action == "approve":
            last = await _approve_batch(sel, str(rnd["period"]), after, run, tally, actor, decided_by,
                                        settings.household_cap, batch_size)
        else:
            last = await _reject_batch(sel, reason, after, run, tally, actor, decided_by, batch_size)
        if last is None:
            break
        after = last
        if progress is not None:
            done_pct = min(99, tally.seen * 100 // total) if total else 99
            await progress(done_pct, _progress_text(tally, total))
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(actor, f"allocation.{action}_selection", "matching_round", str(sel.round_id),
                                    None, {"run": run, "selection": sel.describe(), **tally.as_dict()}))
    await _email_lks(tally, sel.round_id, str(rnd["period"]), settings)
    if progress is not None:
        await progress(100, _progress_text(tally, total))
    return tally


def _progress_text(tally: Tally, total: int) -> str:
    verb = "disetujui" if tally.action == "approve" else "ditolak"
    return (f"{tally.seen} dari {total} alokasi diperiksa: {tally.decided} {verb}, "
            f"{sum(tally.refused.values())} tidak lolos pemeriksaan, {tally.skipped} sudah diputuskan sebelumnya.")


def refusal_lines(refused: dict[str, int], lang: str = "id") -> list[str]:
    """``{"cap": 3}`` → ``["batas bantuan per keluarga terlampaui: 3"]`` (for the CLI and the page)."""
    index = 0 if lang == "id" else 1
    return [f"{REFUSAL_LABELS.get(rule, (rule, rule))[index]}: {n}" for rule, n in sorted(refused.items())]


async def _email_lks(tally: Tally, round_id: int, period: str, settings: Settings) -> None:
    """After the run: one e-mail per LKS (when SMTP is configured); a mail failure never undoes anything."""
    if tally.action != "approve" or not settings.smtp_host:
        return
    from storage.approval import notify_lks_by_email

    deliver_by = f"{end_of_period(period):%d-%m-%Y}"
    for lks_id, counts in sorted(tally.by_lks.items()):
        await notify_lks_by_email(lks_id, _notification_text(round_id, counts, deliver_by), settings)


def selection_from(payload: dict[str, Any]) -> Selection:
    def whole(value: Any) -> int | None:
        return None if value in (None, "") else int(value)

    return Selection(int(payload["round_id"]), str(payload.get("kecamatan") or ""), whole(payload.get("lks_id")),
                     str(payload.get("kind") or ""), whole(payload.get("min_priority")))


@job_handler("allocation.selection")
async def selection_job(ctx: JobContext) -> dict[str, Any]:
    """The background job behind "approve/reject everything selected" on ``/alokasi``."""
    p = ctx.payload
    tally = await decide_selection(selection_from(p["selection"]), str(p["action"]), str(p.get("actor", "system")),
                                   decided_by=p.get("decided_by"), reason=str(p.get("reason", "")),
                                   progress=ctx.progress)
    return {**tally.as_dict(), "round_id": int(p["selection"]["round_id"])}
