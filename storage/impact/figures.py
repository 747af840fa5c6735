"""Impact figures computed from the database in a few set-wise queries, then suppressed in
``marketplace.disclosure`` (public and donor figures) or left whole (the Dinsos command center).

Unit: a delivery (to one household) of an approved allocation; its month is its round's period, its place
the household's kecamatan. Public figures are built once here, so every page shows the same suppressed
figure: the LKS × month table of confirmed deliveries gives the LKS track record (its row totals), the
donor's months (its rows) and the public monthly chart (its column totals).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from marketplace import clock, regions
from marketplace.disclosure import (
    Figure,
    ProtectedTable,
    ProtectedVector,
    protect_funnel,
    protect_table,
    protect_vector,
)
from marketplace.vocabulary import KIND_LABELS, PPKS_TYPES
from storage.tables import Allocation, GovernmentAid, Lks, LksReport, MatchingRound, Need

DELIVERED = ("recorded", "confirmed", "disputed")
APPROVED_ALLOCATION = ("approved", "delivered", "confirmed", "disputed")
OPEN_NEED = ("verified", "matched", "approved")

_FACTS_SQL = """
SELECT d.id AS delivery_id, d.status AS status, d.delivered_on AS delivered_on, a.lks AS lks_id,
       a.amount AS amount, a.decided_at AS approved_at, r.period AS period, n.kind AS kind, n.ppks AS ppks,
       n.household AS household_id, h.kelurahan_code AS kelurahan_code
