"""The schema migrates forward on the engine of this run, idempotently, with its database-enforced rules."""

import pytest

from storage.migrate import migrate
from storage.tables import ALL_TABLES, AuditEvent, GovernmentProgram, Lks, Offer, Region
from tests.dbutil import make_lks


async def test_every_table_exists_and_reference_data_is_loaded(db):
    for table in ALL_TABLES:
        await table.count()  # raises if the table is missing
    assert await Region.count().where(Region.level == "kelurahan") == 151
    assert await Region.count().where(Region.level == "kecamatan") == 30
    assert {p["code"] for p in await GovernmentProgram.select(GovernmentProgram.code)} >= {
        "PKH", "BPNT", "PBI-JK", "PIP", "RUTILAHU", "ATENSI"}


async def test_migrating_again_changes_nothing(db):
    before = await Region.count()
    await migrate()
    assert await Region.count() == before


async def test_offer_remaining_cannot_go_below_zero(db):
    lks_id = await make_lks()
    rows = await Offer.insert(Offer(lks=lks_id, period="2026-11", kind="pangan", capacity=100, remaining=100)
                              ).returning(Offer.id)
    with pytest.raises(Exception, match=r"remaining|offer"):
        await Offer.update({Offer.remaining: -1}).where(Offer.id == rows[0]["id"])
    assert (await Offer.select(Offer.remaining).first())["remaining"] == 100


async def test_audit_rows_cannot_be_updated_or_deleted(db):
    from marketplace.audit import AuditEvent as Event
    from storage.uow import unit_of_work

    async with unit_of_work() as uow:
        await uow.record(Event("tester", "test.event", "thing", "1"))
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.actor: "someone else"}).where(AuditEvent.id == 1)
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.delete().where(AuditEvent.id == 1)
    assert await AuditEvent.count() == 1
    assert await Lks.count() == 0
