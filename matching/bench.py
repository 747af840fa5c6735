"""Benchmark: deterministic Kota Bandung-like instances at three scales, solved and compared.

    python -m matching.bench [--scale small|mid|city|all] [--seed N] [--time-limit S] [--workers W]

Each scale runs in its own subprocess so that its peak memory (``ru_maxrss``, which covers generating,
parsing and solving) is not polluted by another scale. Printed per scale: eligible pairs, solve wall
time, peak RSS, objective, bound, proven gap and the greedy baseline (highest priority first, to the
eligible offer with most room) as a ratio to the bound.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WILAYAH_CSV = Path(__file__).parent.parent / "marketplace" / "data" / "bandung_wilayah.csv"


@dataclass(frozen=True)
class Scale:
    name: str
    households: int
    offers: int
    lks: int


SCALES = {
    "small": Scale("small", 1_000, 60, 20),
    "mid": Scale("mid", 10_000, 200, 70),
    "city": Scale("city", 330_573, 900, 300),
}

# kind: (share of needs, min amount, max amount, supply as a share of demand)
KIND_PROFILE: dict[str, tuple[float, int, int, float]] = {
    "pangan": (0.30, 150_000, 600_000, 0.35),
    "kesehatan": (0.18, 200_000, 5_000_000, 0.25),
    "pendidikan": (0.20, 500_000, 3_000_000, 0.30),
    "perumahan": (0.04, 5_000_000, 20_000_000, 0.15),
    "tunai": (0.12, 200_000, 1_000_000, 0.30),
    "alat_bantu": (0.05, 300_000, 3_000_000, 0.30),
    "rehabilitasi": (0.05, 500_000, 5_000_000, 0.25),
    "pemberdayaan": (0.06, 1_000_000, 5_000_000, 0.20),
}
# programme: (kind, min amount, max amount)
PROGRAMS = {
    "BPNT": ("pangan", 200_000, 200_000),
    "PKH": ("tunai", 300_000, 750_000),
    "PIP": ("pendidikan", 450_000, 1_000_000),
    "PBI-JK": ("kesehatan", 100_000, 1_500_000),
    "RUTILAHU": ("perumahan", 15_000_000, 20_000_000),
}
# PPKS types: fakir miskin (24) dominates, then lansia, disabilitas, anak, ...
PPKS_WEIGHTS = {24: 40, 1: 4, 2: 3, 3: 3, 5: 3, 8: 4, 9: 6, 10: 5, 12: 2, 15: 3, 18: 4, 20: 3, 21: 2, 26: 2}
HOUSEHOLD_CAP = 15_000_000


def load_wilayah(path: Path = WILAYAH_CSV) -> list[str]:
    """Kelurahan codes of Kota Bandung from the region file (columns kode,nama,tingkat)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["kode"] for row in csv.DictReader(fh) if row["tingkat"] == "kelurahan"]


def _round_k(x: float) -> int:
    return round(x / 1000.0) * 1000


