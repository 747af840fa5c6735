"""Delivery with proof: all-or-nothing recording, LKS isolation, confirmation, impact figures."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from marketplace.delivery import DeliveryError, DeliveryInvalid
from marketplace.lks_team import RightMissing
from storage import approval, delivery
from storage.accounts import CurrentUser
from storage.images import PhotoError
from storage.objects import LocalObjectStore
from storage.tables import Account, Allocation, AuditEvent, Delivery, DeliveryPhoto, LksMember, Need
from tests.dbutil import make_account
from tests.storage.test_approval import build
from tests.storage.test_images import jpeg_with_gps
from tests.storage.test_objects_contract import moto_endpoint  # noqa: F401  (fixture)

TODAY = date(2026, 11, 25)
FIELDS = {"delivered_on": "2026-11-24", "what_given": "Paket sembako 10 kg", "received_by": "Ibu Siti"}


def staff(lks_id: int) -> CurrentUser:
    return CurrentUser(_ACCOUNTS[lks_id], f"staf{lks_id}", "Staf", "lks_staff", lks_id, None, "id")


_ACCOUNTS: dict[int, int] = {}


ADMIN = CurrentUser(99, "admin", "Admin", "dinsos_admin", None, None, "id")


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects", "rahasia-uji")


def stored_files(store: LocalObjectStore) -> list[Path]:
    return [p for p in store.root.rglob("*.jpg")] if store.root.exists() else []


async def approved_world(n: int = 1, **kw: Any) -> Any:
    w = await build(n, **kw)
    _ACCOUNTS[w.lks_id] = await make_account("lks_staff", f"staf{w.lks_id}", lks_id=w.lks_id)
    for a in w.allocations:
        await approval.approve(a, "admin")
    return w


async def test_record_stores_clean_photos_and_moves_statuses(db: None, store: LocalObjectStore) -> None:
    w = await approved_world()
    photos = [("a.jpg", jpeg_with_gps()), ("b.jpg", jpeg_with_gps((80, 60)))]
    delivery_id = await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS, photos, store, TODAY)
    assert (await Allocation.select(Allocation.status).first())["status"] == "delivered"
    assert (await Need.select(Need.status).first())["status"] == "delivered"
    rows = await DeliveryPhoto.select().where(DeliveryPhoto.delivery == delivery_id)
    assert len(rows) == 2
    for row in rows:
        assert row["object_key"].startswith(f"delivery/lks-{w.lks_id}/alloc-{w.allocations[0]}/")
        data = store.get(row["object_key"])
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif() and "exif" not in image.info
        assert b"KameraUji" not in data
    assert await AuditEvent.count().where(AuditEvent.action == "delivery.record") == 1
    with pytest.raises(DeliveryError, match="sudah dicatat"):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS, photos, store, TODAY)


@pytest.mark.parametrize("bad", [
    b"<html><script>alert(1)</script></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    b"\xff\xd8\xff" + b"0" * 100,
])
async def test_one_bad_photo_records_nothing(db: None, store: LocalObjectStore, bad: bytes) -> None:
    w = await approved_world()
    with pytest.raises(PhotoError):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS,
                                       [("a.jpg", jpeg_with_gps()), ("b.jpg", bad)], store, TODAY)
    assert await Delivery.count() == 0 and stored_files(store) == []
    assert (await Allocation.select(Allocation.status).first())["status"] == "approved"


async def test_invalid_form_records_nothing(db: None, store: LocalObjectStore) -> None:
    w = await approved_world()
    with pytest.raises(DeliveryInvalid):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id), {**FIELDS, "received_by": ""},
                                       [("a.jpg", jpeg_with_gps())], store, TODAY)
    with pytest.raises(DeliveryInvalid):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS,
                                       [("a.jpg", jpeg_with_gps())] * 6, store, TODAY)
    assert await Delivery.count() == 0 and stored_files(store) == []


async def test_failed_transaction_deletes_written_photos(db: None, store: LocalObjectStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    w = await approved_world()

    async def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(delivery, "_step_need", boom)
    with pytest.raises(RuntimeError):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS,
                                       [("a.jpg", jpeg_with_gps()), ("b.jpg", jpeg_with_gps())], store, TODAY)
    assert stored_files(store) == []
    assert await Delivery.count() == 0 and await DeliveryPhoto.count() == 0
    assert (await Allocation.select(Allocation.status).first())["status"] == "approved"


@pytest.mark.parametrize("change", ["right_removed", "deactivated"])
async def test_recording_needs_the_deliveries_right_now(db: None, store: LocalObjectStore, change: str) -> None:
    """The use case checks the team's rights itself: a caller whose ``CurrentUser`` still says
    ``deliveries`` (loaded before the admin took it away, or before deactivation) records nothing."""
    w = await approved_world()
    account_id = _ACCOUNTS[w.lks_id]
    if change == "right_removed":
        await LksMember.update({LksMember.deliveries: False}).where(LksMember.account == account_id)
    else:
        await Account.update({Account.active: False}).where(Account.id == account_id)
    stale = replace(staff(w.lks_id), lks_rights=frozenset({"deliveries", "offers"}))
    with pytest.raises(RightMissing, match="hak mencatat penyaluran"):
        await delivery.record_delivery(w.allocations[0], stale, FIELDS, [("a.jpg", jpeg_with_gps())], store, TODAY)
    assert await Delivery.count() == 0 and stored_files(store) == []
    assert (await Allocation.select(Allocation.status).first())["status"] == "approved"
    assert await AuditEvent.count().where(AuditEvent.action == "delivery.record") == 0


async def test_overdue_is_counted_on_bandungs_date(db: None, store: LocalObjectStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """At 23:30 UTC on day D it is D+1 in Bandung: a delivery due on D is late, and D+1 is not a day in the
    future for the delivery form. (D is a month ahead, so that the machine's own date cannot pass.)"""
    from datetime import UTC, datetime, time, timedelta

    from marketplace import clock

    day = datetime.now(UTC).date() + timedelta(days=30)
    monkeypatch.setattr(clock, "_utc_now", lambda: datetime.combine(day, time(23, 30), tzinfo=UTC))
    w = await approved_world()
    await Allocation.update({Allocation.deliver_by: day}).where(Allocation.id == w.allocations[0])
    rows, total = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(due=delivery.DUE_OVERDUE))
    assert total == 1 and rows[0]["id"] == w.allocations[0]
    with pytest.raises(DeliveryInvalid):
        await delivery.record_delivery(w.allocations[0], staff(w.lks_id),
                                       {**FIELDS, "delivered_on": (day + timedelta(days=2)).isoformat()},
                                       [("a.jpg", jpeg_with_gps())], store)
    assert await delivery.record_delivery(w.allocations[0], staff(w.lks_id),
                                          {**FIELDS, "delivered_on": (day + timedelta(days=1)).isoformat()},
                                          [("a.jpg", jpeg_with_gps())], store)


