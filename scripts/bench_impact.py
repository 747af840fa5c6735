"""Impact at city scale on PostgreSQL: the seeded history's time, the snapshots' time, and p50/p95 of
the impact pages at 20 simultaneous users (wrk, one session per connection).

    flock /tmp/jitu-bench.lock .venv/bin/python scripts/bench_impact.py --template jitu_city_tpl

makes its own copy of the city template (``jitu_city_impact_<pid>``), migrates it, writes the six months
of history (``storage/impact/history.py``) with the template's secret key, refreshes the snapshots,
starts ``jitu serve`` on a free loopback port and drives each page for ``--duration`` seconds, then drops
the copy (``--keep`` keeps it). ``--database-url`` benchmarks a copy you prepared (history written only
when it has none).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_web import JITU, TEMPLATE_SECRET, Page, check, drive, load, login, server

PG = "postgresql://postgres@127.0.0.1:5432"


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)  # noqa: S603, S607


async def prepare(period: str) -> dict[str, float]:
    from portal.commands.seed import _give_seeded_gifts, ensure_demo_accounts
    from storage.impact.history import seed_history
    from storage.impact.snapshot import BUILDERS, refresh
    from storage.tables import Account, MatchingRound

    figures: dict[str, float] = {}
    if not await MatchingRound.exists().where(MatchingRound.message.like("Ronde historis%")):
        started = time.perf_counter()
        counts = await seed_history(1, period)
        figures["history_s"] = time.perf_counter() - started
        print(f"history: {figures['history_s']:.1f} s, rows {counts}  (load {load()})", flush=True)
    await ensure_demo_accounts()
    donor = await Account.select(Account.id).where(Account.username == "donatur").first()
    if donor:
        await _give_seeded_gifts(int(donor["id"]))
    for key in BUILDERS:
        started = time.perf_counter()
        await refresh(key)
        figures[f"snapshot_{key}_s"] = time.perf_counter() - started
        print(f"snapshot {key}: {figures[f'snapshot_{key}_s']:.2f} s  (load {load()})", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--template")
    where.add_argument("--database-url")
    parser.add_argument("--period", default="2026-12", help="the month after the six seeded ones")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    name = None
    if args.template:
        name = f"jitu_city_impact_{os.getpid()}"
        psql(f"CREATE DATABASE {name} TEMPLATE {args.template}")
        url = f"{PG}/{name}"
    else:
        url = args.database_url
    var = tempfile.mkdtemp(prefix="jitu-bench-impact-")
    env = {**os.environ, "DATABASE_URL": url, "JITU_VAR_DIR": var, "SECRET_KEY": TEMPLATE_SECRET,
           "JITU_MFA_REQUIRED_ROLES": ""}  # log-in by password: the pages are measured, not the second factor
    try:
        subprocess.run([JITU, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        os.environ.update(env)
        import storage  # noqa: F401  (engine from the environment just set)

        figures = asyncio.run(prepare(args.period))
        from storage.tables import Lks

        async def first_lks() -> int:
            row = await Lks.select(Lks.id).where(Lks.status == "verified").order_by(Lks.id).first()
            return int(row["id"]) if row else 1

        lks_id = asyncio.run(first_lks())
        pages = [Page("public", "dampak", "/dampak"), Page("public", "dampak CSV", "/dampak/data.csv?tabel=kecamatan"),
                 Page("public", "LKS (rekam jejak)", f"/lks/{lks_id}"),
                 Page("dinsos_admin", "pusat komando", "/pusat-komando"),
                 Page("dinsos_admin", "pusat komando kecamatan", "/pusat-komando/kecamatan/32.73.03"),
                 Page("donor", "dampak donasi saya", "/donasi-saya/dampak")]
        users = {"dinsos_admin": "dinsos", "donor": "donatur"}
        with server(env, args.workers) as base:
            sessions = {role: [login(base, user, "jitu-demo-2026") for _ in range(args.concurrency)]
                        for role, user in users.items()}
            sessions["public"] = [("lang=id", "") for _ in range(args.concurrency)]
            print(f"{'page':<28} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} errors  load")
            for p in pages:
                paths = [(cookie, p.path) for cookie, _ in sessions[p.role][:args.concurrency]]
                status = check(base, *paths[0])
                if status != 200:
                    raise SystemExit(f"{p.role} {p.path} answered {status}, not 200")
                r = drive(base, p, paths, args.duration)
                print(f"{p.label:<28} {r['rps']:7.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
                      f"{int(r['errors']):6d}  {load()}", flush=True)
        print(figures)
    finally:
        if name and not args.keep:
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
