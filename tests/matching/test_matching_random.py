"""Random instances: the independent checker, brute-force optima, bound validity, determinism."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import SolverSettings, parse_instance, solve, solve_json
from matching.bench import SCALES, generate
from tests.matching.checker import brute_force, check_result

KELS = ["32.73.03.1001", "32.73.03.1002", "32.73.04.1001", "32.73.10.1001"]
AREAS = [*KELS, "32.73.03", "32.73.04", "32.73.10"]
KINDS = ["pangan", "pendidikan"]
PPKS = [1, 9, 24]

EXACT = SolverSettings(time_limit=5.0, workers=1, seed=0)
FLOW_ONLY = SolverSettings(time_limit=5.0, exact_pairs_limit=0, lns_pairs_limit=0)
LNS = SolverSettings(time_limit=2.0, exact_pairs_limit=0, neighbourhood_size=200)


@st.composite
def tiny_instances(draw: st.DrawFn, max_needs: int = 6, max_offers: int = 3) -> dict[str, Any]:
    n_needs = draw(st.integers(0, max_needs))
    n_offers = draw(st.integers(1, max_offers))
    households = [f"KK-{k}" for k in range(draw(st.integers(1, 4)))]
    needs = [
        {
            "id": f"N-{i}",
            "household": draw(st.sampled_from(households)),
            "kelurahan": draw(st.sampled_from(KELS)),
            "ppks": draw(st.sampled_from(PPKS)),
            "kind": draw(st.sampled_from(KINDS)),
            "amount": draw(st.integers(0, 10)),
            "priority": draw(st.integers(1, 9)),
        }
        for i in range(n_needs)
    ]
    offers = []
    for j in range(n_offers):
        o: dict[str, Any] = {
            "id": f"O-{j}",
            "lks": f"LKS-{j % 2}",
            "kind": draw(st.sampled_from(KINDS)),
            "capacity": draw(st.integers(0, 20)),
            "areas": draw(st.lists(st.sampled_from(AREAS), max_size=2, unique=True)),
            "ppks": draw(st.lists(st.sampled_from(PPKS), max_size=2, unique=True)),
        }
        if draw(st.booleans()):
            o["max_per_need"] = draw(st.integers(0, 10))
        offers.append(o)
    aid = [
        {
            "household": draw(st.sampled_from(households)),
            "kind": draw(st.sampled_from(KINDS)),
            "program": draw(st.sampled_from(["BPNT", "PKH", "PIP"])),
            "amount": draw(st.integers(0, 6)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    data: dict[str, Any] = {"version": 1, "period": "2026-11", "needs": needs, "offers": offers, "government_aid": aid}
    cap = draw(st.none() | st.integers(0, 15))
    if cap is not None:
        data["household_cap"] = cap
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_exact_path_matches_brute_force(data: dict[str, Any]) -> None:
    result = solve_json(data, EXACT)
    objective = check_result(data, result)
    assert objective == brute_force(data)
    assert result["stats"]["status"] == "OPTIMAL"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_flow_bound_is_a_valid_upper_bound(data: dict[str, Any]) -> None:
    result = solve_json(data, FLOW_ONLY)
    objective = check_result(data, result)
    optimum = brute_force(data)
    assert objective <= optimum <= result["stats"]["bound"]


def _seeded_instance(seed: int, n_needs: int, n_offers: int) -> dict[str, Any]:
    rng = random.Random(seed)
    households = [f"KK-{k}" for k in range(max(1, n_needs * 2 // 3))]
    needs = [
        {
            "id": f"N-{i}",
            "household": rng.choice(households),
            "kelurahan": rng.choice(KELS),
            "ppks": rng.choice(PPKS),
            "kind": rng.choice(KINDS),
            "amount": rng.choice([0, rng.randint(1, 1_000_000)]) if rng.random() < 0.1 else rng.randint(1, 1_000_000),
            "priority": rng.randint(1, 100),
        }
        for i in range(n_needs)
    ]
    offers = []
    for j in range(n_offers):
        o: dict[str, Any] = {
            "id": f"O-{j}",
            "lks": f"LKS-{j}",
            "kind": rng.choice(KINDS),
            "capacity": rng.randint(0, 5_000_000),
            "areas": rng.sample(AREAS, rng.randint(0, 2)),
            "ppks": rng.sample(PPKS, rng.randint(0, 2)),
        }
        if rng.random() < 0.3:
            o["max_per_need"] = rng.randint(100_000, 1_000_000)
        offers.append(o)
    aid = [
        {"household": rng.choice(households), "kind": rng.choice(KINDS), "program": "PKH",
         "amount": rng.randint(0, 800_000)}
        for _ in range(n_needs // 4)
    ]  # fmt: skip
    return {
        "version": 1,
        "period": "2026-11",
        "household_cap": rng.choice([None, 1_500_000]),
        "needs": needs,
        "offers": offers,
        "government_aid": aid,
    }


def test_seeded_instances_on_every_path_are_feasible() -> None:
    for seed in range(12):
        data = _seeded_instance(seed, n_needs=80, n_offers=8)
        objectives = []
        for s in (EXACT, FLOW_ONLY, LNS):
            result = solve_json(data, s)
            objectives.append(check_result(data, result))
            assert result["stats"]["bound"] >= objectives[-1]
        # The exact model is at least as good as the heuristics (it starts from them).
        assert objectives[0] >= objectives[1]
        assert objectives[2] >= objectives[1]


def test_generated_small_bench_instance_is_feasible_and_close_to_bound() -> None:
    data = generate(SCALES["small"], seed=3)
    result = solve_json(data, SolverSettings(time_limit=1.0))
    check_result(data, result)
    assert result["stats"]["objective"] >= 0.95 * result["stats"]["bound"]


def _without_seconds(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "stats": {k: v for k, v in result["stats"].items() if k != "seconds"}}


def test_deterministic_for_fixed_settings() -> None:
    data = _seeded_instance(99, n_needs=300, n_offers=12)
    for s in (SolverSettings(time_limit=0.5, seed=7), LNS, SolverSettings(time_limit=0.5, workers=2, seed=1)):
        first = _without_seconds(solve_json(data, s))
        second = _without_seconds(solve_json(data, s))
        assert first == second


def test_same_instance_object_solved_twice_gives_equal_results() -> None:
    instance = parse_instance(_seeded_instance(5, n_needs=50, n_offers=5))
    a, b = solve(instance, EXACT), solve(instance, EXACT)
    assert a.allocations == b.allocations and a.unmatched == b.unmatched
    assert (a.stats.objective, a.stats.bound, a.stats.status) == (b.stats.objective, b.stats.bound, b.stats.status)
