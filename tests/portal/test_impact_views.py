"""The Dinsos command center and its monthly Excel report, the donor's own impact and yearly PDF, and
the LKS periodic report, on seeded history."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook

from marketplace.vocabulary import PPKS_TYPES, SENSITIVE_PPKS
from portal.commands.seed import _give_seeded_gifts, run_seed
from storage.impact.donor import trace
from storage.tables import Allocation, AuditEvent, Household, LksReport, MatchingRound, Member, Need
from tests.dbutil import csrf, login, make_account

PERIOD = "2026-11"


async def _seeded(seed: int) -> None:
    await run_seed(900, seed, period=PERIOD, workers=0)


async def test_command_center_and_monthly_excel_totals(client) -> None:
    await _seeded(21)
    await make_account("dinsos_admin", "kepala")
    await login(client, "kepala")
    page = await client.get("/pusat-komando")
    assert page.status_code == 200 and "Cakupan per kecamatan" in page.text and "<svg" in page.text
    assert "LKS dengan penyaluran terlambat" in page.text and "style=" not in page.text
    overdue = await Allocation.count().where(
        (Allocation.status == "approved") & (Allocation.deliver_by < date(2026, 11, 1)))
    assert overdue > 0  # the newest seeded period leaves some approved and never delivered
    assert (await client.get("/pusat-komando/kecamatan/32.73.03")).status_code == 200
    assert (await client.get("/pusat-komando/kecamatan/99.99.99")).status_code == 404
    assert (await client.get("/pusat-komando/laporan-bulanan.xlsx?periode=2026-13")).status_code == 400
    assert (await client.get("/pusat-komando/laporan-bulanan.xlsx?periode=' OR 1=1")).status_code == 400

    report = await client.get("/pusat-komando/laporan-bulanan.xlsx?periode=2026-10")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content))["Rekap"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    body, total = rows[:-1], rows[-1]
    assert total[1] == "Jumlah" and body
    for column in range(4, 13):  # the totals row is the sum of the rows
        assert total[column] == sum(r[column] for r in body)
    # ... and equals independent sums over the data
    statuses = ["verified", "matched", "approved", "delivered", "confirmed"]
    assert total[5] == await Need.count().where(Need.status.is_in(statuses))
    rnd = await MatchingRound.select(MatchingRound.id).where(MatchingRound.period == "2026-10").first()
    approved = await Allocation.select(Allocation.amount, Allocation.status).where(
        (Allocation.round == rnd["id"]) & Allocation.status.is_in(["approved", "delivered", "confirmed", "disputed"]))
    assert total[10] == sum(a["amount"] for a in approved)
    assert total[11] == sum(1 for a in approved if a["status"] != "approved")
    assert total[12] == sum(1 for a in approved if a["status"] == "confirmed")
    assert {r[3] for r in body} <= set(PPKS_TYPES.values())


async def test_donor_sees_its_gifts_traced_and_no_personal_data(client) -> None:
    await _seeded(22)
    account = await make_account("donor", "penderma")
    await _give_seeded_gifts(account)
    await login(client, "penderma")
    page = await client.get("/donasi-saya/dampak")
    assert page.status_code == 200 and "Cara menghitung" in page.text and "Rp" in page.text
    years = set(re.findall(r"/donasi-saya/dampak/(\d{4})/laporan\.pdf", page.text))
    assert years
    pdf = await client.get(f"/donasi-saya/dampak/{sorted(years)[0]}/laporan.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await client.get("/donasi-saya/dampak/1999/laporan.pdf")).status_code == 404
    names = {m["name"] for m in await Member.select(Member.name)}
    addresses = {h["address"] for h in await Household.select(Household.address) if h["address"]}
    sensitive = {PPKS_TYPES[p] for p in SENSITIVE_PPKS}
    assert not any(n in page.text for n in names) and not any(a in page.text for a in addresses)
    assert not any(s in page.text for s in sensitive) and "<img" not in page.text


async def test_a_donor_of_many_gifts_reads_them_a_page_at_a_time_under_figures_of_all(client) -> None:
    """The seeded donor has hundreds of gifts at city scale (a 589 KB page): 20 a page, newest first, while
    the figures at the top and the yearly statements still count every gift."""
    from portal.web.impact.donor import GIFTS_PER_PAGE
    from storage.tables import Donation, Donor

    await _seeded(23)
    account = await make_account("donor", "penderma")
    await _give_seeded_gifts(account)
    donor = await Donor.select(Donor.id).where(Donor.account == account).first()
    lks = await Donation.select(Donation.lks).where(Donation.donor == donor["id"]).first()
    for i in range(GIFTS_PER_PAGE + 5):
        await Donation.insert(Donation(donor=donor["id"], lks=lks["lks"], amount=10_000 + i, currency="IDR",
                                       method="transfer", status="completed", receipt_number=f"UJI-{i}"))
    gifts = await Donation.count().where((Donation.donor == donor["id"]) & (Donation.status == "completed"))
    await login(client, "penderma")
    first, last = await client.get("/donasi-saya/dampak"), None
    pages = -(-gifts // GIFTS_PER_PAGE)
    last = await client.get(f"/donasi-saya/dampak?hal={pages}")
    assert first.status_code == last.status_code == 200
    figures = re.compile(r'<div class="grid figures">.*?</div>\s*</div>', re.S)
    assert figures.search(first.text).group(0) == figures.search(last.text).group(0)
    sections = [len(re.findall(r"<h2>[^<]*·", r.text)) for r in (first, last)]
    assert sections == [GIFTS_PER_PAGE, gifts - (pages - 1) * GIFTS_PER_PAGE]
    assert f"dari {gifts}" in first.text and "UJI-24" in first.text  # newest first
    assert (await client.get("/donasi-saya/dampak?hal=0")).status_code == 400


def test_a_gift_funds_its_periods_pro_rata_and_never_more_than_itself() -> None:
    gifts = [(1, "2026-01", 600), (2, "2026-01", 400), (3, "2026-02", 1000)]
    funded = trace(gifts, {"2026-01": 500, "2026-02": 1000, "2026-03": 10_000})
    # January: 500 of 1000 in the pool, 60/40; February: 1000 of 300+200+1000; March takes what is left
    assert [(f.period, f.amount) for f in funded[1]] == [("2026-01", 300), ("2026-02", 200), ("2026-03", 100)]
    assert [(f.period, f.amount) for f in funded[2]] == [("2026-01", 200), ("2026-02", 133), ("2026-03", 67)]
    assert sum(f.amount for f in funded[3]) == 1000  # all spent by March
    assert abs(funded[1][0].share - 0.6) < 1e-9
    for gift_id, _p, net in gifts:
        assert sum(f.amount for f in funded[gift_id]) <= net


def test_tracing_a_few_gifts_from_the_sums_equals_tracing_every_gift() -> None:
    """The page traces the donor's gifts from per-period sums (storage.impact.donor.trace_own); it must
    give what the gift-by-gift pool gives, on random LKS (gifts and spending in any months, refunds)."""
    import random

    from storage.impact.donor import trace_own

    rng = random.Random(11)
    for _ in range(200):
        months = [f"2026-{m:02d}" for m in range(1, 10)]
        gifts = [(i, rng.choice(months), rng.choice([0, -5, rng.randint(1, 5_000_000)]))
                 for i in range(rng.randint(1, 40))]
        spending = {m: rng.choice([0, rng.randint(1, 8_000_000)]) for m in rng.sample(months, rng.randint(0, 9))}
        pool_in: dict[str, int] = {}
        for _i, month, net in gifts:
            if net > 0:
                pool_in[month] = pool_in.get(month, 0) + net
        every = trace(gifts, spending)
        own = rng.sample(gifts, min(3, len(gifts)))
        some = trace_own(pool_in, spending, own)
        for gift_id, _month, _net in own:
            # (the gift-by-gift pool leaves float dust after a month that spends it all: parts of Rp 0)
            a = [f for f in every.get(gift_id, []) if f.amount > 0]
            b = some.get(gift_id, [])
            assert [f.period for f in a] == [f.period for f in b]
            assert all(abs(x.amount - y.amount) <= 1 and abs(x.share - y.share) < 1e-6
                       for x, y in zip(a, b, strict=True))


async def test_lks_periodic_report_submitted_approved_and_public(client) -> None:
    staff_lks = None
    from tests.dbutil import make_lks

    staff_lks = await make_lks("Yayasan Pelapor")
    await make_account("lks_staff", "pelapor", lks_id=staff_lks)
    await make_account("dinsos_admin", "pemeriksa")
    await login(client, "pelapor")
    await client.get("/lks-saya/laporan")
    fields = {"period": "2026-10", "delivered_summary": "12 paket sembako tersalurkan.",
              "not_delivered": "2 keluarga pindah alamat.", "fund_balance_seen": "0", "_csrf_token": csrf(client)}
    missing = await client.post("/lks-saya/laporan", data=fields)
    assert missing.status_code == 400 and "saldo" in missing.text.lower()
    assert await LksReport.count() == 0
    future = await client.post("/lks-saya/laporan", data={**fields, "period": "2999-01", "balance_confirmed": "on"})
    assert future.status_code == 400
    ok = await client.post("/lks-saya/laporan", data={**fields, "balance_confirmed": "on"}, follow_redirects=False)
    assert ok.status_code in (302, 303)
    again = await client.post("/lks-saya/laporan", data={**fields, "balance_confirmed": "on"})
    assert again.status_code == 400 and await LksReport.count() == 1
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    await login(client, "pemeriksa")
    listing = await client.get("/admin/laporan-lks")
    assert "Yayasan Pelapor" in listing.text
    report_id = (await LksReport.select(LksReport.id).first())["id"]
    no_reason = await client.post(f"/admin/laporan-lks/{report_id}/keputusan",
                                  data={"action": "reject", "note": "", "_csrf_token": csrf(client)})
    assert no_reason.status_code == 400
    assert (await client.post("/admin/laporan-lks/99999999999/keputusan",
                              data={"action": "approve", "_csrf_token": csrf(client)})).status_code == 404
    done = await client.post(f"/admin/laporan-lks/{report_id}/keputusan",
                             data={"action": "approve", "note": "", "_csrf_token": csrf(client)},
                             follow_redirects=False)
    assert done.status_code in (302, 303)
    assert (await LksReport.select(LksReport.status).first())["status"] == "approved"
    assert await AuditEvent.count().where(AuditEvent.action.is_in(["lks_report.submit", "lks_report.approve"])) == 2
    public = await client.get(f"/lks/{staff_lks}")
    assert "12 paket sembako" in public.text and "2026-10" in public.text and "Rekam jejak" in public.text


async def test_command_center_work_lists_are_shared_until_the_audit_trail_moves(db) -> None:
    """Officers' views share the work lists until something audited happens (or the day changes)."""
    from marketplace.audit import AuditEvent as Event
    from portal.web.impact import command
    from storage import audit
    from storage.tables import Lks

    await audit.record(Event("uji", "test.start", "lks", "0", None, {}))
    first = await command._work_in_progress()
    await Lks.insert(Lks(name="Yayasan Baru", legal_type="yayasan", status="applied", kecamatan_code="32.73.03",
                         email="baru@example.org"))
    assert (await command._work_in_progress())["lks_applied"] == first["lks_applied"]  # nothing audited yet
    await audit.record(Event("uji", "lks.applied", "lks", "1", None, {}))
    assert (await command._work_in_progress())["lks_applied"] == first["lks_applied"] + 1


async def test_a_donors_traced_gifts_are_kept_until_the_audit_trail_moves(db) -> None:
    from marketplace.audit import AuditEvent as Event
    from storage import audit
    from storage.impact.donor import donor_gifts
    from storage.tables import Donation, Donor

    await _seeded(24)
    account = await make_account("donor", "penderma")
    await _give_seeded_gifts(account)
    await audit.record(Event("uji", "donor.linked", "donor", str(account), None, {}))
    first = await donor_gifts(account)
    donor = await Donor.select(Donor.id).where(Donor.account == account).first()
    await Donation.insert(Donation(donor=donor["id"], lks=first[0].lks_id, amount=25_000, currency="IDR",
                                   method="transfer", status="completed", receipt_number="UJI-KEEP"))
    assert await donor_gifts(account) is first  # nothing audited: the same traced list
    await audit.record(Event("uji", "donation.transfer_recorded", "donation", "0", None, {}))
    assert len(await donor_gifts(account)) == len(first) + 1
