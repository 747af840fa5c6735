"""Report deadlines against the database: an LKS late past the grace period may not create or publish
offers and matching rounds leave its offers out, until it sends the report; Dinsos's grace period is
stored and audited; report photos go through the image checks into the object store."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from marketplace import clock
from marketplace.lks_reports import OffersPaused, ReportError, ReportInput, ReportInvalid, period_of
from marketplace.offers import OfferInput
from storage import lks_reports, rounds
from storage.images import PhotoError
from storage.lks_reports import deadlines
from storage.objects import make_object_store
from storage.offers import create_offer, publish_offer
from storage.tables import AuditEvent, Lks, LksReport, LksReportPhoto, ReportPolicy
from tests import roundfixtures as f

OFFER = OfferInput("Dana sembako", f.PERIOD, "pangan", False, "", 0, 300_000, ["32.73.03"], [24])


def _photo(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


async def late_lks(name: str = "Yayasan Lambat", months_ago: int = 4) -> int:
    """A verified LKS whose reports have been required since ``months_ago`` months (none sent)."""
    lks_id = await f.lks(name)
    since = datetime.now(UTC) - timedelta(days=31 * months_ago)
    await Lks.update({Lks.verified_at: since}).where(Lks.id == lks_id)
    await deadlines.policy()
    await ReportPolicy.update({ReportPolicy.first_period: period_of(since.date())}).where(ReportPolicy.id > 0)
    return lks_id


async def test_a_late_lks_is_paused_for_offers_and_rounds_until_it_reports(db):
    lks_id = await late_lks()
    punctual = await f.lks("Yayasan Tepat")  # verified today: nothing due yet
    await Lks.update({Lks.verified_at: datetime.now(UTC)}).where(Lks.id == punctual)
    draft = await f.offer(lks_id, status="draft")
    published = await f.offer(lks_id)
    other = await f.offer(punctual)
    household = await f.household()
    await f.need(household)

    state = await deadlines.standing_of(lks_id)
    assert state.paused and len(state.overdue) >= 3
    assert [x.lks_id for x in await deadlines.overdue_lks()] == [lks_id]
    assert await deadlines.paused_lks_ids() == {lks_id}
    with pytest.raises(OffersPaused, match="dihentikan sementara"):
        await create_offer(lks_id, OFFER, "staf")
    with pytest.raises(OffersPaused):
        await publish_offer(draft, lks_id, "staf")
    _needs, offers, _aid, _names = await rounds.load_records(f.PERIOD)
    assert [o.id for o in offers] == [other]  # the paused LKS's published offer is left out of the round

    for m in state.missing:  # it sends every missing report: the pause lifts at once, before any approval
        await lks_reports.submit(lks_id, None, ReportInput(m.period, "Paket sembako tersalurkan.", ""), "staf")
    assert not (await deadlines.standing_of(lks_id)).paused
    assert await create_offer(lks_id, OFFER, "staf") > 0
    await publish_offer(draft, lks_id, "staf")
    _needs, offers, _aid, _names = await rounds.load_records(f.PERIOD)
    assert sorted(o.id for o in offers) == sorted([published, other, draft])


async def test_overdue_within_the_grace_period_is_flagged_but_not_paused(db):
    lks_id = await late_lks(months_ago=1)
    await deadlines.set_grace("90", "admin", None)
    state = await deadlines.standing_of(lks_id, clock.today() + timedelta(days=40))
    assert state.overdue and not state.paused
    assert await deadlines.paused_lks_ids() == set()
    assert await create_offer(lks_id, OFFER, "staf") > 0


async def test_a_returned_report_counts_as_missing_again(db):
    lks_id = await late_lks()
    state = await deadlines.standing_of(lks_id)
    for m in state.missing:
        report_id = await lks_reports.submit(lks_id, None, ReportInput(m.period, "Tersalurkan.", ""), "staf")
    assert not (await deadlines.standing_of(lks_id)).missing
    await lks_reports.decide_report(report_id, "return", "Foto dan angka belum lengkap.", "admin", None)
    after = await deadlines.standing_of(lks_id)
    assert [m.period for m in after.missing] == [state.missing[-1].period] and not after.overdue


async def test_dinsos_sets_the_grace_period_stored_and_audited(db):
    assert (await deadlines.policy()).grace_days == 14
    assert await deadlines.set_grace("21", "admin", None) == 21
    assert (await deadlines.policy()).grace_days == 21
    event = await AuditEvent.select().where(AuditEvent.action == "report_policy.update").first()
    assert event is not None and event["actor"] == "admin"
    with pytest.raises(ReportError):
        await deadlines.set_grace("365", "admin", None)
    assert (await deadlines.policy()).grace_days == 21
    assert await AuditEvent.count().where(AuditEvent.action == "report_policy.update") == 1


async def test_report_photos_are_checked_re_encoded_and_stored(db):
    lks_id = await f.lks()
    store = make_object_store()
    fields = {"period": "2026-10", "delivered_summary": "Sembako tersalurkan.", "not_delivered": "",
              "balance_confirmed": "on", "fund_balance_seen": "0", "photo_consent": "on"}
    report_id = await lks_reports.submit_with_photos(lks_id, None, fields, [("a.jpg", _photo()), ("b.jpg", _photo())],
                                                     store, "staf")
    photos = await LksReportPhoto.select().where(LksReportPhoto.report == report_id)
    assert len(photos) == 2 and all(p["content_type"] == "image/jpeg" for p in photos)
    assert store.get(photos[0]["object_key"]).startswith(b"\xff\xd8")
    links = await lks_reports.photo_links([report_id], store)
    assert len(links[report_id]) == 2

    with pytest.raises(PhotoError):  # a renamed HTML page is refused; nothing written
        await lks_reports.submit_with_photos(lks_id, None, {**fields, "period": "2026-09"},
                                             [("x.jpg", b"<html>hi</html>")], store, "staf")
    with pytest.raises(ReportInvalid):  # photos without the consent tick
        await lks_reports.submit_with_photos(lks_id, None, {**fields, "period": "2026-09", "photo_consent": ""},
                                             [("a.jpg", _photo())], store, "staf")
    with pytest.raises(ReportInvalid):  # the balance seen is no longer the ledger's
        await lks_reports.submit_with_photos(lks_id, None, {**fields, "period": "2026-09", "fund_balance_seen": "5"},
                                             [], store, "staf")
    assert await LksReport.count() == 1 and await LksReportPhoto.count() == 2


async def test_a_verified_lks_without_a_verification_time_reports_from_the_first_period(db):
    late = await late_lks()
    undated = await f.lks("Yayasan Lama")  # verified, verified_at empty (imported)
    assert (await deadlines.standing_of(undated)).paused
    assert await deadlines.paused_lks_ids() == {late, undated}
    assert (await deadlines.standing_of(await f.lks("Yayasan Baru", status="applied"))).missing == ()
