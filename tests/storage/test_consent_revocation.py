"""Revoking consent stops every need of the request that is not yet delivered, with what it waits on: a
proposed allocation is cancelled, an approved one too (capacity and money back to the LKS, the LKS told
not to deliver), an open referral is withdrawn (the office told, its view of the personal data closed);
a delivered need stays as it is. One transaction, each step audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import approval, ledger
from storage.accounts import load_user
from storage.referrals import service as referrals
from storage.resident_requests import revoke_consent
from storage.tables import (
    Allocation,
    AuditEvent,
    DataAccess,
    Need,
    NeedEvent,
    Notification,
    Offer,
    Referral,
    ServiceRequest,
)
from tests.dbutil import make_account
from tests.storage.test_approval import add_allocation, build

TICKET = "JITU-CABUT23456"


async def test_revoking_consent_stops_undelivered_needs_and_what_they_wait_on(db):
    w = await build(0)
    approved = await add_allocation(w, kind="pangan", amount=300_000)
    household = w.households[0]
    proposed = await add_allocation(w, kind="tunai", amount=200_000, household=household)
    delivered = await add_allocation(w, kind="alat_bantu", amount=100_000, household=household,
                                     need_status="delivered")
    await Allocation.update({Allocation.status: "delivered"}).where(Allocation.id == delivered)
    await approval.approve(approved, "admin")
    referred_need = (await Need.insert(Need(household=household, ppks=24, kind="kesehatan", amount=900_000,
                                            status="verified")).returning(Need.id))[0]["id"]
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    dinkes = await load_user(await make_account("office_staff", "dinkes", office_code="kesehatan"))
    referral = await referrals.refer_need(peksos, referred_need, "kesehatan", "Daftarkan PBI JK", "Sakit kronis",
                                          shared=["name", "phone"])
    # one resident request, with consent, behind all four needs
    first = (await Need.select(Need.request).where(Need.id == w.needs[0]).first())["request"]
    await ServiceRequest.update({ServiceRequest.ticket_code: TICKET, ServiceRequest.status: "validated",
                                 ServiceRequest.channel: "warga", ServiceRequest.consent_version: "2026-12-v1",
                                 ServiceRequest.consent_at: datetime.now(UTC)}).where(ServiceRequest.id == first)
    await Need.update({Need.request: first}).where(Need.household == household)
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 700_000
    assert await ledger.balance(w.lks_id) == -300_000
    audit_before = (await AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id, ascending=False).first())["id"]

    await revoke_consent(TICKET)

    status = {r["id"]: r["status"] for r in await Need.select(Need.id, Need.status)}
    assert status == {w.needs[0]: "rejected", w.needs[1]: "rejected", w.needs[2]: "delivered",
                      referred_need: "rejected"}
    assert {r["rejection_reason"] for r in await Need.select(Need.rejection_reason).where(
        Need.status == "rejected")} == {"Persetujuan dicabut pemohon"}
    allocs = {r["id"]: r for r in await Allocation.select()}
    assert allocs[approved]["status"] == "rejected" and allocs[proposed]["status"] == "rejected"
    assert allocs[approved]["rejection_reason"] == "Persetujuan dicabut pemohon"
    assert allocs[delivered]["status"] == "delivered"
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 1_000_000  # capacity given back
    assert await ledger.balance(w.lks_id) == 0  # the committed money came back to the LKS
    assert await Notification.exists().where((Notification.lks == w.lks_id)
                                             & Notification.message.like(f"Alokasi #{approved} dibatalkan%"))
    assert not await Notification.exists().where(Notification.message.like(f"Alokasi #{proposed} dibatalkan%"))

    ref = await Referral.select().where(Referral.id == referral).first()
    assert ref["status"] == "withdrawn" and ref["closed_at"] is not None
    assert await Notification.exists().where((Notification.account == dinkes.id)
                                             & Notification.message.like(f"Rujukan #{referral} dihentikan%"))
    seen = await referrals.detail(dinkes, referral)  # the office keeps the record, not the personal data
    assert seen["person"] == {} and seen["shared"] == [] and seen["evidence_files"] == []
    assert await DataAccess.count() == 1  # the view is still logged

    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.id > audit_before).order_by(AuditEvent.id)]
    assert sorted(actions) == sorted(["allocation.cancel", "need.rejected", "allocation.cancel", "need.rejected",
                                      "referral.withdraw", "need.rejected", "request.consent_revoked"])
    assert actions[-1] == "request.consent_revoked"
    notes = {r["public_note"] for r in await NeedEvent.select(NeedEvent.public_note).where(
        NeedEvent.to_status == "rejected")}
    assert notes == {"Dihentikan: persetujuan dicabut pemohon"}


async def test_a_revocation_that_fails_midway_changes_nothing(db, monkeypatch):
    w = await build(0)
    approved = await add_allocation(w, kind="pangan", amount=300_000)
    await approval.approve(approved, "admin")
    req = (await Need.select(Need.request).first())["request"]
    await ServiceRequest.update({ServiceRequest.ticket_code: TICKET, ServiceRequest.status: "validated",
                                 ServiceRequest.consent_version: "2026-12-v1"}).where(ServiceRequest.id == req)

    async def broken(*_a, **_k):
        raise RuntimeError("the need could not be stopped")

    from storage import registry

    monkeypatch.setattr(registry, "withdraw_in", broken)
    with pytest.raises(RuntimeError):
        await revoke_consent(TICKET)
    assert (await Allocation.select(Allocation.status).first())["status"] == "approved"
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 700_000
    assert await ledger.balance(w.lks_id) == -300_000
    assert (await ServiceRequest.select(ServiceRequest.status).where(ServiceRequest.id == req).first())[
        "status"] == "validated"
