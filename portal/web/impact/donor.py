"""The donor's own impact ``/donasi-saya/dampak`` and its yearly statement (PDF): each gift traced
through its LKS's ledger to the deliveries it funded (``storage/impact/donor.py``), with the LKS's
approved periodic reports. Figures about deliveries come from the public, suppressed snapshot."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from fpdf import FPDF
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from marketplace import regions
from marketplace.money import rupiah
from marketplace.vocabulary import Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import language_of, page, page_number
from portal.web.impact.views import kind_label, month_label
from storage.impact.donor import TracedGift, approved_reports, donor_gifts
from storage.impact.figures import fig_from
from storage.impact.snapshot import figures
from storage.lks_reports import photo_links as report_photo_links
from storage.objects import make_object_store

DONOR = roles(Role.DONOR)
menu.add("/donasi-saya/dampak", "Dampak donasi saya", Role.DONOR)


_SUMMARIES: OrderedDict[tuple[int, str], tuple[list[TracedGift], dict[str, Any]]] = OrderedDict()


def _summary(gifts: list[TracedGift], fig: dict[str, Any]) -> dict[str, Any]:
    """The figures at the top of the page, over every gift; kept while the donor's traced gifts (kept per
    audit state, ``storage.impact.donor``) and the snapshot stay the same."""
    key = (id(gifts), str(fig.get("computed_at", "")))
    kept = _SUMMARIES.get(key)
    if kept is not None and kept[0] is gifts:
        return kept[1]
    summary = _sum_up(gifts, fig)
    _SUMMARIES[key] = (gifts, summary)
    while len(_SUMMARIES) > 256:
        _SUMMARIES.popitem(last=False)
    return summary


def _sum_up(gifts: list[TracedGift], fig: dict[str, Any]) -> dict[str, Any]:
    cells = fig["lks_month"]["cells"]
    reached = 0.0
    places: set[str] = set()
    for g in gifts:
        for f in g.funded:
            confirmed = fig_from(cells.get(f"{g.lks_id}|{f.period}"))
            if not confirmed.hidden and confirmed.count:
                reached += confirmed.count * f.share
            places.update(fig["presence"].get(f"{g.lks_id}|{f.period}", {"kecamatan": []})["kecamatan"])
    return {"given": sum(g.net for g in gifts), "funded": sum(g.net - g.unspent for g in gifts),
            "households": reached, "kecamatan": sorted(regions.name_of(k) for k in places)}


def _rows(gifts: list[TracedGift], fig: dict[str, Any], reports: dict[tuple[int, str], Any], lang: str
          ) -> list[dict[str, Any]]:
    """Each gift's periods as shown (only for the gifts on the page or in the statement)."""
    cells = fig["lks_month"]["cells"]
    out = []
    for g in gifts:
        periods = []
        for f in g.funded:
            confirmed = fig_from(cells.get(f"{g.lks_id}|{f.period}"))
            presence = fig["presence"].get(f"{g.lks_id}|{f.period}", {"kinds": [], "kecamatan": []})
            households = confirmed.count * f.share if not confirmed.hidden and confirmed.count else None
            periods.append({
                "period": f.period, "label": month_label(f.period, lang), "amount": f.amount,
                "confirmed": confirmed, "households": households,
                "kinds": [kind_label(k, lang) for k in presence["kinds"]],
                "kecamatan": [regions.name_of(k) for k in presence["kecamatan"]],
                "report": reports.get((g.lks_id, f.period)),
            })
        track = fig["track"].get(str(g.lks_id), {})
        out.append({"gift": g, "periods": periods, "pending": fig_from(track.get("pending"))})
    return out


async def _gifts(request: Request[Any, Any, Any]) -> tuple[list[TracedGift], dict[str, Any]]:
    user = await current_user(request)
    assert user is not None
    return await donor_gifts(user.id), await figures("public")


GIFTS_PER_PAGE = 20
"""Gifts shown per page (newest first); the figures at the top and the yearly statements cover them all."""


