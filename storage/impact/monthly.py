"""The monthly report for the ministry: per PPKS × kecamatan, households and needs, interventions by
source (APBN, APBD, LKS) and deliveries (delivered, confirmed) of one period. Dinsos only: whole numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.tables import GovernmentAid, Need

_NEEDS_SQL = """
SELECT substr(h.kelurahan_code, 1, 8) AS kecamatan, n.ppks AS ppks, COUNT(*) AS needs,
       COUNT(DISTINCT n.household) AS households, SUM(n.amount) AS need_amount
FROM need n JOIN household h ON h.id = n.household
WHERE n.status IN ('verified', 'matched', 'approved', 'delivered', 'confirmed')
GROUP BY substr(h.kelurahan_code, 1, 8), n.ppks
"""

_AID_SQL = """
SELECT substr(h.kelurahan_code, 1, 8) AS kecamatan, n.ppks AS ppks, p.budget_source AS source,
       SUM(g.amount) AS amount
FROM need n JOIN household h ON h.id = n.household
JOIN government_aid g ON g.household = n.household AND g.kind = n.kind AND g.period = {}
JOIN government_program p ON p.code = g.program
WHERE n.status IN ('verified', 'matched', 'approved', 'delivered', 'confirmed')
GROUP BY substr(h.kelurahan_code, 1, 8), n.ppks, p.budget_source
"""

_LKS_SQL = """
SELECT substr(h.kelurahan_code, 1, 8) AS kecamatan, n.ppks AS ppks, SUM(a.amount) AS amount,
       SUM(CASE WHEN a.status IN ('delivered', 'confirmed', 'disputed') THEN 1 ELSE 0 END) AS delivered,
       SUM(CASE WHEN a.status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed
FROM allocation a JOIN matching_round r ON r.id = a.round
JOIN need n ON n.id = a.need JOIN household h ON h.id = n.household
WHERE r.period = {} AND a.status IN ('approved', 'delivered', 'confirmed', 'disputed')
GROUP BY substr(h.kelurahan_code, 1, 8), n.ppks
"""

COLUMNS = ("households", "needs", "need_amount", "apbn", "apbd", "apbn_apbd", "lks", "delivered", "confirmed")


@dataclass
class MonthlyReport:
    period: str
    aid_period: str
    rows: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        return {c: sum(r[c] for r in self.rows.values()) for c in COLUMNS}


async def monthly_report(period: str) -> MonthlyReport:
    aid_periods = [p["period"] for p in await GovernmentAid.select(GovernmentAid.period).distinct()]
    usable = sorted(p for p in aid_periods if p <= period)
    aid_period = usable[-1] if usable else ""
    report = MonthlyReport(period, aid_period)

    def row(kecamatan: str, ppks: Any) -> dict[str, int]:
        return report.rows.setdefault((kecamatan, int(ppks)), dict.fromkeys(COLUMNS, 0))

    for r in await Need.raw(_NEEDS_SQL):
        target = row(r["kecamatan"], r["ppks"])
        target.update(needs=int(r["needs"]), households=int(r["households"]), need_amount=int(r["need_amount"] or 0))
    if aid_period:
        for r in await Need.raw(_AID_SQL, aid_period):
            column = {"APBN": "apbn", "APBD": "apbd"}.get(r["source"], "apbn_apbd")
            row(r["kecamatan"], r["ppks"])[column] += int(r["amount"] or 0)
    for r in await Need.raw(_LKS_SQL, period):
        target = row(r["kecamatan"], r["ppks"])
        target.update(lks=int(r["amount"] or 0), delivered=int(r["delivered"] or 0),
                      confirmed=int(r["confirmed"] or 0))
    return report
