"""Precision and recall of the duplicate finder on seeded variants of registered people, and its
look-up latency (``scripts/bench_duplicates.py`` prints them; docs/duplicates.md keeps the figures).

For a random sample of registered members, each is looked up again as an operator might type them:
exactly; with one typo; with another spelling of Muhammad (only names that have one); without a middle
name (or, for two-word names, with one added); with day and month swapped (only dates where that is a
different date); from a neighbouring kelurahan of the same kecamatan; and typo plus swapped date. A hit is
the member itself among the candidates; every other candidate is a false positive (the synthetic
population has no real duplicates). Negative probes (another sampled person's name with this person's
birth date and kelurahan) count towards precision and give the false-alarm rate.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marketplace.duplicates import neighbours
from storage.duplicates import blocked_rows, rank
from storage.tables import Household, Member

MUHAMMAD = ("Muhammad", "Muhamad", "Moh.", "Mochamad", "Mohammad", "M.")
MIDDLE = ("Nur", "Sri", "Dewi", "Ahmad", "Rahmat")
KINDS = ("exact", "typo", "muhammad", "middle_name", "swapped_date", "neighbour", "typo_swapped")


def typo(name: str, rnd: random.Random) -> str:
    """One substitution, deletion or transposition inside a word, never its first letter."""
    words = name.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 4]
    if not candidates:
        return name + "h"
    i = rnd.choice(candidates)
    w = words[i]
    pos = rnd.randrange(1, len(w) - 1)
    how = rnd.choice(("sub", "del", "swap"))
    if how == "sub":
        w = w[:pos] + rnd.choice("aiueonrst".replace(w[pos].lower(), "")) + w[pos + 1:]
    elif how == "del":
        w = w[:pos] + w[pos + 1:]
    else:
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2:]
    words[i] = w
    return " ".join(words)


def muhammad_variant(name: str, rnd: random.Random) -> str | None:
    words = name.split()
    for i, w in enumerate(words):
        if w.lower().rstrip(".") in ("muhammad", "muhamad", "moh", "mochamad", "mohammad", "m"):
            words[i] = rnd.choice([v for v in MUHAMMAD if v.lower() != w.lower()])
            return " ".join(words)
    return None


def middle_variant(name: str, rnd: random.Random) -> str | None:
    """Three words or more: the middle one dropped; two words: a middle name the register lacks added
    between them; one word (common for older Sundanese women): no middle name to miss, so no probe."""
    words = name.split()
    if len(words) >= 3:
        return " ".join(words[:1] + words[2:])
    if len(words) == 2:
        return " ".join([words[0], rnd.choice(MIDDLE), words[1]])
    return None


def swapped(day: date) -> date | None:
    return date(day.year, day.day, day.month) if day.day <= 12 and day.day != day.month else None


@dataclass
class Tally:
    queries: int = 0
    hits: int = 0

    @property
    def recall(self) -> float:
        return self.hits / self.queries if self.queries else 0.0


@dataclass
class Result:
    thresholds: tuple[float, ...]
    by_kind: dict[float, dict[str, Tally]] = field(default_factory=dict)
    true_pos: dict[float, int] = field(default_factory=dict)
    false_pos: dict[float, int] = field(default_factory=dict)
    false_alarms: dict[float, int] = field(default_factory=dict)
    negatives: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    blocked_sizes: list[int] = field(default_factory=list)

    def precision(self, t: float) -> float:
        found = self.true_pos[t] + self.false_pos[t]
        return self.true_pos[t] / found if found else 1.0

    def recall(self, t: float) -> float:
        tallies = self.by_kind[t].values()
        q = sum(x.queries for x in tallies)
        return sum(x.hits for x in tallies) / q if q else 0.0

    def latency(self) -> dict[str, float]:
        xs = sorted(self.latencies_ms)
        return {"p50": statistics.median(xs), "p95": xs[int(0.95 * (len(xs) - 1))], "max": xs[-1],
                "mean": statistics.fmean(xs)}


async def sample(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random members (by random ids under the largest id, so no full-table sort)."""
    rnd = random.Random(seed)
    top = await Member.select(Member.id).order_by(Member.id, ascending=False).first()
    if top is None:
        return []
    picked: dict[int, dict[str, Any]] = {}
    while len(picked) < n:
        ids = [rnd.randint(1, int(top["id"])) for _ in range(2 * n)]
        rows = await Member.select(Member.id, Member.name, Member.birth_date,
                                   Member.household.kelurahan_code.as_alias("kelurahan_code")).where(
            Member.id.is_in(ids))
        for r in rows:
            if len(picked) < n:
                picked[r["id"]] = r
        if not rows and len(picked) == 0:
            break
    return list(picked.values())


async def muhammads(n: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``n`` random members whose name starts with Muhammad (the synthetic population has few, so
    the random sample alone would test the spelling variants on a handful)."""
    rows = await Member.select(Member.id, Member.name, Member.birth_date,
                               Member.household.kelurahan_code.as_alias("kelurahan_code")).where(
        Member.name.like("Muhammad %")).limit(20 * n)
    return random.Random(seed).sample(rows, min(n, len(rows)))


async def measure(n: int = 500, seed: int = 1, thresholds: tuple[float, ...] = (80.0, 85.0, 90.0),
                  extra_muhammads: int = 0) -> Result:
    rnd = random.Random(seed + 1)
    people = await sample(n, seed)
    seen = {p["id"] for p in people}
    people += [m for m in await muhammads(extra_muhammads, seed) if m["id"] not in seen] if extra_muhammads else []
    res = Result(thresholds)
    for t in thresholds:
        res.by_kind[t] = {k: Tally() for k in KINDS}
        res.true_pos[t] = res.false_pos[t] = res.false_alarms[t] = 0
    for i, p in enumerate(people):
        name, born, kel = p["name"], p["birth_date"], p["kelurahan_code"]
        near = [c for c in neighbours(kel) if c != kel]
        probes: list[tuple[str, str, date, str]] = [("exact", name, born, kel), ("typo", name and typo(name, rnd),
                                                                                born, kel)]
        variant = muhammad_variant(name, rnd)
        if variant:
            probes.append(("muhammad", variant, born, kel))
        middle = middle_variant(name, rnd)
        if middle:
            probes.append(("middle_name", middle, born, kel))
        other_day = swapped(born)
        if other_day:
            probes.append(("swapped_date", name, other_day, kel))
            probes.append(("typo_swapped", typo(name, rnd), other_day, kel))
        if near:
            probes.append(("neighbour", name, born, rnd.choice(near)))
        for kind, q_name, q_born, q_kel in probes:
            started = time.perf_counter()
            rows = await blocked_rows(q_born, q_kel)
            found = rank(q_name, q_born, q_kel, rows, min(thresholds))
            res.latencies_ms.append((time.perf_counter() - started) * 1000)
            res.blocked_sizes.append(len(rows))
            for t in thresholds:
                ids = {c.member_id for c in found if c.score >= t}
                tally = res.by_kind[t][kind]
                tally.queries += 1
                if p["id"] in ids:
                    tally.hits += 1
                    res.true_pos[t] += 1
                res.false_pos[t] += len(ids - {p["id"]})
        if len(people) > 1:
            stranger = people[(i + 1) % len(people)]
            found = rank(stranger["name"], born, kel, await blocked_rows(born, kel), min(thresholds))
            res.negatives += 1
            for t in thresholds:
                ids = {c.member_id for c in found if c.score >= t} - {stranger["id"]}
                res.false_pos[t] += len(ids)
                res.false_alarms[t] += bool(ids)
    return res


async def population() -> tuple[int, int]:
    return await Household.count(), await Member.count()
