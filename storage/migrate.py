"""Run migrations forward and load reference data (regions, government programmes): idempotent."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine import engine_finder

from marketplace import regions
from marketplace.referrals import OFFICES
from storage.tables import GovernmentProgram, Office, Region

# Dinsos keeps this list (it can be edited in the portal); these are the programmes DOMAIN.md names.
DEFAULT_PROGRAMS = [
    ("PKH", "Program Keluarga Harapan", "APBN", "tunai", 4),
    ("BPNT", "Program Sembako / BPNT", "APBN", "pangan", 5),
    ("PBI-JK", "PBI Jaminan Kesehatan (iuran BPJS Kesehatan)", "APBN/APBD", "kesehatan", 5),
    ("PIP", "Program Indonesia Pintar / KIP", "APBN", "pendidikan", 4),
    ("RUTILAHU", "Rumah Tidak Layak Huni", "APBD/APBN", "perumahan", 3),
    ("ATENSI", "Asistensi Rehabilitasi Sosial", "APBN", "rehabilitasi", 4),
]


async def migrate() -> None:
    engine = engine_finder()
    if engine is not None and engine.engine_type == "sqlite":
        # WAL: readers never block the writer nor the writer them; kept in the database file.
        await Region.raw("PRAGMA journal_mode=WAL")
    response = await run_forwards(app_name="storage")
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}")
    await load_reference_data()


async def load_reference_data() -> None:
    known = {row["code"] for row in await Region.select(Region.code)}
    missing = [
        Region(code=r.code, name=r.name, level=r.level, parent_code=_parent(r.code))
        for r in regions.all_regions()
        if r.code not in known
    ]
    if missing:
        await Region.insert(*missing)
    programs = {row["code"] for row in await GovernmentProgram.select(GovernmentProgram.code)}
    new = [
        GovernmentProgram(code=c, name=n, budget_source=b, kind=k, desil_max=d)
        for c, n, b, k, d in DEFAULT_PROGRAMS
        if c not in programs
    ]
    if new:
        await GovernmentProgram.insert(*new)
    offices = {row["code"] for row in await Office.select(Office.code)}
    fresh = [Office(code=o.code, short_name=o.short_name, name=o.name, service_days=o.service_days)
             for o in OFFICES if o.code not in offices]
    if fresh:  # existing offices keep the service level Dinsos set
        await Office.insert(*fresh)


def _parent(code: str) -> str | None:
    parts = code.split(".")
    return ".".join(parts[:-1]) if len(parts) > 2 else None
