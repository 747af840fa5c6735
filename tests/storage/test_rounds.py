"""Matching rounds from the database: the contract instance, stored proposals and reasons, replay,
replacement of unapproved proposals, and nothing left behind by a failure."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marketplace.settings import get_settings
from matching import SolverSettings, parse_instance, solve_json
from storage import rounds
from storage.jobs import InProcessQueue, wait_for
from storage.objects import make_object_store
from storage.tables import Allocation, AuditEvent, MatchingRound, Need, NeedEvent, Offer, UnmatchedNeed
from tests import roundfixtures as f


async def _city():
    h1 = await f.household("32.73.03.1001", n=1)
    h2 = await f.household("32.73.03.1003", n=2)
    h3 = await f.household("32.73.15.1001", n=3)
    n1 = await f.need(h1, "pangan", 300_000, priority=90)
    n2 = await f.need(h2, "pangan", 400_000, priority=40)
    n3 = await f.need(h3, "pendidikan", 1_000_000, priority=70)  # no LKS offers pendidikan
    n4 = await f.need(h2, "kesehatan", 200_000, priority=60)
    await f.aid(h2, "kesehatan", 250_000, program="PBI-JK")  # covers n4 whole
    owner = await f.lks("Yayasan Peduli Bandung")
    o1 = await f.offer(owner, "pangan", capacity=500_000, areas=["32.73.03"])
    return {"needs": (n1, n2, n3, n4), "offer": o1, "lks": owner}


async def test_round_proposes_explains_and_keeps_a_replayable_instance(db):
    city = await _city()
    n1, n2, n3, n4 = city["needs"]
    summary = await rounds.run_round(f.PERIOD, "tester")
    assert summary.matched == 1 and summary.unmatched == 3
    alloc = await Allocation.select().first()
    assert (alloc["need"], alloc["offer"], alloc["amount"], alloc["status"]) == (n1, city["offer"], 300_000, "proposed")
    assert "Yayasan Peduli Bandung" in alloc["explanation"] and "Babakan Ciparay" in alloc["explanation"]
    reasons = {r["need"]: r["reason"] for r in await UnmatchedNeed.select()}
    assert reasons == {n2: "not_selected", n3: "no_eligible_offer", n4: "covered_by_government"}
    no_offer = await UnmatchedNeed.select(UnmatchedNeed.explanation).where(UnmatchedNeed.need == n3).first()
    assert "pendidikan" in no_offer["explanation"]
    statuses = {r["id"]: r["status"] for r in await Need.select(Need.id, Need.status)}
    assert statuses[n1] == "matched" and statuses[n2] == "verified"
    assert await NeedEvent.exists().where((NeedEvent.need == n1) & (NeedEvent.to_status == "matched"))
    assert await AuditEvent.exists().where(AuditEvent.action == "round.proposed")

    row = await MatchingRound.select().first()
    store = make_object_store()
    instance = json.loads(store.get(row["instance_key"]))
    stored_result = json.loads(store.get(row["result_key"]))
    parse_instance(instance)  # exactly the contract form
    assert "household_cap" in instance and instance["household_cap"] == get_settings().household_cap
    assert all(n["household"].startswith("KK-") and len(n["household"]) < 16 for n in instance["needs"])
    replay = solve_json(instance, SolverSettings(time_limit=get_settings().match_time_limit,
                                                 workers=get_settings().match_workers, seed=get_settings().match_seed))
    assert replay["allocations"] == stored_result["allocations"]
    assert replay["unmatched"] == stored_result["unmatched"]
    assert row["objective"] == 90 and row["solver_status"] == "OPTIMAL"


async def test_goods_offers_enter_in_rupiah(db):
    h = await f.household(n=7)
    n = await f.need(h, "pangan", 300_000)
    owner = await f.lks()
    await f.offer(owner, "pangan", capacity=2, unit_value=150_000, max_per_need=2)  # 2 paket of Rp150.000
    _, offers, _, _ = await rounds.load_records(f.PERIOD)
    assert offers[0].capacity_rupiah == 300_000 and offers[0].max_per_need_rupiah == 300_000
    summary = await rounds.run_round(f.PERIOD, "tester")
    assert summary.matched == 1
    assert (await Allocation.select(Allocation.need).first())["need"] == n


async def test_goods_proposals_fit_whole_packages_so_approval_refuses_none(db):
    """3 packages of Rp150.000 (Rp450.000 in the contract): the solver fits Rp160.000 + 140.000 + 140.000, but
    the Rp160.000 need takes two packages at approval. The round keeps the two needs worth most per package."""
    from storage.decisions.selection import Selection, decide_selection

    big = await f.need(await f.household(n=11), "pangan", 160_000, priority=60)
    small = [await f.need(await f.household(n=12 + i), "pangan", 140_000, priority=50) for i in range(2)]
    owner = await f.lks()
    offer = await f.offer(owner, "pangan", capacity=3, unit_value=150_000)
    summary = await rounds.run_round(f.PERIOD, "tester")
    assert summary.matched == 2
    assert sorted(r["need"] for r in await Allocation.select(Allocation.need)) == sorted(small)
    dropped = await UnmatchedNeed.select().where(UnmatchedNeed.need == big).first()
    assert dropped["reason"] == "not_selected"
    row = await MatchingRound.select().first()
    assert row["objective"] == 100
    stored = json.loads(make_object_store().get(row["result_key"]))
    assert {u["need"] for u in stored["unmatched"]} == {f"N-{big}"}  # the stored result is the one proposed
    audit = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "round.proposed").first()
    after = audit["after"] if isinstance(audit["after"], dict) else json.loads(audit["after"])
    assert after["dropped_for_whole_units"] == 1
    tally = await decide_selection(Selection(row["id"]), "approve", "tester")
    assert tally.decided == 2 and not tally.refused
    assert (await Offer.select(Offer.remaining).where(Offer.id == offer).first())["remaining"] == 1


async def test_rerun_replaces_unapproved_proposals_only(db):
    city = await _city()
    n1 = city["needs"][0]
    h = await f.household("32.73.03.1002", n=9)
    extra = await f.need(h, "pangan", 100_000, priority=20)
    await rounds.run_round(f.PERIOD, "tester")
    first = {r["need"]: r for r in await Allocation.select()}
    assert set(first) == {n1, extra}
    # Dinsos approves n1's proposal; the second run must leave it alone and replace the rest.
    await Allocation.update({Allocation.status: "approved"}).where(Allocation.need == n1)
    await Need.update({Need.status: "approved"}).where(Need.id == n1)
    await Offer.update({Offer.remaining: Offer.remaining - 300_000}).where(Offer.id == city["offer"])
    second = await rounds.run_round(f.PERIOD, "tester")
    rows = await Allocation.select()
    assert sorted((r["need"], r["status"], r["round"]) for r in rows) == sorted(
        [(n1, "approved", first[n1]["round"]), (extra, "proposed", second.round_id)])
    assert second.replaced == 1
    assert await UnmatchedNeed.count().where(UnmatchedNeed.round == first[n1]["round"]) == 0


async def test_a_failure_while_storing_leaves_no_round_and_no_objects(db, monkeypatch):
    await _city()

    from storage import setwise

    original = setwise.insert

    async def broken_insert(table, columns, values):
        if table == "unmatched_need":  # the allocations are written by then
            raise RuntimeError("disk full")
        await original(table, columns, values)

    objects = Path(get_settings().object_dir) / "rounds"
    before = set(objects.rglob("*.json")) if objects.exists() else set()
    monkeypatch.setattr(setwise, "insert", broken_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        await rounds.run_round(f.PERIOD, "tester")
    monkeypatch.setattr(setwise, "insert", original)
    assert await MatchingRound.count() == 0
    assert await Allocation.count() == 0
    assert {r["status"] for r in await Need.select(Need.status)} == {"verified"}
    assert (set(objects.rglob("*.json")) if objects.exists() else set()) == before


async def test_a_failure_while_explaining_leaves_no_round_and_no_objects(db, monkeypatch):
    """The refusals are explained in a thread while the proposals are written: its failure undoes those."""
    await _city()
    objects = Path(get_settings().object_dir) / "rounds"
    before = set(objects.rglob("*.json")) if objects.exists() else set()

    def broken(*args, **kwargs):
        raise RuntimeError("explainer broke")

    monkeypatch.setattr(rounds, "explain_refusals", broken)
    with pytest.raises(RuntimeError, match="explainer broke"):
        await rounds.run_round(f.PERIOD, "tester")
    assert await MatchingRound.count() == 0
    assert await Allocation.count() == 0
    assert {r["status"] for r in await Need.select(Need.status)} == {"verified"}
    assert (set(objects.rglob("*.json")) if objects.exists() else set()) == before


async def test_round_without_verified_needs_is_refused(db):
    with pytest.raises(rounds.RoundError, match="Tidak ada kebutuhan"):
        await rounds.run_round(f.PERIOD, "tester")
    with pytest.raises(rounds.RoundError, match="TTTT-BB"):
        await rounds.run_round("November", "tester")


async def test_round_runs_as_a_background_job_with_progress(db):
    await _city()
    job_id = await InProcessQueue().enqueue("match.round", {"period": f.PERIOD, "actor": "tester"})
    job = await wait_for(job_id, timeout=60)
    assert job["status"] == "done" and job["progress"] == 100
    result = job["result"] if isinstance(job["result"], dict) else json.loads(job["result"])
    assert result["matched"] == 1 and await MatchingRound.count() == 1


@pytest.mark.postgres
async def test_round_killed_mid_solve_leaves_nothing_behind(db):
    await f.many_needs(6000)
    objects = Path(get_settings().object_dir) / "rounds"
    before = set(objects.rglob("*.json")) if objects.exists() else set()
    env = dict(os.environ, MATCH_TIME_LIMIT="40", MATCH_WORKERS="1")
    exe = Path(sys.executable).with_name("jitu")
    proc = subprocess.Popen([str(exe), "match", "run", "--period", f.PERIOD], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    solving = False
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "Menyelesaikan model" in line:
            solving = True
            break
        if not line and proc.poll() is not None:
            break
    assert solving, "the round never reached the solver"
    time.sleep(1.5)
    assert proc.poll() is None, "the solve finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert await MatchingRound.count() == 0
    assert await Allocation.count() == 0
    assert await UnmatchedNeed.count() == 0
    assert await Need.count().where(Need.status != "verified") == 0
    assert (set(objects.rglob("*.json")) if objects.exists() else set()) == before
