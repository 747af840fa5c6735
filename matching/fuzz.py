"""Fuzzing the model: instances of varied shapes, unlike the benchmark's, every result through the checker.

    python -m matching.fuzz [--scale tiny|mid|city] [--shape NAME|all] [--seeds N] [--time-limit S]

The generator is independent of :mod:`matching.bench` (own random streams, own shapes) so that the
solver is not tuned to one kind of instance. A *shape* sets how offers cover the city (kecamatan,
kelurahan or both levels in one list), how many serve PPKS lists, how many have ``max_per_need``,
the household cap (absent, loose, binding or 0), how much government aid covers needs (partly or
fully), the spread of offer sizes (tiny offers below one need, huge ones above a kind's whole demand)
and how many needs a household has (several of one kind too). Each run is checked twice: the
independent checker must find nothing in the returned result, and the guard in :func:`matching.solve`
must have had nothing to repair (a repair would hide a solver bug).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from matching.instance import KINDS

# 30 kecamatan of Kota Bandung with 1-13 kelurahan each (codes only: the shapes need structure, not names).
KECAMATAN = [f"32.73.{k:02d}" for k in range(1, 31)]


@dataclass(frozen=True)
class Shape:
    name: str
    offers_per_1000_households: float
    needs_per_household: tuple[int, int]  # range; a household may have several needs of one kind
    same_kind_repeats: float  # chance that an extra need repeats a kind the household already has
    area_mix: tuple[float, float, float, float]  # city-wide, kecamatan, kelurahan, both levels mixed
    ppks_list_share: float
    max_per_need_share: float
    household_cap: int | None
    aid_share: float  # households with government aid
    full_cover_share: float  # of aided needs, share covered fully
    tiny_offer_share: float  # offers smaller than one typical need
    huge_offer_share: float  # offers larger than their kind's demand
    supply: float  # total capacity / total demand (normal offers)
    priority: tuple[int, int]


SHAPES = {
    "mixed-levels": Shape("mixed-levels", 2.7, (1, 3), 0.1, (0.2, 0.3, 0.25, 0.25), 0.5, 0.6, 5_000_000,
                          0.35, 0.3, 0.05, 0.02, 0.3, (10, 120)),
    "kelurahan-many": Shape("kelurahan-many", 9.0, (1, 2), 0.0, (0.0, 0.0, 1.0, 0.0), 0.7, 0.2, None,
                            0.2, 0.5, 0.1, 0.0, 0.4, (1, 200)),
    "tight-cap": Shape("tight-cap", 1.8, (1, 8), 0.4, (0.5, 0.4, 0.0, 0.1), 0.3, 0.3, 1_500_000,
                       0.5, 0.2, 0.0, 0.05, 0.5, (20, 60)),
    "tiny-huge-ties": Shape("tiny-huge-ties", 3.0, (1, 4), 0.2, (0.3, 0.3, 0.2, 0.2), 0.4, 0.5, 3_000_000,
                            0.3, 0.4, 0.6, 0.1, 0.15, (1, 5)),
}  # fmt: skip

SCALES = {"tiny": 40, "small": 1_500, "mid": 12_000, "city": 330_000}  # households

# kind: (min, max) amount in rupiah
AMOUNTS = {
    "pangan": (100_000, 800_000), "kesehatan": (150_000, 8_000_000), "pendidikan": (300_000, 4_000_000),
    "perumahan": (4_000_000, 30_000_000), "tunai": (100_000, 1_500_000), "alat_bantu": (200_000, 5_000_000),
    "rehabilitasi": (300_000, 6_000_000), "pemberdayaan": (500_000, 7_000_000),
}  # fmt: skip


def _kelurahan(rng: random.Random) -> dict[str, list[str]]:
    return {kec: [f"{kec}.{1000 + i + 1}" for i in range(rng.randint(1, 13))] for kec in KECAMATAN}


def generate(shape: Shape, households: int, seed: int) -> dict[str, Any]:
    """A deterministic instance (contract matching-v1) of ``shape`` with ``households`` households."""
    rng = random.Random(f"fuzz/{shape.name}/{households}/{seed}")
    kel_of = _kelurahan(rng)
    kels = [k for ks in kel_of.values() for k in ks]
    kel_weight = [rng.paretovariate(1.5) for _ in kels]
    kinds = list(KINDS)
    kind_weight = [rng.uniform(0.2, 3.0) for _ in kinds]
    needs: list[dict[str, Any]] = []
    aid: list[dict[str, Any]] = []
    demand = dict.fromkeys(kinds, 0)
    lo_n, hi_n = shape.needs_per_household
    homes = rng.choices(kels, weights=kel_weight, k=households)
    for h in range(households):
        hh = f"H{h}"
        ppks = rng.randint(1, 26) if rng.random() < 0.5 else 24
        count = min(hi_n, lo_n + int(rng.expovariate(1.0)))
        mine: list[str] = []
        for _ in range(count):
            if mine and rng.random() < shape.same_kind_repeats:
                kind = rng.choice(mine)
            else:
                kind = rng.choices(kinds, weights=kind_weight)[0]
            mine.append(kind)
            lo, hi = AMOUNTS[kind]
            amount = int(rng.triangular(lo, hi, lo)) // 1000 * 1000
            needs.append({"id": f"need{len(needs)}", "household": hh, "kelurahan": homes[h], "ppks": ppks,
                          "kind": kind, "amount": amount, "priority": rng.randint(*shape.priority)})  # fmt: skip
            demand[kind] += amount
        if rng.random() < shape.aid_share:
            kind = rng.choice(mine)
            own = [n["amount"] for n in needs[-count:] if n["kind"] == kind]
            full = rng.random() < shape.full_cover_share
            amount = max(own) + 1000 if full else rng.randint(1, max(1, max(own) // 1000)) * 1000 // 2
            for program in ("BPNT", "PKH")[: rng.randint(1, 2)]:
                aid.append({"household": hh, "kind": kind, "program": program, "amount": amount // 2 + 500})

    n_offers = max(8, round(households * shape.offers_per_1000_households / 1000))
    offers: list[dict[str, Any]] = []
    shares = [rng.lognormvariate(0, 1.0) for _ in range(n_offers)]
    offer_kinds = rng.choices(kinds, weights=kind_weight, k=n_offers)
    share_total = dict.fromkeys(kinds, 0.0)
    for k, s in zip(offer_kinds, shares, strict=True):
        share_total[k] += s
    for j, kind in enumerate(offer_kinds):
        lo, hi = AMOUNTS[kind]
        roll = rng.random()
        if roll < shape.tiny_offer_share:
            capacity = rng.randint(0, lo * 2)
        elif roll < shape.tiny_offer_share + shape.huge_offer_share:
            capacity = demand[kind] * rng.randint(1, 3) + rng.randint(0, 10**6)
        else:
            capacity = int(demand[kind] * shape.supply * shares[j] / max(share_total[kind], 1e-9))
        mode = rng.choices(range(4), weights=shape.area_mix)[0]
        kecs = rng.sample(KECAMATAN, rng.randint(1, 4))
        if mode == 0:
            areas: list[str] = []
        elif mode == 1:
            areas = sorted(kecs)
        elif mode == 2:
            areas = sorted({rng.choice(kel_of[k]) for k in kecs for _ in range(rng.randint(1, 3))})
        else:  # both levels, overlapping on purpose: a kecamatan and some of its own kelurahan
            areas = sorted(set(kecs[:-1]) | {rng.choice(kel_of[k]) for k in kecs})
        o: dict[str, Any] = {"id": f"offer{j}", "lks": f"L{j % max(1, n_offers // 3)}", "kind": kind,
                             "capacity": capacity, "areas": areas,
                             "ppks": sorted(rng.sample(range(1, 27), rng.randint(1, 6)))
                             if rng.random() < shape.ppks_list_share else []}  # fmt: skip
        if rng.random() < shape.max_per_need_share:
            o["max_per_need"] = rng.randint(lo, hi) // 1000 * 1000
        offers.append(o)
    data: dict[str, Any] = {"version": 1, "period": "2026-12", "needs": needs, "offers": offers,
                            "government_aid": aid}  # fmt: skip
    if shape.household_cap is not None:
        data["household_cap"] = shape.household_cap
    return data


def run_one(shape: str, scale: str, seed: int, time_limit: float, workers: int) -> dict[str, Any]:
    """Generate, solve and check one instance in this process; returns its figures."""
    from matching.checker import check
    from matching.instance import parse_instance
    from matching.model import SolverSettings, solve

    data = generate(SHAPES[shape], SCALES[scale], seed)
    instance = parse_instance(data)
    del data
    t = time.perf_counter()
    result = solve(instance, SolverSettings(time_limit=time_limit, workers=workers, seed=seed))
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    violations = check(instance, result)
    s = result.stats
    return {
        "shape": shape, "scale": scale, "seed": seed, "needs": len(instance.needs), "offers": len(instance.offers),
        "pairs": result.info.get("pairs", 0), "solve_s": round(seconds, 2), "peak_rss_mb": round(rss / 1024),
        "objective": s.objective, "bound": s.bound, "gap": s.gap, "status": s.status,
        "violations": len(violations), "repaired": result.info.get("guard", {}).get("violations", 0),
        "info": {k: v for k, v in result.info.items() if k != "guard"},
    }  # fmt: skip


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| shape | scale | seed | needs | offers | pairs | objective | bound | gap | solve s | peak RSS MB "
             "| checker | status |", "|" + "---|" * 13]  # fmt: skip
    for r in rows:
        ok = "ok" if not r["violations"] and not r["repaired"] else f"{r['violations']}+{r['repaired']} FAIL"
        lines.append(
            f"| {r['shape']} | {r['scale']} | {r['seed']} | {r['needs']:,} | {r['offers']:,} | {r['pairs']:,} "
            f"| {r['objective']:,} | {r['bound']:,} | {r['gap']:.4%} | {r['solve_s']:.2f} | {r['peak_rss_mb']:,} "
            f"| {ok} | {r['status']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching.fuzz", description=__doc__)
    parser.add_argument("--scale", choices=list(SCALES), default="mid")
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per shape")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_one(args.shape, args.scale, args.child, args.time_limit, args.workers)))
        return 0
    rows = []
    for shape in SHAPES if args.shape == "all" else [args.shape]:
        for seed in range(args.seeds):
            cmd = [sys.executable, "-m", "matching.fuzz", "--child", str(seed), "--shape", shape,
                   "--scale", args.scale, "--time-limit", str(args.time_limit), "--workers", str(args.workers)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(format_table(rows))
    return 1 if any(r["violations"] or r["repaired"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
