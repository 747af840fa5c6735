"""Approval re-checks every rule inside one transaction; each refusal changes nothing.

``World`` / ``build`` are shared with the delivery and portal tests: rows created directly, as a
matching round would leave them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from marketplace.approval import ApprovalRefused
from marketplace.settings import get_settings
from storage import approval
from storage.crypto import vault
from storage.tables import (
    Allocation,
    AuditEvent,
    GovernmentAid,
    Household,
    LedgerEntry,
    Lks,
    MatchingRound,
    Member,
    Need,
    NeedEvent,
    Notification,
    Offer,
    ServiceRequest,
)

PERIOD = "2026-11"
KEL = "32.73.03.1001"


@dataclass
class World:
    lks_id: int
    offer_id: int
    round_id: int
    households: list[int] = field(default_factory=list)
    needs: list[int] = field(default_factory=list)
    allocations: list[int] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)


_serial = iter(range(1, 10**6))


async def make_household(kelurahan: str = KEL, name: str = "Budi Santoso") -> tuple[int, str]:
    n = next(_serial)
    kk = f"3273031201{n:06d}"
    nik = f"3273031203{n:06d}"
    rows = await Household.insert(Household(
        kk_cipher=vault().encrypt(kk), kk_hash=vault().hash(kk), kelurahan_code=kelurahan,
        address=f"Jl. Uji No. {n}", rt="001", rw="002", phone="0812000000", desil=1,
    )).returning(Household.id)
    hh = int(rows[0]["id"])
    await Member.insert(Member(household=hh, nik_cipher=vault().encrypt(nik), nik_hash=vault().hash(nik),
                               name=name, birth_date=date(1985, 3, 12), sex="L", relation="kepala"))
    return hh, nik


async def add_allocation(w: World, *, amount: int = 300_000, need_amount: int | None = None,
                         household: int | None = None, kind: str = "pangan", need_status: str = "matched",
                         kelurahan: str = KEL, name: str = "Budi Santoso", priority: int = 80) -> int:
    if household is None:
        household, _ = await make_household(kelurahan, name)
    ticket = "T" + secrets.token_hex(8).upper()
    req = await ServiceRequest.insert(ServiceRequest(ticket_code=ticket, household=household,
                                                     kelurahan_code=kelurahan)).returning(ServiceRequest.id)
    need = await Need.insert(Need(household=household, request=req[0]["id"], ppks=24, kind=kind,
                                  amount=need_amount or amount, priority=priority, status=need_status)
                             ).returning(Need.id)
    alloc = await Allocation.insert(Allocation(
        round=w.round_id, need=need[0]["id"], offer=w.offer_id, lks=w.lks_id, amount=amount, priority=priority,
        explanation=f"Prioritas {priority}. Diusulkan Rp{amount}.", status="proposed",
    )).returning(Allocation.id)
    w.households.append(household)
    w.needs.append(int(need[0]["id"]))
    w.allocations.append(int(alloc[0]["id"]))
    w.tickets.append(ticket)
    return int(alloc[0]["id"])


async def build(n: int = 1, *, capacity: int = 1_000_000, is_goods: bool = False, unit_value: int = 0,
                lks_name: str = "Yayasan Uji", kind: str = "pangan", amount: int = 300_000,
                kelurahan: str = KEL) -> World:
    lks = await Lks.insert(Lks(name=lks_name, legal_type="yayasan", status="verified", kecamatan_code="32.73.03",
                               email="lks@example.org")).returning(Lks.id)
    lks_id = int(lks[0]["id"])
    offer = await Offer.insert(Offer(lks=lks_id, title="Paket sembako", period=PERIOD, kind=kind, is_goods=is_goods,
                                     unit="paket" if is_goods else "", unit_value=unit_value, capacity=capacity,
                                     remaining=capacity, status="published")).returning(Offer.id)
    rnd = await MatchingRound.insert(MatchingRound(period=PERIOD, status="proposed")).returning(MatchingRound.id)
    w = World(lks_id, int(offer[0]["id"]), int(rnd[0]["id"]))
    for _ in range(n):
        await add_allocation(w, amount=amount, kind=kind, kelurahan=kelurahan)
    return w


async def snapshot() -> dict[str, Any]:
    return {
        "alloc": await Allocation.select(Allocation.id, Allocation.status, Allocation.decided_at)
        .order_by(Allocation.id),
        "need": await Need.select(Need.id, Need.status).order_by(Need.id),
        "offer": await Offer.select(Offer.id, Offer.remaining),
        "ledger": await LedgerEntry.count(),
        "events": await NeedEvent.count(),
        "notes": await Notification.count(),
        "audit": await AuditEvent.count(),
    }


async def test_approve_commits_everything(db: None) -> None:
    w = await build(1)
    result = await approval.approve(w.allocations[0], "admin")
    alloc = await Allocation.select().where(Allocation.id == w.allocations[0]).first()
    assert alloc["status"] == "approved" and alloc["deliver_by"] == date(2026, 11, 30)
    assert (await Need.select(Need.status).where(Need.id == w.needs[0]).first())["status"] == "approved"
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 700_000
    entry = await LedgerEntry.select().first()
    assert entry["amount"] == -300_000 and entry["allocation"] == w.allocations[0]
    note = await Notification.select().first()
    assert note["lks"] == w.lks_id and "disetujui" in note["message"]
    assert await NeedEvent.count().where(NeedEvent.to_status == "approved") == 1
    assert await AuditEvent.count().where(AuditEvent.action == "allocation.approve") == 1
    assert result["units"] == 300_000


async def test_goods_offer_commits_units_and_no_ledger(db: None) -> None:
    w = await build(1, capacity=10, is_goods=True, unit_value=100_000, amount=250_000)
    result = await approval.approve(w.allocations[0], "admin")
    assert result["units"] == 3
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 7
    assert await LedgerEntry.count() == 0


async def _refused(allocation_id: int, words: str) -> None:
    before = await snapshot()
    with pytest.raises(ApprovalRefused, match=words):
        await approval.approve(allocation_id, "admin")
    assert await snapshot() == before


async def test_refuses_when_capacity_is_gone(db: None) -> None:
    w = await build(2, capacity=500_000)
    await approval.approve(w.allocations[0], "admin")
    await _refused(w.allocations[1], "kapasitas")


async def test_refuses_over_household_cap(db: None) -> None:
    w = await build(0, capacity=10_000_000)
    hh, _ = await make_household()
    await add_allocation(w, amount=1_500_000, household=hh)
    await add_allocation(w, amount=600_000, household=hh, kind="pangan")
    await approval.approve(w.allocations[0], "admin")
    assert get_settings().household_cap == 2_000_000
    await _refused(w.allocations[1], "Batas bantuan per keluarga")


async def test_refuses_need_no_longer_open(db: None) -> None:
    w = await build(1)
    await Need.update({Need.status: "referred"}).where(Need.id == w.needs[0])
    await _refused(w.allocations[0], "tidak lagi menunggu")


async def test_refuses_when_new_government_aid_covers_it(db: None) -> None:
    w = await build(2)
    await GovernmentAid.insert(
        GovernmentAid(household=w.households[0], program="BPNT", kind="pangan", period=PERIOD, amount=300_000),
        GovernmentAid(household=w.households[1], program="BPNT", kind="pangan", period=PERIOD, amount=100_000),
        GovernmentAid(household=w.households[1], program="PKH", kind="tunai", period=PERIOD, amount=900_000),
    )
    await _refused(w.allocations[0], "ditanggung bantuan pemerintah")
    await _refused(w.allocations[1], "menduplikasi")


async def test_aid_of_another_period_or_kind_does_not_count(db: None) -> None:
    w = await build(1)
    await GovernmentAid.insert(
        GovernmentAid(household=w.households[0], program="BPNT", kind="pangan", period="2026-10", amount=300_000),
        GovernmentAid(household=w.households[0], program="PKH", kind="tunai", period=PERIOD, amount=300_000),
    )
    await approval.approve(w.allocations[0], "admin")


async def test_refuses_twice_and_closed_offer(db: None) -> None:
    w = await build(2)
    await approval.approve(w.allocations[0], "admin")
    await _refused(w.allocations[0], "sudah diputuskan")
    await Offer.update({Offer.status: "closed"}).where(Offer.id == w.offer_id)
    await _refused(w.allocations[1], "tidak lagi terbuka")


async def test_reject_needs_reason_and_returns_need_to_pool(db: None) -> None:
    w = await build(1)
    before = await snapshot()
    with pytest.raises(ApprovalRefused, match="Alasan"):
        await approval.reject(w.allocations[0], "", "admin")
    assert await snapshot() == before
    await approval.reject(w.allocations[0], "Data keluarga ganda", "admin")
    alloc = await Allocation.select().where(Allocation.id == w.allocations[0]).first()
    assert alloc["status"] == "rejected" and alloc["rejection_reason"] == "Data keluarga ganda"
    assert (await Need.select(Need.status).first())["status"] == "verified"
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 1_000_000


async def test_bulk_reports_each(db: None) -> None:
    w = await build(4, capacity=900_000)
    results = await approval.decide_many(w.allocations, "approve", "", "admin")
    assert [r.ok for r in results] == [True, True, True, False]
    assert "kapasitas" in results[3].message


async def test_listing_filters(db: None) -> None:
    w = await build(2)
    await add_allocation(w, kind="kesehatan", kelurahan="32.73.01.1001", priority=10)
    rows, total = await approval.list_proposals(w.round_id, approval.ProposalFilter())
    assert total == 3 and rows[-1]["priority"] == 10
    assert (await approval.list_proposals(w.round_id, approval.ProposalFilter(kind="kesehatan")))[1] == 1
    assert (await approval.list_proposals(w.round_id, approval.ProposalFilter(kecamatan="32.73.03")))[1] == 2
    assert (await approval.list_proposals(w.round_id, approval.ProposalFilter(min_priority=50)))[1] == 2
    assert (await approval.list_proposals(w.round_id, approval.ProposalFilter(lks_id=w.lks_id + 1)))[1] == 0


async def test_email_only_with_smtp(db: None) -> None:
    from marketplace.settings import Settings

    w = await build(1)
    sent: list[Any] = []
    original = approval.send_email
    approval.send_email = lambda email, settings: sent.append(email)  # type: ignore[assignment]
    try:
        await approval.approve(w.allocations[0], "admin", settings=Settings(smtp_host=""))
        assert sent == []
        assert await approval.notify_lks_by_email(w.lks_id, "Pesan uji", Settings(smtp_host="127.0.0.1"))
    finally:
        approval.send_email = original  # type: ignore[assignment]
    email = sent[0]
    assert email["To"] == "lks@example.org" and "Pesan uji" in email.get_content()
    assert "NIK" not in email.get_content() or "tidak memuat data pribadi" in email.get_content()


@pytest.mark.postgres
async def test_concurrent_approvals_never_over_commit(db: None) -> None:
    import asyncio

    w = await build(6, capacity=1_000_000)  # 6 × 300.000 proposed, room for 3
    results = await asyncio.gather(*[approval.decide_many([a], "approve", "", f"officer{i % 2}")
                                     for i, a in enumerate(w.allocations)])
    ok = [r[0] for r in results if r[0].ok]
    assert len(ok) == 3
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 100_000
    assert await Allocation.count().where(Allocation.status == "approved") == 3
    assert await LedgerEntry.count() == 3


@pytest.mark.postgres
async def test_concurrent_approvals_same_household_respect_cap(db: None) -> None:
    import asyncio

    w = await build(0, capacity=10_000_000)
    hh, _ = await make_household()
    for _ in range(4):
        await add_allocation(w, amount=800_000, household=hh)
    results = await asyncio.gather(*[approval.decide_many([a], "approve", "", "officer") for a in w.allocations])
    assert sum(r[0].ok for r in results) == 2  # 1.6 million of a 2 million cap
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 10_000_000 - 1_600_000
