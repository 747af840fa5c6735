"""Measure ``jitu seed``: generation time, load time and rows per table, for a scale and an engine.

    .venv/bin/python scripts/bench_seed.py --scale city --engine postgres
    .venv/bin/python scripts/bench_seed.py --scale small --engine sqlite

Each run uses a fresh database (a temporary SQLite file, or a new PostgreSQL database on
``--pg`` that is dropped afterwards unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="city", choices=["demo", "small", "city"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="jitu-bench-"))
    os.environ["JITU_VAR_DIR"] = str(var_dir)
    os.environ["DB_POOL"] = "false"
    database = f"jitu_bench_{os.getpid()}"
    if args.engine == "postgres":
        asyncio.run(_admin(args.pg, f'CREATE DATABASE "{database}"'))
        os.environ["DATABASE_URL"] = args.pg.rsplit("/", 1)[0] + "/" + database
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        asyncio.run(_bench(args))
    finally:
        if args.engine == "postgres" and not args.keep:
            asyncio.run(_admin(args.pg, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        elif args.engine == "postgres":
            print(f"database kept: {os.environ['DATABASE_URL']}")


async def _bench(args: argparse.Namespace) -> None:
    import storage  # noqa: F401  (PICCOLO_CONF)
    from marketplace.synthetic import generate
    from storage.bulk import load_dataset
    from storage.migrate import migrate
    from storage.tables import GovernmentAid, Household, Lks, Member, Need, Offer

    await migrate()
    started = time.perf_counter()
    dataset = generate(args.scale, args.seed)
    rows = sum(len(c.households) + len(c.members) + len(c.needs) + len(c.aid) for c in dataset.chunks())
    generation = time.perf_counter() - started
    print(f"scale {args.scale}, seed {args.seed}, engine {args.engine}")
    print(f"generation (no database, one process): {generation:.1f} s for {rows:,} household-side rows")

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"  {done:,} / {total:,} households, {now - started:.0f} s", flush=True)

    started = time.perf_counter()
    report = await load_dataset(dataset, progress=progress, workers=args.workers)
    print(f"load (generate + encrypt + write, one transaction): {time.perf_counter() - started:.1f} s")
    for table in (Household, Member, Need, GovernmentAid, Lks, Offer):
        print(f"  {table._meta.tablename:<15} {await table.count():>10,}")
    assert report.counts["household"] == dataset.household_count


if __name__ == "__main__":
    main()
