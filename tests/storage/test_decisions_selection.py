"""Deciding a whole selection: the same rules as a single approval, batch by batch, re-runnable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from click.testing import CliRunner

from storage import approval, audit
from storage.decisions import selection as sel_mod
from storage.decisions.selection import Selection, SelectionError, check_selection, decide_selection
from storage.tables import (
    Allocation,
    AuditEvent,
    GovernmentAid,
    LedgerEntry,
    Lks,
    Need,
    NeedEvent,
    Notification,
    Offer,
)
from tests.storage.test_approval import PERIOD, World, add_allocation, build, make_household, snapshot


async def _status(ids: list[int]) -> list[str]:
    rows = {r["id"]: r["status"] for r in await Allocation.select(Allocation.id, Allocation.status)
            .where(Allocation.id.is_in(ids))}
    return [rows[i] for i in ids]


async def _remaining(offer_id: int) -> int:
    return int((await Offer.select(Offer.remaining).where(Offer.id == offer_id).first())["remaining"])


async def test_approves_a_whole_round_with_ledger_events_notification_and_audit(db: None) -> None:
    w = await build(5, capacity=2_000_000)
    tally = await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=2)
    assert (tally.decided, tally.skipped, dict(tally.refused), tally.batches) == (5, 0, {}, 3)
    assert tally.amount == 1_500_000
    assert await _status(w.allocations) == ["approved"] * 5
    assert await _remaining(w.offer_id) == 500_000
    assert await Need.count().where(Need.status == "approved") == 5
    assert await NeedEvent.count().where(NeedEvent.to_status == "approved") == 5
    ledger = await LedgerEntry.select(LedgerEntry.amount, LedgerEntry.allocation)
    assert sorted(e["allocation"] for e in ledger) == w.allocations and {e["amount"] for e in ledger} == {-300_000}
    assert all(r["deliver_by"] is not None for r in await Allocation.select(Allocation.deliver_by))
    notes = await Notification.select()
    assert len(notes) == 1 and notes[0]["lks"] == w.lks_id  # one per LKS for the whole run, not per batch
    assert "5 alokasi" in notes[0]["message"] and "1.500.000" in notes[0]["message"]
    batches = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "allocation.approve_batch")
    assert len(batches) == 3
    approved_ids = sorted(i for b in batches for i in _json(b["after"])["approved"])
    assert approved_ids == w.allocations
    final = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "allocation.approve_selection").first()
    after = _json(final["after"])
    assert after["approved"] == 5 and after["selection"] == {"round_id": w.round_id}
    assert (await audit.verify()).ok


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


async def test_every_refusal_reason_is_counted_and_refused_rows_stay_proposed(db: None) -> None:
    w = await build(0, capacity=1_350_000)
    ok = await add_allocation(w, amount=300_000, priority=99)
    referred = await add_allocation(w, amount=300_000, priority=98)
    await Need.update({Need.status: "referred"}).where(Need.id == w.needs[-1])
    only_verified = await add_allocation(w, amount=300_000, priority=97, need_status="verified")
    aided = await add_allocation(w, amount=300_000, priority=96)
    await GovernmentAid.insert(GovernmentAid(household=w.households[-1], program="BPNT", kind="pangan",
                                             period=PERIOD, amount=300_000))
    hh, _ = await make_household()
    cap_first = await add_allocation(w, amount=600_000, household=hh, priority=95)  # passes: 600k of a 2m cap
    # a second offer, closed since the round
    closed_offer = await Offer.insert(Offer(lks=w.lks_id, title="Tutup", period=PERIOD, kind="pangan",
                                            capacity=9_000_000, remaining=9_000_000, status="closed")
                                      ).returning(Offer.id)
    closed = await add_allocation(w, amount=300_000, priority=94)
    await Allocation.update({Allocation.offer: closed_offer[0]["id"]}).where(Allocation.id == closed)
    # the same household: 600k approved in this batch + 1.5m more would pass 2m
    cap_second = await add_allocation(w, amount=1_500_000, household=hh, priority=93)
    # capacity: 1.35m - 300k - 600k = 450k left; 300k fits, the next 300k does not
    fits = await add_allocation(w, amount=300_000, priority=92)
    no_room = await add_allocation(w, amount=300_000, priority=91)
    tally = await decide_selection(Selection(w.round_id), "approve", "admin")
    assert tally.decided == 3 and tally.skipped == 0
    assert dict(tally.refused) == {"need": 2, "aid": 1, "offer": 1, "cap": 1, "capacity": 1}
    statuses = dict(zip(w.allocations, await _status(w.allocations), strict=True))
    assert [statuses[i] for i in (ok, cap_first, fits)] == ["approved"] * 3
    assert all(statuses[i] == "proposed" for i in (referred, only_verified, aided, closed, cap_second, no_room))
    assert await _remaining(w.offer_id) == 150_000
    assert await LedgerEntry.count() == 3
    lines = sel_mod.refusal_lines(dict(tally.refused))
    assert "batas bantuan per keluarga terlampaui: 1" in lines and len(lines) == 5


async def test_household_cap_counts_rows_approved_before_and_across_batches(db: None) -> None:
    w = await build(0, capacity=10_000_000)
    hh, _ = await make_household()
    first = await add_allocation(w, amount=900_000, household=hh, priority=90)
    await approval.approve(first, "officer")  # a single approval earlier
    across = [await add_allocation(w, amount=700_000, household=hh, priority=80 - i) for i in range(3)]
    tally = await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=1)
    assert tally.skipped == 1 and tally.decided == 1 and dict(tally.refused) == {"cap": 2}
    assert await _status(across) == ["approved", "proposed", "proposed"]


async def test_goods_take_whole_units_and_no_ledger(db: None) -> None:
    w = await build(3, capacity=8, is_goods=True, unit_value=100_000, amount=250_000)  # 3 units each
    tally = await decide_selection(Selection(w.round_id), "approve", "admin")
    assert tally.decided == 2 and dict(tally.refused) == {"capacity": 1}
    assert await _remaining(w.offer_id) == 2
    assert await LedgerEntry.count() == 0
    note = await Notification.select(Notification.message).first()
    assert "6 unit barang" in note["message"]


async def test_filters_select_only_their_rows(db: None) -> None:
    w = await build(2, capacity=10_000_000)
    other_kec = await add_allocation(w, kelurahan="32.73.01.1001", priority=10)
    health = await add_allocation(w, kind="kesehatan", priority=60)
    second_lks = await Lks.insert(Lks(name="Yayasan Dua", legal_type="yayasan", status="verified")).returning(Lks.id)
    of_lks = await add_allocation(w, priority=70)
    await Allocation.update({Allocation.lks: second_lks[0]["id"]}).where(Allocation.id == of_lks)
    tally = await decide_selection(Selection(w.round_id, kecamatan="32.73.01"), "approve", "admin")
    assert tally.decided == 1 and await _status([other_kec]) == ["approved"]
    assert (await decide_selection(Selection(w.round_id, kind="kesehatan"), "approve", "admin")).decided == 1
    assert await _status([health]) == ["approved"]
    assert (await decide_selection(Selection(w.round_id, lks_id=second_lks[0]["id"]), "approve", "a")).decided == 1
    assert (await decide_selection(Selection(w.round_id, min_priority=81), "approve", "admin")).seen == 0
    left = await decide_selection(Selection(w.round_id, min_priority=80), "approve", "admin")
    assert (left.decided, left.skipped) == (2, 0)


async def test_re_running_skips_what_is_decided_and_changes_nothing(db: None) -> None:
    w = await build(4, capacity=900_000)  # room for three
    first = await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=3)
    assert (first.decided, dict(first.refused), first.skipped) == (3, {"capacity": 1}, 0)
    before = await snapshot()
    audit_before = before.pop("audit")
    notes_before = before.pop("notes")
    again = await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=3)
    assert (again.decided, dict(again.refused), again.skipped) == (0, {"capacity": 1}, 3)
    after = await snapshot()
    assert after.pop("notes") == notes_before  # nothing approved, nobody notified
    assert after.pop("audit") > audit_before  # the run itself is on the record
    assert after == before


async def test_an_interrupted_run_keeps_its_finished_batches_and_completes_when_run_again(db: None) -> None:
    w = await build(6, capacity=2_000_000)
    original = sel_mod._take_capacity
    calls = 0

    async def failing(units: dict[int, int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("worker stopped")
        await original(units)

    sel_mod._take_capacity = failing  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=2)
    finally:
        sel_mod._take_capacity = original  # type: ignore[assignment]
    assert await _status(w.allocations) == ["approved"] * 2 + ["proposed"] * 4  # batch 2 left nothing behind
    assert await LedgerEntry.count() == 2 and await _remaining(w.offer_id) == 1_400_000
    assert await NeedEvent.count().where(NeedEvent.to_status == "approved") == 2
    tally = await decide_selection(Selection(w.round_id), "approve", "admin", batch_size=2)
    assert (tally.decided, tally.skipped) == (4, 2)
    assert await LedgerEntry.count() == 6 and await _remaining(w.offer_id) == 200_000
    assert (await audit.verify()).ok


async def test_reject_selection_returns_needs_to_the_pool(db: None) -> None:
    w = await build(3)
    await approval.approve(w.allocations[0], "officer")
    with pytest.raises(ValueError, match="Alasan"):
        await decide_selection(Selection(w.round_id), "reject", "admin", reason=" ")
    tally = await decide_selection(Selection(w.round_id), "reject", "admin", reason="Anggaran dialihkan")
    assert (tally.decided, tally.skipped, dict(tally.refused)) == (2, 1, {})
    assert await _status(w.allocations) == ["approved", "rejected", "rejected"]
    needs = {r["id"]: r["status"] for r in await Need.select(Need.id, Need.status)}
    assert [needs[n] for n in w.needs] == ["approved", "verified", "verified"]
    assert await NeedEvent.count().where(NeedEvent.to_status == "verified") == 2
    rows = await Allocation.select(Allocation.rejection_reason).where(Allocation.status == "rejected")
    assert {r["rejection_reason"] for r in rows} == {"Anggaran dialihkan"}
    assert await _remaining(w.offer_id) == 700_000
    assert await AuditEvent.count().where(AuditEvent.action == "allocation.reject_selection") == 1
    assert (await audit.verify()).ok


async def test_bad_selections_are_refused_with_clear_messages(db: None) -> None:
    for args, words in [((None,), "wajib"), (("x",), "bilangan bulat"), ((2**31,), "bilangan bulat"),
                        ((1, "99.99"), "kecamatan"), ((1, "32.73.03.1001"), "kecamatan"),
                        ((1, "", None, "senjata"), "Jenis bantuan"), ((1, "", "-1"), "Id LKS"),
                        ((1, "", None, "", "1e3"), "Prioritas")]:
        with pytest.raises(SelectionError, match=words):
            check_selection(*args)
    assert check_selection("7", "32.73.03", "2", "pangan", "50") == Selection(7, "32.73.03", 2, "pangan", 50)
    with pytest.raises(SelectionError, match="tidak ditemukan"):
        await decide_selection(Selection(999_999), "approve", "admin")
    with pytest.raises(SelectionError):
        await decide_selection(Selection(1), "hapus", "admin")


def test_command_line_prints_approved_refused_and_skipped(db: None) -> None:
    async def setup() -> World:
        w = await build(3, capacity=600_000)
        await approval.approve(w.allocations[0], "officer")
        return w

    w = asyncio.run(setup())
    runner = CliRunner()
    from portal.cli import cli

    result = runner.invoke(cli, ["allocations", "approve", "--round", str(w.round_id)])
    assert result.exit_code == 0, result.output
    assert "1 alokasi disetujui" in result.output and "1 tidak lolos" in result.output
    assert "1 dilewati" in result.output and "sisa kapasitas penawaran tidak cukup: 1" in result.output
    as_json = runner.invoke(cli, ["allocations", "approve", "--round", str(w.round_id), "--json"])
    data = json.loads(as_json.output)
    assert data["approved"] == 0 and data["skipped"] == 2 and data["refused"] == {"capacity": 1}
    rejected = runner.invoke(cli, ["allocations", "reject", "--round", str(w.round_id), "--reason", "Data ganda"])
    assert rejected.exit_code == 0 and "1 alokasi ditolak" in rejected.output
    bad = runner.invoke(cli, ["allocations", "approve", "--round", "abc"])
    assert bad.exit_code == 2 and "bilangan bulat" in bad.output
    no_reason = runner.invoke(cli, ["allocations", "reject", "--round", str(w.round_id), "--reason", "x"])
    assert no_reason.exit_code == 2 and "Alasan" in no_reason.output


@pytest.mark.postgres
async def test_selection_racing_single_approvals_never_over_commits(db: None) -> None:
    """Officer A approves the whole round while officer B approves the same rows one by one."""
    w = await build(0, capacity=6_000_000)
    households = [(await make_household())[0] for _ in range(10)]
    for i in range(60):  # 60 × 400k = 24m proposed on a 6m offer; each household 6 × 400k against a 2m cap
        await add_allocation(w, amount=400_000, household=households[i % 10], priority=i % 7)

    async def officer_b() -> int:
        ok = 0
        for a in reversed(w.allocations):
            results = await approval.decide_many([a], "approve", "", "officer-b")
            ok += results[0].ok
        return ok

    tally, single = await asyncio.gather(
        decide_selection(Selection(w.round_id), "approve", "officer-a", batch_size=7), officer_b())
    approved = await Allocation.select(Allocation.amount, Allocation.need.household.as_alias("hh")).where(
        Allocation.status == "approved")
    assert tally.decided + single == len(approved) == 15  # 6m / 400k
    assert await _remaining(w.offer_id) == 0
    per_household: dict[int, int] = {}
    for r in approved:
        per_household[r["hh"]] = per_household.get(r["hh"], 0) + int(r["amount"])
    assert max(per_household.values()) <= 2_000_000
    assert await LedgerEntry.count() == 15
    assert await Need.count().where(Need.status == "approved") == 15
    assert (await audit.verify()).ok