FROM delivery d
JOIN allocation a ON a.id = d.allocation
JOIN matching_round r ON r.id = a.round
JOIN need n ON n.id = a.need
JOIN household h ON h.id = n.household
"""


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.local_date(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def delivery_facts() -> list[dict[str, Any]]:
    """One row per recorded delivery (any status): no names, no addresses, only codes and amounts."""
    rows = await Need.raw(_FACTS_SQL)
    for r in rows:
        r["kecamatan_code"] = r["kelurahan_code"][:8]
        r["amount"] = int(r["amount"])
        r["delivered_on"] = _date(r["delivered_on"])
        r["approved_at"] = _date(r["approved_at"])
    return rows


def _count(rows: list[dict[str, Any]], key: Any) -> tuple[dict[Any, int], dict[Any, int], dict[Any, int]]:
    counts: dict[Any, int] = defaultdict(int)
    amounts: dict[Any, int] = defaultdict(int)
    homes: dict[Any, set[int]] = defaultdict(set)
    for r in rows:
        k = key(r)
        counts[k] += 1
        amounts[k] += r["amount"]
        homes[k].add(r["household_id"])
    return dict(counts), dict(amounts), {k: len(v) for k, v in homes.items()}


# --- JSON form of protected figures (the snapshot is JSON) ----------------------------------------------

def fig_json(f: Figure) -> list[Any]:
    return [f.count, f.amount, f.small, f.hidden]


def fig_from(j: list[Any] | None) -> Figure:
    if not j:
        return Figure(0, 0)
    return Figure(j[0], j[1], bool(j[2]), bool(j[3]))


def vector_json(v: ProtectedVector[Any]) -> dict[str, Any]:
    return {"keys": [str(k) for k in v.keys], "cells": {str(k): fig_json(f) for k, f in v.cells.items()},
            "total": fig_json(v.total)}


def table_json(t: ProtectedTable[Any, Any]) -> dict[str, Any]:
    return {"rows": [str(r) for r in t.rows], "cols": [str(c) for c in t.cols],
            "cells": {f"{r}|{c}": fig_json(f) for (r, c), f in t.cells.items()},
            "row_totals": {str(r): fig_json(f) for r, f in t.row_totals.items()},
            "col_totals": {str(c): fig_json(f) for c, f in t.col_totals.items()}, "total": fig_json(t.total)}


# --- public figures --------------------------------------------------------------------------------

async def public_figures() -> dict[str, Any]:
    """Everything ``/dampak``, the LKS pages and donors see, already suppressed."""
    facts = await delivery_facts()
    confirmed = [r for r in facts if r["status"] == "confirmed"]
    pending = [r for r in facts if r["status"] == "recorded"]
    disputed = [r for r in facts if r["status"] == "disputed"]
    lks_names = {int(r["id"]): r["name"] for r in await Lks.select(Lks.id, Lks.name).where(Lks.status == "verified")}
    periods = sorted({r["period"] for r in facts} | {r["period"] for r in await MatchingRound.select(
        MatchingRound.period).where(MatchingRound.status == "proposed")})
    lks_ids = sorted(lks_names)

    counts, amounts, homes = _count(confirmed, lambda r: (str(r["lks_id"]), r["period"]))
    lks_month = protect_table(counts, [str(i) for i in lks_ids], periods, amounts=amounts, households=homes)
    kc, ka, kh = _count(confirmed, lambda r: r["kind"])
    by_kind = protect_vector(kc, list(KIND_LABELS), amounts=ka, households=kh)
    cc, ca, ch = _count(confirmed, lambda r: r["kecamatan_code"])
    by_kecamatan = protect_vector(cc, [k.code for k in regions.kecamatan()], amounts=ca, households=ch)
    pc, pa, ph = _count(pending, lambda r: str(r["lks_id"]))
    pending_by_lks = protect_vector(pc, [str(i) for i in lks_ids], amounts=pa, households=ph)
    dc, da, dh = _count(disputed, lambda r: str(r["lks_id"]))
    disputed_by_lks = protect_vector(dc, [str(i) for i in lks_ids], amounts=da, households=dh)

    # LKS-level statistics, shown only where the LKS has at least 5 deliveries
    days: dict[str, list[int]] = defaultdict(list)
    kinds_of: dict[str, set[str]] = defaultdict(set)
    kecamatan_of: dict[str, set[str]] = defaultdict(set)
    for r in facts:
        key = str(r["lks_id"])
        if r["approved_at"] and r["delivered_on"]:
            days[key].append(max(0, (r["delivered_on"] - r["approved_at"]).days))
        if r["status"] in ("confirmed", "recorded"):
            kinds_of[f"{key}|{r['period']}"].add(r["kind"])
            kecamatan_of[f"{key}|{r['period']}"].add(r["kecamatan_code"])
    delivered_n = {k: len(v) for k, v in days.items()}
    reports = await LksReport.select(LksReport.lks, LksReport.period).where(LksReport.status == "approved")
    last_report: dict[str, str] = {}
    for rep in reports:
        key = str(rep["lks"])
        last_report[key] = max(last_report.get(key, ""), rep["period"])
    track = {}
    for i in lks_ids:
        key = str(i)
        n = delivered_n.get(key, 0)
        disputed_fig = disputed_by_lks.get(key)
        confirmed_fig = lks_month.row_totals[key]
        share = None
        if n >= 5 and not disputed_fig.hidden and disputed_fig.count is not None:
            share = round(100 * disputed_fig.count / n, 1)
        track[key] = {
            "median_days": statistics.median(days[key]) if n >= 5 else None,
            "disputed_share": share, "last_report": last_report.get(key, ""),
            "confirmed": fig_json(confirmed_fig), "pending": fig_json(pending_by_lks.get(key)),
            "disputed": fig_json(disputed_fig),
        }
    return {
        "periods": periods,
        "lks_names": {str(k): v for k, v in lks_names.items()},
        "lks_month": table_json(lks_month),
        "by_kind": vector_json(by_kind),
        "by_kecamatan": vector_json(by_kecamatan),
        "pending_by_lks": vector_json(pending_by_lks),
        "disputed_by_lks": vector_json(disputed_by_lks),
        "track": track,
        "presence": {k: {"kinds": sorted(v), "kecamatan": sorted(kecamatan_of[k])} for k, v in kinds_of.items()},
        "funnel": await _funnel(periods[-1] if periods else None, lks_month, facts),
    }


async def _funnel(period: str | None, lks_month: ProtectedTable[str, str], facts: list[dict[str, Any]]
                  ) -> dict[str, Any]:
    """Needs of ``period`` (its latest round) from verified to confirmed, against what was needed."""
    if period is None:
        return {"period": None, "stages": {}}
    rnd = await MatchingRound.select(MatchingRound.id, MatchingRound.needs_count).where(
        (MatchingRound.period == period) & (MatchingRound.status == "proposed")).order_by(
        MatchingRound.id, ascending=False).first()
    if rnd is None:
        return {"period": period, "stages": {}}
    allocations = await Allocation.select(Allocation.status, Allocation.amount, Allocation.need).where(
        Allocation.round == rnd["id"])
    approved = [a for a in allocations if a["status"] in APPROVED_ALLOCATION]
    in_period = [r for r in facts if r["period"] == period]
    aid_periods = await GovernmentAid.select(GovernmentAid.period).distinct().order_by(GovernmentAid.period)
    covered = 0
    if aid_periods:
        usable = [p["period"] for p in aid_periods if p["period"] <= period] or [aid_periods[-1]["period"]]
        rows = await Need.raw(
            "SELECT COUNT(*) AS n FROM need n WHERE n.status IN ('verified', 'matched', 'approved') AND EXISTS "
            "(SELECT 1 FROM government_aid g WHERE g.household = n.household AND g.kind = n.kind "
            "AND g.period = {})", usable[-1])
        covered = int(rows[0]["n"]) if rows else 0
    stages = {
        "verified": int(rnd["needs_count"]),
        "government": covered,
        "matched": len(allocations),
        "approved": len(approved),
        "delivered": len(in_period),
        "confirmed": sum(1 for r in in_period if r["status"] == "confirmed"),
    }
    protected = protect_funnel(stages)
    confirmed = lks_month.col_totals.get(period, Figure(0, 0))
    if confirmed.hidden:  # the same figure as the monthly chart: hidden there, hidden here
        protected["confirmed"] = confirmed
        protected["delivered"] = Figure(None, small=protected["delivered"].small, hidden=True)
    amounts = {"matched": sum(int(a["amount"]) for a in allocations),
               "approved": sum(int(a["amount"]) for a in approved)}
    return {"period": period, "stages": {k: fig_json(f) for k, f in protected.items()},
            "amounts": {k: v for k, v in amounts.items() if not protected[k].hidden}}


# --- Dinsos figures (whole numbers: Dinsos may see them) -------------------------------------------------

_COVERAGE_SQL = """
SELECT h.kelurahan_code AS kelurahan_code, n.ppks AS ppks, COUNT(*) AS needs,
       COUNT(DISTINCT n.household) AS households, SUM(n.amount) AS need_amount,
       SUM(COALESCE(g.aid, 0)) AS government_amount,
       SUM(CASE WHEN COALESCE(g.aid, 0) > 0 THEN 1 ELSE 0 END) AS government_needs
