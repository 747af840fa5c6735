"""The Dinsos command center ``/pusat-komando``: coverage of the need by kecamatan and PPKS (need,
government aid, LKS, gap) with drill-down to kelurahan, rounds and approvals in progress, deliveries
overdue and disputed, LKS waiting for verification, and the monthly report (Excel) for the ministry.
Dinsos sees whole numbers; coverage comes from the precomputed snapshot, the work lists are live."""

from __future__ import annotations

import io
import re
from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from marketplace import clock, regions
from marketplace.disclosure import Figure
from marketplace.vocabulary import PPKS_TYPES, Role
from portal.auth import roles
from portal.web import menu
from portal.web.common import page
from portal.web.impact import charts
from storage.impact.monthly import COLUMNS, monthly_report
from storage.impact.snapshot import figures
from storage.tables import Allocation, AuditHead, Delivery, Lks, MatchingRound, Need

DINSOS = roles(Role.DINSOS_ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_RE = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
FIELDS = ("needs", "households", "need_amount", "government_amount", "lks_amount", "gap", "delivered", "confirmed")

menu.add("/pusat-komando", "Pusat komando", Role.DINSOS_ADMIN)


_ROLLED: dict[tuple[str, str], dict[str, dict[str, int]]] = {}


def _rolled(fig: dict[str, Any], name: str, key: Any) -> dict[str, dict[str, int]]:
    """``_rollup`` of the snapshot's cells, once per snapshot (a city snapshot has thousands of kelurahan ×
    PPKS cells; summing them on every view was most of the page's time)."""
    version = (str(fig.get("computed_at", "")), name)
    kept = _ROLLED.get(version)
    if kept is None:
        if not any(v[0] == version[0] for v in _ROLLED):
            _ROLLED.clear()  # a new snapshot: the old roll-ups go
        kept = _ROLLED[version] = _rollup(fig["cells"], key)
    return kept


def _rollup(cells: dict[str, dict[str, int]], key: Any) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for composite, c in cells.items():
        kelurahan, ppks = composite.split("|")
        k = key(kelurahan, ppks)
        if k is None:
            continue
        target = out.setdefault(k, dict.fromkeys(FIELDS, 0))
        for f in FIELDS:
            target[f] += int(c.get(f, 0))
    for target in out.values():
        need = target["need_amount"]
        target["covered_pct"] = round(100 * (need - target["gap"]) / need) if need else 0
    return out


_WORK: dict[tuple[int, str, Any], dict[str, Any]] = {}


async def _work_in_progress() -> dict[str, Any]:
    """The live work lists, computed again whenever the audit trail has moved (every change of an allocation,
    delivery, need or LKS is audited) or the day has changed; several officers' views in between share them."""
    head = await AuditHead.select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).first()
    today = clock.today()
    key = (int(head["last_id"]), str(head["last_hash"]), today) if head else (0, "", today)
    kept = _WORK.get(key)
    if kept is None:
        kept = await _work_lists(today)
        _WORK.clear()
        _WORK[key] = kept
    return kept


async def _work_lists(today: Any) -> dict[str, Any]:
    overdue = await Allocation.raw(
        "SELECT a.lks AS lks, l.name AS name, COUNT(*) AS n, MIN(a.deliver_by) AS oldest FROM allocation a "
        "JOIN lks l ON l.id = a.lks WHERE a.status = 'approved' AND a.deliver_by < {} "
        "GROUP BY a.lks, l.name ORDER BY COUNT(*) DESC, a.lks LIMIT 50", today)
    rounds = await MatchingRound.select(MatchingRound.id, MatchingRound.period, MatchingRound.status,
                                        MatchingRound.matched_count).where(
        MatchingRound.status.is_in(["queued", "running"])).order_by(MatchingRound.id, ascending=False).limit(10)
    proposed = await Allocation.raw(
        "SELECT a.round AS round, r.period AS period, COUNT(*) AS n FROM allocation a "
        "JOIN matching_round r ON r.id = a.round WHERE a.status = 'proposed' GROUP BY a.round, r.period "
        "ORDER BY a.round DESC LIMIT 10")
    from storage.lks_reports.deadlines import overdue_lks

    late_reports = await overdue_lks()
    return {
        "reports_late": len(late_reports), "reports_paused": sum(1 for x in late_reports if x.paused),
        "overdue": overdue, "overdue_total": sum(int(r["n"]) for r in overdue),
        "rounds": rounds, "proposed": proposed,
        "disputed": await Delivery.count().where(Delivery.status == "disputed"),
        "awaiting_confirmation": await Delivery.count().where(Delivery.status == "recorded"),
        "lks_applied": await Lks.count().where(Lks.status == "applied"),
        "needs_waiting": await Need.count().where(Need.status.is_in(["submitted", "assessed"])),
    }


