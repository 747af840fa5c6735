"""Fuzzed instances of every shape (matching.fuzz, not the bench generator), small enough for CI.

Mid and city scale are benchmarks: ``python -m matching.fuzz --scale city`` (docs/benchmarks.md).
"""

from __future__ import annotations

import pytest

from matching import SolverSettings, parse_instance, solve
from matching.checker import check
from matching.fuzz import SCALES, SHAPES, generate

PATHS = {
    "exact": SolverSettings(time_limit=0.3),
    "lns": SolverSettings(time_limit=0.3, exact_pairs_limit=0, neighbourhood_size=100),
    "rounding": SolverSettings(time_limit=0.3, exact_pairs_limit=0, lns_pairs_limit=0),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_fuzzed_instances_pass_the_checker_without_repair(shape: str) -> None:
    for seed in range(3):
        instance = parse_instance(generate(SHAPES[shape], SCALES["tiny"], seed))
        for path, settings in PATHS.items():
            result = solve(instance, settings)
            assert check(instance, result) == [], (shape, seed, path)
            assert result.info["guard"] == {"violations": 0}, (shape, seed, path, result.info["guard"])
            assert result.stats.bound >= result.stats.objective


def test_fuzz_shapes_really_vary() -> None:
    """The generator produces what the shapes promise: both area levels, PPKS lists, caps, covered needs."""
    data = generate(SHAPES["mixed-levels"], SCALES["mid"], 0)
    areas = [a for o in data["offers"] for a in o["areas"]]
    assert any(a.count(".") == 2 for a in areas) and any(a.count(".") == 3 for a in areas)
    assert any(o["ppks"] for o in data["offers"]) and any("max_per_need" in o for o in data["offers"])
    assert data["household_cap"] == 5_000_000 and data["government_aid"]
    tight = generate(SHAPES["tight-cap"], SCALES["mid"], 0)
    per_household: dict[str, int] = {}
    for n in tight["needs"]:
        per_household[n["household"]] = per_household.get(n["household"], 0) + 1
    assert max(per_household.values()) >= 5
    tiny_huge = generate(SHAPES["tiny-huge-ties"], SCALES["mid"], 0)
    demand = sum(n["amount"] for n in tiny_huge["needs"])
    caps = [o["capacity"] for o in tiny_huge["offers"]]
    assert min(caps) < 200_000 and max(caps) > demand / 8
    assert "household_cap" not in generate(SHAPES["kelurahan-many"], SCALES["tiny"], 0)
