"""Time the DTKS import at city scale on the configured engine.

    .venv/bin/python scripts/bench_import.py [--scale city] [--seed 2026] [--file export.csv] [--reimport]

Writes a DTKS export (one row per member, household columns repeated) from ``marketplace.synthetic``
(the project's generator), then imports it with ``storage.registry_import.import_dtks`` into the database
named by ``DATABASE_URL`` (SQLite under ``JITU_VAR_DIR`` when unset), after running migrations. Use an
empty database: the figure is for a first import. ``--reimport`` times a second import of the same
file (everything "unchanged").
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import time
from pathlib import Path


def write_export(path: Path, scale: str, seed: int) -> tuple[int, int]:
    from marketplace import dtks, synthetic

    dataset = synthetic.generate(int(scale) if scale.isdigit() else scale, seed)
    households = members = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(dtks.TEMPLATE_HEADER)
        for chunk in dataset.chunks():
            by_no = {h.no: h for h in chunk.households}
            households += len(by_no)
            for m in chunk.members:
                h = by_no[m.household_no]
                writer.writerow([h.kk, m.nik, m.name, m.birth_date.isoformat(), m.sex, m.relation, m.disability,
                                 h.address, h.rt, h.rw, h.kelurahan_code, h.desil, "Ya" if h.extreme_poor else "Tidak"])
                members += 1
    return households, members


async def run(path: Path, reimport: bool) -> None:
    from piccolo.engine import engine_finder

    from storage.migrate import migrate
    from storage.registry_import import import_dtks
    from storage.tables import Household, Member

    await migrate()
    engine = engine_finder()
    print(f"engine: {engine.engine_type if engine else '?'}; households before: {await Household.count()}")

    async def progress(percent: int, message: str) -> None:
        print(f"  [{percent:3d}%] {message} ({time.perf_counter() - started:.1f} s)", flush=True)

    for label in ("first import", "re-import") if reimport else ("first import",):
        started = time.perf_counter()
        report = await import_dtks(path, "bench", progress)
        seconds = time.perf_counter() - started
        print(f"{label}: {seconds:.1f} s; {report.summary()}")
    print(f"households: {await Household.count()}, members: {await Member.count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="city")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--file", type=Path, default=None, help="use (or write, if absent) this export file")
    parser.add_argument("--reimport", action="store_true")
    args = parser.parse_args()
    path = args.file or Path(f"var/dtks-{args.scale}-{args.seed}.csv")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        households, members = write_export(path, args.scale, args.seed)
        print(f"wrote {path}: {households} households, {members} members in {time.perf_counter() - started:.1f} s")
    import storage  # noqa: F401  (PICCOLO_CONF from the environment)

    asyncio.run(run(path, args.reimport))


if __name__ == "__main__":
    main()