FROM need n
JOIN household h ON h.id = n.household
LEFT JOIN (SELECT household, kind, SUM(amount) AS aid FROM government_aid WHERE period = {}
           GROUP BY household, kind) g ON g.household = n.household AND g.kind = n.kind
WHERE n.status IN ('verified', 'matched', 'approved', 'delivered', 'confirmed')
GROUP BY h.kelurahan_code, n.ppks
"""

_LKS_SQL = """
SELECT h.kelurahan_code AS kelurahan_code, n.ppks AS ppks, r.period AS period, a.status AS status,
       COUNT(*) AS allocations, SUM(a.amount) AS amount
FROM allocation a
JOIN matching_round r ON r.id = a.round
JOIN need n ON n.id = a.need
JOIN household h ON h.id = n.household
WHERE a.status IN ('approved', 'delivered', 'confirmed', 'disputed')
GROUP BY h.kelurahan_code, n.ppks, r.period, a.status
"""


async def dinsos_figures() -> dict[str, Any]:
    """Coverage by kelurahan × PPKS (need, government aid, LKS, gap) and the work in progress."""
    aid_periods = await GovernmentAid.select(GovernmentAid.period).distinct().order_by(GovernmentAid.period)
    aid_period = aid_periods[-1]["period"] if aid_periods else ""
    coverage = await Need.raw(_COVERAGE_SQL, aid_period)
    lks_rows = await Need.raw(_LKS_SQL)
    cells: dict[str, dict[str, int]] = {}
    for r in coverage:
        key = f"{r['kelurahan_code']}|{r['ppks']}"
        need_amount, gov = int(r["need_amount"] or 0), int(r["government_amount"] or 0)
        cells[key] = {"needs": int(r["needs"]), "households": int(r["households"]), "need_amount": need_amount,
                      "government_amount": min(gov, need_amount), "government_needs": int(r["government_needs"]),
                      "lks_amount": 0, "lks_allocations": 0, "delivered": 0, "confirmed": 0}
    monthly: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for r in lks_rows:
        key = f"{r['kelurahan_code']}|{r['ppks']}"
        c = cells.setdefault(key, {"needs": 0, "households": 0, "need_amount": 0, "government_amount": 0,
                                   "government_needs": 0, "lks_amount": 0, "lks_allocations": 0, "delivered": 0,
                                   "confirmed": 0})
        n, amount = int(r["allocations"]), int(r["amount"] or 0)
        c["lks_amount"] += amount
        c["lks_allocations"] += n
        if r["status"] in ("delivered", "confirmed", "disputed"):
            c["delivered"] += n
        if r["status"] == "confirmed":
            c["confirmed"] += n
        m = monthly[r["period"]].setdefault(key, {"allocations": 0, "amount": 0, "delivered": 0, "confirmed": 0})
        m["allocations"] += n
        m["amount"] += amount
        m["delivered"] += n if r["status"] in ("delivered", "confirmed", "disputed") else 0
        m["confirmed"] += n if r["status"] == "confirmed" else 0
    for c in cells.values():
        c["gap"] = max(0, c["need_amount"] - c["government_amount"] - c["lks_amount"])
    return {"aid_period": aid_period, "cells": cells, "monthly": monthly,
            "ppks": {str(k): v for k, v in PPKS_TYPES.items()}}