def generate(scale: Scale, seed: int = 0, kelurahan: list[str] | None = None) -> dict[str, Any]:
    """A deterministic instance dict (contract matching-v1) for ``scale``."""
    rng = random.Random(f"{scale.name}-{seed}")
    kels = kelurahan if kelurahan is not None else load_wilayah()
    kecs = sorted({k.rsplit(".", 1)[0] for k in kels})
    kel_weights = [rng.uniform(0.3, 3.0) for _ in kels]
    kinds = list(KIND_PROFILE)
    kind_weights = [KIND_PROFILE[k][0] for k in kinds]
    ppks_types = list(PPKS_WEIGHTS)
    ppks_weights = list(PPKS_WEIGHTS.values())

    needs: list[dict[str, Any]] = []
    aid: list[dict[str, Any]] = []
    demand = dict.fromkeys(kinds, 0)
    hh_kel = rng.choices(kels, weights=kel_weights, k=scale.households)
    for h in range(scale.households):
        hh = f"KK-{h + 1}"
        kel = hh_kel[h]
        ppks = rng.choices(ppks_types, weights=ppks_weights)[0]
        decile = rng.choices([1, 2, 3, 4], weights=[35, 30, 20, 15])[0]
        extreme = decile == 1 and rng.random() < 0.4
        count = 1 + rng.choices([0, 1, 2, 3], weights=[62, 29, 8, 1])[0]
        chosen: set[str] = set()
        while len(chosen) < count:
            chosen.add(rng.choices(kinds, weights=kind_weights)[0])
        for kind in sorted(chosen):
            _, lo, hi, _ = KIND_PROFILE[kind]
            amount = _round_k(rng.triangular(lo, hi, lo + (hi - lo) * 0.25))
            severity = rng.randint(0, 20)
            waiting = rng.randint(0, 12)
            priority = (5 - decile) * 15 + (20 if extreme else 0) + severity + waiting
            needs.append(
                {
                    "id": f"N-{len(needs) + 1}",
                    "household": hh,
                    "kelurahan": kel,
                    "ppks": ppks,
                    "kind": kind,
                    "amount": amount,
                    "priority": priority,
                }
            )
            demand[kind] += amount
        if rng.random() < 0.30:
            for program in sorted(rng.sample(sorted(PROGRAMS), k=rng.choice([1, 1, 2]))):
                kind, lo, hi = PROGRAMS[program]
                aid.append({"household": hh, "kind": kind, "program": program, "amount": _round_k(rng.uniform(lo, hi))})

    # Offers: kinds in proportion to demand, capacity a fraction of that kind's demand.
    offer_kinds = rng.choices(kinds, weights=kind_weights, k=scale.offers)
    shares = [rng.lognormvariate(0, 0.7) for _ in range(scale.offers)]
    kind_share_total = dict.fromkeys(kinds, 0.0)
    for k, s in zip(offer_kinds, shares, strict=True):
        kind_share_total[k] += s
    offers: list[dict[str, Any]] = []
    for j, kind in enumerate(offer_kinds):
        _, lo, hi, supply = KIND_PROFILE[kind]
        capacity = _round_k(demand[kind] * supply * shares[j] / max(kind_share_total[kind], 1e-9))
        roll = rng.random()
        if roll < 0.30:
            areas: list[str] = []
        elif roll < 0.70:
            areas = sorted(rng.sample(kecs, k=rng.randint(1, 3)))
        else:
            areas = sorted(rng.sample(kels, k=rng.randint(2, 8)))
        ppks_list = [] if rng.random() < 0.5 else sorted(rng.sample(ppks_types, k=rng.randint(1, 5)))
        offer: dict[str, Any] = {
            "id": f"O-{j + 1}",
            "lks": f"LKS-{j % scale.lks + 1}",
            "kind": kind,
            "capacity": capacity,
            "areas": areas,
            "ppks": ppks_list,
        }
        if rng.random() < 0.3:
            offer["max_per_need"] = _round_k(rng.uniform(lo + (hi - lo) * 0.2, hi))
        offers.append(offer)
    return {
        "version": 1,
        "period": "2026-11",
        "household_cap": HOUSEHOLD_CAP,
        "needs": needs,
        "offers": offers,
        "government_aid": aid,
    }


def run_scale(name: str, seed: int, time_limit: float, workers: int) -> dict[str, Any]:
    """Generate, parse and solve one scale in this process; returns the figures."""
    from matching.data import prepare
    from matching.heuristic import baseline, objective
    from matching.instance import parse_instance
    from matching.model import SolverSettings, solve

    t0 = time.perf_counter()
    data = generate(SCALES[name], seed)
    t1 = time.perf_counter()
    instance = parse_instance(data)
    del data
    t2 = time.perf_counter()
    result = solve(instance, SolverSettings(time_limit=time_limit, workers=workers, seed=seed))
    t3 = time.perf_counter()
    rss_solve = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prep = prepare(instance)
    greedy_obj = objective(prep, baseline(prep))
    s = result.stats
    return {
        "scale": name,
        "households": SCALES[name].households,
        "needs": len(instance.needs),
        "offers": len(instance.offers),
        "pairs": prep.pairs,
        "generate_s": round(t1 - t0, 2),
        "parse_s": round(t2 - t1, 2),
        "solve_s": round(t3 - t2, 2),
        "peak_rss_mb": round(rss_solve / 1024),
        "objective": s.objective,
        "bound": s.bound,
        "gap": s.gap,
        "status": s.status,
        "greedy": greedy_obj,
        "greedy_ratio": greedy_obj / s.bound if s.bound else 1.0,
        "info": dict(result.info),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| scale | households | needs | offers | pairs | solve s | peak RSS MB | objective | bound "
        "| gap | obj/bound | greedy/bound | status |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        ratio = r["objective"] / r["bound"] if r["bound"] else 1.0
        lines.append(
            f"| {r['scale']} | {r['households']:,} | {r['needs']:,} | {r['offers']:,} | {r['pairs']:,} "
            f"| {r['solve_s']:.2f} | {r['peak_rss_mb']:,} | {r['objective']:,} | {r['bound']:,} "
            f"| {r['gap']:.4%} | {ratio:.4%} | {r['greedy_ratio']:.4%} | {r['status']} |"
        )
    return "\n".join(lines)


def run(scales: list[str], seed: int, time_limit: float, workers: int) -> list[dict[str, Any]]:
    rows = []
    for name in scales:
        cmd = [
            sys.executable, "-m", "matching.bench", "--child", "--scale", name,
            "--seed", str(seed), "--time-limit", str(time_limit), "--workers", str(workers),
        ]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.bench", description=__doc__)
    parser.add_argument("--scale", choices=[*SCALES, "all"], default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_scale(args.scale, args.seed, args.time_limit, args.workers)))
        return 0
    scales = list(SCALES) if args.scale == "all" else [args.scale]
    print(format_table(run(scales, args.seed, args.time_limit, args.workers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