async def _report_periods() -> list[str]:
    rows = await MatchingRound.select(MatchingRound.period).distinct().order_by(MatchingRound.period,
                                                                                 ascending=False).limit(24)
    return [r["period"] for r in rows]


@get("/pusat-komando", opt=DINSOS)
async def command_center(request: Request[Any, Any, Any]) -> Template:
    fig = await figures("dinsos")
    by_kecamatan = _rolled(fig, "kecamatan", lambda kel, _p: kel[:8])
    by_ppks = _rolled(fig, "ppks", lambda _k, ppks: ppks)
    kecamatan = [(k.code, k.name, by_kecamatan.get(k.code, dict.fromkeys((*FIELDS, "covered_pct"), 0)))
                 for k in regions.kecamatan()]
    totals = {f: sum(row[f] for _c, _n, row in kecamatan) for f in FIELDS}
    gap_map = charts.tile_map("Kebutuhan yang sudah tertutup (%)", [
        (code, name, Figure(row["covered_pct"])) for code, name, row in kecamatan])
    return await page(request, "impact/command.html", kecamatan=kecamatan, totals=totals, gap_map=gap_map,
                      by_ppks=sorted(by_ppks.items(), key=lambda kv: -kv[1]["gap"]), ppks_names=PPKS_TYPES,
                      work=await _work_in_progress(), periods=await _report_periods(), aid_period=fig["aid_period"],
                      computed_at=fig.get("computed_at", ""))


@get("/pusat-komando/kecamatan/{code:str}", opt=DINSOS)
async def command_kecamatan(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    if code not in {k.code for k in regions.kecamatan()}:
        raise NotFoundException("Kecamatan tidak dikenal.")
    fig = await figures("dinsos")
    by_kelurahan = _rolled(fig, "kelurahan", lambda kel, _p: kel)
    by_ppks = _rolled(fig, f"ppks {code}", lambda kel, ppks: ppks if kel.startswith(code + ".") else None)
    kelurahan = [(k.code, k.name, by_kelurahan.get(k.code, dict.fromkeys((*FIELDS, "covered_pct"), 0)))
                 for k in regions.kelurahan() if k.kecamatan_code == code]
    return await page(request, "impact/command_kecamatan.html", code=code, name=regions.name_of(code),
                      kelurahan=kelurahan, by_ppks=sorted(by_ppks.items(), key=lambda kv: -kv[1]["gap"]),
                      ppks_names=PPKS_TYPES)


HEADERS = ("Kode kecamatan", "Kecamatan", "Kode PPKS", "Jenis PPKS", "Rumah tangga", "Kebutuhan",
           "Nilai kebutuhan (Rp)", "APBN (Rp)", "APBD (Rp)", "APBN/APBD (Rp)", "LKS (Rp)", "Disalurkan",
           "Dikonfirmasi")


def parse_period(raw: str) -> str:
    """``YYYY-MM`` between 2000 and 2099; a ``ValueError`` with an Indonesian message otherwise."""
    if not PERIOD_RE.fullmatch(raw or ""):
        raise ValueError("Periode harus berformat TTTT-BB, misalnya 2026-11.")
    return raw


@get("/pusat-komando/laporan-bulanan.xlsx", opt=DINSOS)
async def monthly_xlsx(request: Request[Any, Any, Any]) -> Response[bytes]:
    from openpyxl import Workbook

    try:
        period = parse_period(str(request.query_params.get("periode", "")))
    except ValueError as exc:
        return Response(str(exc).encode(), status_code=400, media_type="text/plain; charset=utf-8")
    report = await monthly_report(period)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Rekap"
    sheet.append([f"Laporan bulanan jitu, Dinas Sosial Kota Bandung, periode {period}"])
    sheet.append([f"Bansos pemerintah menurut data periode {report.aid_period or '-'}; LKS: alokasi yang "
                  f"disetujui pada ronde periode {period}."])
    sheet.append(list(HEADERS))
    for (kecamatan, ppks), row in sorted(report.rows.items()):
        sheet.append([kecamatan, regions.name_of(kecamatan), ppks, PPKS_TYPES.get(ppks, str(ppks)),
                      *(row[c] for c in COLUMNS)])
    totals = report.totals()
    sheet.append(["", "Jumlah", "", "", *(totals[c] for c in COLUMNS)])
    buf = io.BytesIO()
    book.save(buf)
    return Response(buf.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="laporan-bulanan-{period}.xlsx"'})


ROUTES = [command_center, command_kecamatan, monthly_xlsx]
