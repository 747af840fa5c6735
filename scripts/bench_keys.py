"""Key rotation speed on PostgreSQL: rows re-encrypted (and re-hashed) and audit events re-chained per second.

    flock /tmp/jitu-bench.lock .venv/bin/python scripts/bench_keys.py --scale small --audit-events 20000

makes a fresh database (``jitu_bench_keys_<pid>``), migrates it, seeds it (``jitu seed --scale …
--without-history``), appends ``--audit-events`` events through the audit chain's own append path, then
runs ``jitu keys rotate`` (the job in-process, ``--batch`` rows per transaction) and ``jitu audit verify``,
prints rows/s per table and overall with the load average, and drops the database (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JITU = str(Path(sys.executable).with_name("jitu"))
PG = "postgresql://postgres@127.0.0.1:5432"
SECRET = "bench-keys-secret-key-0123456789abcdef"  # noqa: S105  (a throw-away database's key)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)  # noqa: S603, S607


async def append_events(n: int) -> None:
    from marketplace.audit import AuditEvent
    from storage.audit import record_many
    from storage.uow import unit_of_work

    for start in range(0, n, 2000):  # one multi-row insert each: under PostgreSQL's 32767 parameters
        async with unit_of_work():
            await record_many([AuditEvent("bench", "bench.event", "household", str(i), {"status": "a"},
                                          {"status": "b", "i": i}) for i in range(start, min(n, start + 2000))])


async def rotate(batch: int) -> dict:
    from storage import keys
    from storage.jobs import wait_for

    _, job_id = await keys.start_rotation("bench", batch)
    row = await wait_for(job_id, timeout=24 * 3600)
    if row["status"] != "done":
        raise SystemExit(f"rotation failed: {row['message']}")
    result = row["result"]
    return result if isinstance(result, dict) else json.loads(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["demo", "small", "city"])
    parser.add_argument("--audit-events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    name = f"jitu_bench_keys_{os.getpid()}"
    psql(f"CREATE DATABASE {name}")
    var = tempfile.mkdtemp(prefix="jitu-bench-keys-")
    env = {"DATABASE_URL": f"{PG}/{name}", "JITU_VAR_DIR": var, "SECRET_KEY": SECRET, "DB_POOL": "false"}
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    try:
        subprocess.run([JITU, "migrate"], check=True, env=os.environ, stdout=subprocess.DEVNULL)  # noqa: S603
        started = time.perf_counter()
        subprocess.run([JITU, "seed", "--scale", args.scale, "--without-history"], check=True,  # noqa: S603
                       env=os.environ)
        print(f"seed: {time.perf_counter() - started:.1f} s  (load {load()})", flush=True)
        sys.path.insert(0, str(ROOT))
        import storage  # noqa: F401  (PICCOLO_CONF)

        asyncio.run(append_events(args.audit_events))
        print(f"load before rotation: {load()}", flush=True)
        started = time.perf_counter()
        result = asyncio.run(rotate(args.batch))
        wall = time.perf_counter() - started
        print(f"load after rotation:  {load()}", flush=True)
        rows = dict(result["tables"])
        rows["audit_event"] = result["audit_events"]
        print("\n| table | rows | seconds | rows/s |\n|---|---:|---:|---:|")
        for table, n in rows.items():
            s = result["seconds"].get(table, 0.0)
            print(f"| {table} | {n:,} | {s:.1f} | {n / s:,.0f} |" if s and n else f"| {table} | {n:,} | {s:.1f} | - |")
        total = sum(rows.values())
        print(f"| **all (wall, batch {args.batch})** | {total:,} | {wall:.1f} | {total / wall:,.0f} |\n")
        started = time.perf_counter()
        subprocess.run([JITU, "audit", "verify"], check=True, env=os.environ)  # noqa: S603
        print(f"audit verify after rotation: {time.perf_counter() - started:.1f} s")
        subprocess.run([JITU, "keys", "status"], check=True, env=os.environ)  # noqa: S603
    finally:
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
