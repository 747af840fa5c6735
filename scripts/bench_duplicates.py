"""Precision, recall and look-up latency of the duplicate finder (storage/duplicates) on seeded variants.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/jitu_city_COPY JITU_VAR_DIR=... SECRET_KEY=... \
        .venv/bin/python scripts/bench_duplicates.py [--sample 500] [--seed 1]

Reads the registered population of the configured database (a copy of the city template for the
headline figures; it changes nothing) and prints a table per threshold and the latency of a look-up
(the blocked query on birth date and kecamatan, plus scoring). See storage/duplicates/measure.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os


async def main(n: int, seed: int, muhammads: int) -> None:
    from piccolo.engine import engine_finder

    from marketplace.duplicates import THRESHOLD
    from storage.duplicates.measure import KINDS, measure, population

    engine = engine_finder()
    pooled = engine is not None and engine.engine_type == "postgres"
    if pooled:  # as the portal runs (portal/app.py): a connection pool, not a connection per query
        await engine.start_connection_pool(min_size=1, max_size=2)  # type: ignore[union-attr,call-arg]
    try:
        households, members = await population()
        res = await measure(n, seed, (80.0, THRESHOLD, 90.0), extra_muhammads=muhammads)
    finally:
        if pooled:
            await engine.close_connection_pool()  # type: ignore[union-attr]
    load = os.getloadavg()
    print(f"population: {households:,} households, {members:,} members; sample {n} people + {muhammads} named "
          f"Muhammad, seed {seed}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| threshold | precision | recall | " + " | ".join(KINDS) + " | false alarms (negatives) |")
    print("|---" * (len(KINDS) + 4) + "|")
    for t in res.thresholds:
        kinds = " | ".join(f"{res.by_kind[t][k].recall:.3f} ({res.by_kind[t][k].queries})" for k in KINDS)
        marker = " (default)" if t == THRESHOLD else ""
        print(f"| {t:.0f}{marker} | {res.precision(t):.3f} | {res.recall(t):.3f} | {kinds} | "
              f"{res.false_alarms[t]}/{res.negatives} |")
    lat = res.latency()
    sizes = sorted(res.blocked_sizes)
    print(f"look-up latency over {len(res.latencies_ms)} look-ups: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, "
          f"max {lat['max']:.1f} ms, mean {lat['mean']:.1f} ms; blocked rows per look-up: median "
          f"{sizes[len(sizes) // 2]}, max {sizes[-1]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--muhammads", type=int, default=200, help="extra sampled people named Muhammad")
    args = parser.parse_args()
    import storage  # noqa: F401  (PICCOLO_CONF sees DATABASE_URL)

    asyncio.run(main(args.sample, args.seed, args.muhammads))