@get("/donasi-saya/dampak", opt=DONOR)
async def my_impact(request: Request[Any, Any, Any]) -> Template:
    gifts, fig = await _gifts(request)
    years = sorted({g.received[:4] for g in gifts}, reverse=True)
    pages = max(1, -(-len(gifts) // GIFTS_PER_PAGE))
    page_no = min(page_number(request, "hal"), pages)
    shown = gifts[(page_no - 1) * GIFTS_PER_PAGE:page_no * GIFTS_PER_PAGE]
    rows = _rows(shown, fig, await approved_reports({g.lks_id for g in shown}), language_of(request))
    report_ids = {int(p["report"]["id"]) for r in rows for p in r.get("periods", []) if p.get("report")}
    photos = await report_photo_links(sorted(report_ids), make_object_store())
    return await page(request, "impact/donor.html", rows=rows, summary=_summary(gifts, fig), years=years,
                      report_photos=photos, page_no=page_no, pages=pages, gifts=len(gifts),
                      first=(page_no - 1) * GIFTS_PER_PAGE + 1, last=(page_no - 1) * GIFTS_PER_PAGE + len(shown))


def _latin1(text: str) -> str:
    return text.replace("≈", "~").encode("latin-1", "replace").decode("latin-1")


@get("/donasi-saya/dampak/{year:int}/laporan.pdf", opt=DONOR)
async def my_statement(request: Request[Any, Any, Any], year: FromPath[int]) -> Response[bytes]:
    if not 2000 <= year <= 2100:
        raise NotFoundException("Tahun tidak dikenal.")
    gifts, fig = await _gifts(request)
    gifts = [g for g in gifts if g.received.startswith(f"{year:04d}")]
    rows = _rows(gifts, fig, await approved_reports({g.lks_id for g in gifts}), language_of(request))
    user = await current_user(request)
    assert user is not None
    return Response(statement_document(year, user.full_name or user.username, rows), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="dampak-donasi-{year}.pdf"'})


def statement_document(year: int, donor: str, rows: list[dict[str, Any]]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Laporan dampak donasi {year}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, _latin1(f"Laporan dampak donasi tahun {year}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin1(f"Donatur: {donor}"), new_x="LMARGIN", new_y="NEXT")
    total = sum(r["gift"].net for r in rows)
    funded = sum(r["gift"].net - r["gift"].unspent for r in rows)
    pdf.cell(0, 6, _latin1(f"Jumlah donasi: {rupiah(total)}; sudah tersalurkan: {rupiah(funded)}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for r in rows:
        g = r["gift"]
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(f"{g.receipt_number or '#' + str(g.donation_id)} - {g.lks_name} - "
                                     f"{rupiah(g.net)} ({g.received})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        if not r["periods"]:
            pdf.cell(0, 6, _latin1("Belum tersalurkan (masih dalam saldo LKS)."), new_x="LMARGIN", new_y="NEXT")
        for p in r["periods"]:
            reached = f"~{p['households']:.1f} rumah tangga" if p["households"] is not None else \
                f"penyaluran LKS: {p['confirmed'].label}"
            pdf.multi_cell(0, 5, _latin1(f"  {p['period']}: {rupiah(p['amount'])} ; {reached} ; "
                                         f"{', '.join(p['kinds']) or '-'} ; {', '.join(p['kecamatan']) or '-'}"),
                           new_x="LMARGIN", new_y="NEXT")
        if g.unspent > 0:
            pdf.cell(0, 5, _latin1(f"  Belum tersalurkan: {rupiah(g.unspent)}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 4, _latin1(
        "Cara menghitung: donasi masuk ke kas LKS pada bulan diterima; alokasi LKS tiap periode diambil dari kas "
        "secara proporsional terhadap sisa setiap donasi. Bagian donasi Anda dari alokasi suatu periode adalah "
        "bagian Anda dari penyaluran periode itu. Kelompok kurang dari 5 rumah tangga ditulis '< 5'. "
        "Tanpa data pribadi penerima. jitu, Dinas Sosial Kota Bandung."))
    return bytes(pdf.output())


ROUTES = [my_impact, my_statement]