async def test_lks_b_cannot_see_or_touch_lks_a(db: None, store: LocalObjectStore) -> None:
    a = await approved_world(lks_name="Yayasan A")
    b = await approved_world(lks_name="Yayasan B")
    rows_a, total_a = await delivery.assigned_households(a.lks_id, delivery.HouseholdFilter())
    rows_b, _ = await delivery.assigned_households(b.lks_id, delivery.HouseholdFilter())
    assert total_a == 1 and rows_a[0]["id"] == a.allocations[0]
    assert {r["id"] for r in rows_b} == {b.allocations[0]}
    with pytest.raises(delivery.NotFound):
        await delivery.allocation_for(a.allocations[0], staff(b.lks_id))
    with pytest.raises(delivery.NotFound):
        await delivery.record_delivery(a.allocations[0], staff(b.lks_id), FIELDS, [("a.jpg", jpeg_with_gps())],
                                       store, TODAY)
    delivery_id = await delivery.record_delivery(a.allocations[0], staff(a.lks_id), FIELDS,
                                                 [("a.jpg", jpeg_with_gps())], store, TODAY)
    with pytest.raises(delivery.NotFound):
        await delivery.photo_links(delivery_id, staff(b.lks_id), store)
    assert len(await delivery.photo_links(delivery_id, staff(a.lks_id), store)) == 1
    assert len(await delivery.photo_links(delivery_id, ADMIN, store)) == 1


async def test_households_masked_searchable(db: None) -> None:
    from tests.storage.test_approval import add_allocation

    w = await build(0)
    _ACCOUNTS[w.lks_id] = await make_account("lks_staff", f"staf{w.lks_id}", lks_id=w.lks_id)
    await add_allocation(w, name="Siti Aminah")
    await add_allocation(w, name="Joko Widodo", kind="pangan")
    for alloc in w.allocations:
        await approval.approve(alloc, "admin")
    rows, total = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter())
    assert total == 2
    assert all(r["nik_masked"].startswith("3273") and "********" in r["nik_masked"] for r in rows)
    assert {r["head_name"] for r in rows} == {"Siti Aminah", "Joko Widodo"}
    assert rows[0]["deliver_by"] == date(2026, 11, 30)
    found, n = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(search="siti"))
    assert n == 1 and found[0]["head_name"] == "Siti Aminah"


