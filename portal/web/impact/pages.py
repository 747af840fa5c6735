"""The public impact report ``/dampak``: confirmed aid by month, kind and kecamatan (a tile map), and the
coverage funnel of the latest period, as SVG charts with their numbers as tables and downloads.
Aggregates only, read from the precomputed snapshot and suppressed (``marketplace.disclosure``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template

from portal.auth import PUBLIC
from portal.web.common import language_of, page
from portal.web.impact import charts, views
from portal.web.where_needed import public_context
from storage.impact.snapshot import figures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/dampak", opt=PUBLIC, name="impact")
async def impact(request: Request[Any, Any, Any]) -> Template:
    fig = await figures("public")
    lang = language_of(request)
    months = views.by_month(fig, lang)
    kinds = views.by_kind(fig, lang)
    kecamatan = views.by_kecamatan(fig)
    stages = views.funnel(fig, lang)
    return await page(
        request, "impact/report.html", fig=fig, total=views.total(fig), months=months, kinds=kinds,
        kecamatan=kecamatan, stages=stages, funnel_period=fig["funnel"].get("period"),
        month_chart=charts.bar_chart("Penyaluran terkonfirmasi per bulan", [(lbl, f) for _k, lbl, f in months]),
        kind_chart=charts.bar_chart("Per jenis bantuan", [(lbl, f) for _k, lbl, f in kinds], horizontal=True),
        tile_map=charts.tile_map("Per kecamatan", kecamatan),
        funnel_chart=charts.funnel("Tahapan kebutuhan", [(lbl, f) for _k, lbl, f in stages]),
        any_hidden=_any_hidden(months, kinds, kecamatan, stages),
        reached=sum(1 for _k, _l, f in kecamatan if f.hidden or f.count),
        **await public_context(lang),  # "di mana bantuan paling dibutuhkan sekarang" (issue 10)
    )


def _any_hidden(*groups: list[tuple[str, str, Any]]) -> bool:
    return any(f.hidden for g in groups for _k, _l, f in g)


def _table_name(request: Request[Any, Any, Any]) -> str:
    name = str(request.query_params.get("tabel", "kecamatan"))
    if name not in views.TABLES:
        raise NotFoundException("Tabel tidak dikenal (bulan, jenis, kecamatan, tahapan).")
    return name


@get("/dampak/data.csv", opt=PUBLIC)
async def impact_csv(request: Request[Any, Any, Any]) -> Response[bytes]:
    name = _table_name(request)
    head, rows = views.table_rows(await figures("public"), name, language_of(request))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(head)
    writer.writerows(rows)
    return Response(buf.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="dampak-{name}.csv"'})


@get("/dampak/data.xlsx", opt=PUBLIC)
async def impact_xlsx(request: Request[Any, Any, Any]) -> Response[bytes]:
    from openpyxl import Workbook

    fig = await figures("public")
    lang = language_of(request)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name in views.TABLES:
        sheet = book.create_sheet(name)
        head, rows = views.table_rows(fig, name, lang)
        sheet.append(head)
        for row in rows:
            sheet.append(row)
    note = book.create_sheet("catatan")
    note.append(["Kelompok kurang dari 5 rumah tangga ditulis '< 5'; angka '≥ 5' disembunyikan agar kelompok "
                 "kecil tidak dapat dihitung dari jumlah."])
    buf = io.BytesIO()
    book.save(buf)
    return Response(buf.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="dampak-jitu.xlsx"'})


ROUTES = [impact, impact_csv, impact_xlsx]