async def test_households_pages_follow_the_full_order(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are cut from the allocations alone, then joined: one page after another gives the downloads'
    order (overdue, then soonest due, then delivered), each row once, and a filter still applies."""
    from datetime import timedelta

    from tests.storage.test_approval import add_allocation

    w = await build(0)
    _ACCOUNTS[w.lks_id] = await make_account("lks_staff", f"staf{w.lks_id}", lks_id=w.lks_id)
    for i in range(5):
        await add_allocation(w, name=f"Warga {i}", amount=10_000, kind="pangan" if i % 2 else "kesehatan")
    for alloc in w.allocations:
        await approval.approve(alloc, "admin")
    for i, alloc in enumerate(w.allocations):  # due dates out of id order, two of them overdue
        await Allocation.update({Allocation.deliver_by: TODAY + timedelta(days=(2 - i) * 2)}).where(
            Allocation.id == alloc)
    monkeypatch.setattr(delivery, "PAGE_SIZE", 2)
    everything, total = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(), page=None,
                                                           today=TODAY)
    pages = []
    for page_no in (1, 2, 3, 4):  # the count comes with each page's rows, and alone past the last page
        rows, counted = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(), page_no,
                                                           today=TODAY)
        assert counted == 5 and "total" not in (rows or [{}])[0]
        pages += rows
    assert total == 5 and [r["id"] for r in pages] == [r["id"] for r in everything]
    assert [r["overdue"] for r in pages] == [True, True, False, False, False]
    assert [r["deliver_by"] for r in pages[2:]] == sorted(r["deliver_by"] for r in pages[2:])
    food, n = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(kind="pangan"), 1, today=TODAY)
    assert n == 2 and [r["kind"] for r in food] == ["pangan", "pangan"]


async def test_households_head_is_the_first_kepala_else_the_first_member(db: None) -> None:
    """The page (one statement) and the downloads (page=None) pick the same head of household."""
    from storage.crypto import vault
    from storage.tables import Member
    from tests.storage.test_approval import add_allocation, make_household

    w = await build(0)
    _ACCOUNTS[w.lks_id] = await make_account("lks_staff", f"staf{w.lks_id}", lks_id=w.lks_id)
    later_head, _ = await make_household(name="Anak Pertama")  # the kepala comes after another member
    await Member.update({Member.relation: "anak"}).where(Member.household == later_head)
    await Member.insert(Member(household=later_head, nik_cipher=vault().encrypt("3273031299000001"),
                               nik_hash=vault().hash("3273031299000001"), name="Kepala Baru",
                               birth_date=date(1970, 1, 1), sex="P", relation="kepala"))
    no_head, _ = await make_household(name="Istri Saja")  # nobody is kepala: the first member
    await Member.update({Member.relation: "istri"}).where(Member.household == no_head)
    nobody, _ = await make_household(name="Tanpa Anggota")  # no members at all
    await Member.delete().where(Member.household == nobody)
    for household in (later_head, no_head, nobody):
        await add_allocation(w, household=household, amount=10_000)
    for alloc in w.allocations:
        await approval.approve(alloc, "admin")
    page, _ = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(), 1, today=TODAY)
    everything, _ = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(), None, today=TODAY)
    assert page == everything
    heads = {r["household_id"]: (r["head_name"], r["nik_masked"]) for r in page}
    assert heads[later_head][0] == "Kepala Baru" and heads[later_head][1] == "3273********0001"
    assert heads[no_head][0] == "Istri Saja"
    assert heads[nobody] == ("-", "-")


async def test_kelurahan_choices_are_the_lks_own_known_kelurahan_by_name(db: None) -> None:
    from storage.tables import Region
    from tests.storage.test_approval import KEL, add_allocation

    w = await build(0)
    other = await build(0)
    # regions are reference data kept between tests (tests/dbutil.KEEP): this one is removed again
    await Region.insert(Region(code="32.73.01.1099", name="Aaa Pertama", level="kelurahan",
                               parent_code=None))
    try:
        await add_allocation(w, amount=10_000)
        await add_allocation(w, amount=10_000, kelurahan="32.73.01.1099")
        await add_allocation(w, amount=10_000, kelurahan="99.99.99.9999")  # no such region: not offered
        await add_allocation(other, amount=10_000, kelurahan="32.73.01.1099")
        assert await delivery.kelurahan_choices(w.lks_id) == []  # nothing approved yet
        for alloc in w.allocations:
            await approval.approve(alloc, "admin")
        kel = await Region.select(Region.name).where(Region.code == KEL).first()
        assert await delivery.kelurahan_choices(w.lks_id) == [
            {"code": "32.73.01.1099", "name": "Aaa Pertama"}, {"code": KEL, "name": kel["name"]}]
        assert await delivery.kelurahan_choices(other.lks_id) == []
    finally:
        await Region.delete().where(Region.code == "32.73.01.1099")


async def test_dinsos_confirms_or_disputes(db: None, store: LocalObjectStore) -> None:
    w = await approved_world(2)
    d1 = await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS, [("a", jpeg_with_gps())],
                                        store, TODAY)
    d2 = await delivery.record_delivery(w.allocations[1], staff(w.lks_id), FIELDS, [("a", jpeg_with_gps())],
                                        store, TODAY)
    with pytest.raises(DeliveryError, match="Alasan"):
        await delivery.decide_delivery(d2, "dispute", "", "admin", None)
    assert await delivery.decide_delivery(d1, "confirm", "", "admin", None) == "confirmed"
    assert await delivery.decide_delivery(d2, "dispute", "Foto tidak menunjukkan penerima", "admin", None) == "disputed"
    statuses = {r["id"]: r["status"] for r in await Allocation.select(Allocation.id, Allocation.status)}
    assert statuses == {w.allocations[0]: "confirmed", w.allocations[1]: "disputed"}
    assert (await Need.select(Need.status).where(Need.id == w.needs[0]).first())["status"] == "confirmed"
    report = await delivery.impact_report()
    assert report["total_count"] == 1 and report["total_amount"] == 300_000


async def test_requester_confirms_with_ticket(db: None, store: LocalObjectStore) -> None:
    w = await approved_world(1)
    with pytest.raises(DeliveryError):
        await delivery.confirm_by_requester(w.tickets[0])  # nothing delivered yet
    with pytest.raises(DeliveryError):
        await delivery.confirm_by_requester("TIDAKADA")
    await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS, [("a", jpeg_with_gps())], store, TODAY)
    assert await delivery.confirm_by_requester(w.tickets[0].lower()) == 1
    row = await Delivery.select().first()
    assert row["status"] == "confirmed" and row["requester_confirmed_at"] is not None
    with pytest.raises(DeliveryError):
        await delivery.confirm_by_requester(w.tickets[0])  # only once


async def test_delivery_photos_on_minio_backend(db: None, moto_endpoint: str) -> None:  # noqa: F811
    import httpx

    from tests.storage.test_objects_contract import minio_store

    s3 = minio_store(moto_endpoint, "jitu-delivery")
    w = await approved_world()
    delivery_id = await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS,
                                                 [("a.jpg", jpeg_with_gps())], s3, TODAY)
    links = await delivery.photo_links(delivery_id, staff(w.lks_id), s3)
    async with httpx.AsyncClient() as http:
        response = await http.get(links[0]["url"])
    assert response.status_code == 200 and response.content.startswith(b"\xff\xd8")
    assert b"KameraUji" not in response.content
    with pytest.raises(delivery.NotFound):
        await delivery.photo_links(delivery_id, CurrentUser(5, "x", "x", "lks_staff", w.lks_id + 100, None, "id"), s3)


async def test_the_page_keeps_the_kelurahan_options_a_minute(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter's options are kept per LKS for CHOICES_KEPT_SECONDS (the list itself is always read)."""
    from tests.storage.test_approval import KEL, add_allocation

    clock = [1000.0]
    monkeypatch.setattr(delivery.time, "monotonic", lambda: clock[0])
    w = await build(0)
    await add_allocation(w, amount=10_000)
    assert await delivery.kelurahan_options(w.lks_id) == []
    await approval.approve(w.allocations[0], "admin")
    clock[0] += delivery.CHOICES_KEPT_SECONDS - 1
    assert await delivery.kelurahan_options(w.lks_id) == []  # kept
    rows, _ = await delivery.assigned_households(w.lks_id, delivery.HouseholdFilter(), 1)
    assert len(rows) == 1  # while the list is current
    clock[0] += 2
    assert [k["code"] for k in await delivery.kelurahan_options(w.lks_id)] == [KEL]
