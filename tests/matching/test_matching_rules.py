"""One small instance per contract rule, built so that breaking the rule would change the answer."""

from __future__ import annotations

from typing import Any

from matching import SolverSettings, solve_json
from tests.matching.builders import aid, instance, need, offer
from tests.matching.checker import brute_force, check_result

SETTINGS = SolverSettings(time_limit=5.0, workers=1, seed=0)


def run(data: dict[str, Any]) -> dict[str, Any]:
    result = solve_json(data, SETTINGS)
    check_result(data, result)
    return result


def allocated(result: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {a["need"]: (a["offer"], a["amount"]) for a in result["allocations"]}


def reasons(result: dict[str, Any]) -> dict[str, str]:
    return {u["need"]: u["reason"] for u in result["unmatched"]}


# ---- rule 1: no duplication --------------------------------------------------------------------------


def test_remainder_is_amount_minus_same_kind_aid_summed_over_programmes() -> None:
    # 300k - (100k + 50k) pangan aid = 150k, which fits the 160k offer; the tunai aid does not count.
    data = instance(
        [need("N-1", 300_000, household="KK-1")],
        [offer("O-1", 160_000)],
        [aid("KK-1", 100_000), aid("KK-1", 50_000, program="BPNT-2"), aid("KK-1", 500_000, kind="tunai")],
    )
    result = run(data)
    assert allocated(result) == {"N-1": ("O-1", 150_000)}


def test_aid_of_another_household_does_not_count() -> None:
    data = instance([need("N-1", 300_000, household="KK-1")], [offer("O-1", 200_000)], [aid("KK-2", 300_000)])
    result = run(data)
    assert allocated(result) == {}
    assert reasons(result) == {"N-1": "no_eligible_offer"}  # 300k can never fit a 200k offer


def test_need_covered_by_government_is_not_matched() -> None:
    data = instance(
        [need("N-1", 200_000, household="KK-1", priority=99), need("N-2", 100_000, priority=1)],
        [offer("O-1", 1_000_000)],
        [aid("KK-1", 250_000)],
    )
    result = run(data)
    assert allocated(result) == {"N-2": ("O-1", 100_000)}
    assert reasons(result) == {"N-1": "covered_by_government"}


def test_zero_amount_need_is_covered_by_government() -> None:
    result = run(instance([need("N-1", 0)], [offer("O-1", 10)]))
    assert reasons(result) == {"N-1": "covered_by_government"}


# ---- rule 2: eligibility -----------------------------------------------------------------------------


def test_kind_must_be_equal() -> None:
    data = instance([need("N-1", 100, kind="pangan")], [offer("O-1", 1_000, kind="pendidikan")])
    assert reasons(run(data)) == {"N-1": "no_eligible_offer"}


def test_kecamatan_area_covers_its_kelurahan() -> None:
    data = instance(
        [need("N-1", 100, kelurahan="32.73.03.1005"), need("N-2", 100, kelurahan="32.73.04.1005")],
        [offer("O-1", 1_000, areas=["32.73.03"])],
    )
    result = run(data)
    assert allocated(result) == {"N-1": ("O-1", 100)}
    assert reasons(result) == {"N-2": "no_eligible_offer"}


def test_kelurahan_area_covers_only_that_kelurahan() -> None:
    data = instance(
        [need("N-1", 100, kelurahan="32.73.04.1001"), need("N-2", 100, kelurahan="32.73.04.1002")],
        [offer("O-1", 1_000, areas=["32.73.04.1001"])],
    )
    result = run(data)
    assert allocated(result) == {"N-1": ("O-1", 100)}
    assert reasons(result) == {"N-2": "no_eligible_offer"}


def test_kecamatan_prefix_is_not_a_string_prefix() -> None:
    # 32.73.1 must not cover 32.73.10.*: areas are codes, not prefixes of text.
    data = instance([need("N-1", 100, kelurahan="32.73.10.1001")], [offer("O-1", 1_000, areas=["32.73.01"])])
    assert reasons(run(data)) == {"N-1": "no_eligible_offer"}


def test_ppks_must_be_served() -> None:
    data = instance(
        [need("N-1", 100, ppks=24), need("N-2", 100, ppks=9)],
        [offer("O-1", 1_000, ppks=[9, 10])],
    )
    result = run(data)
    assert allocated(result) == {"N-2": ("O-1", 100)}
    assert reasons(result) == {"N-1": "no_eligible_offer"}


def test_empty_areas_and_ppks_mean_all() -> None:
    data = instance(
        [need("N-1", 100, ppks=1, kelurahan="32.73.30.1001"), need("N-2", 100, ppks=26, kelurahan="32.73.01.1001")],
        [offer("O-1", 1_000, areas=[], ppks=[])],
    )
    assert len(run(data)["allocations"]) == 2


def test_max_per_need_applies_to_the_remainder_inclusive() -> None:
    data = instance(
        [
            need("N-1", 500_001, household="KK-1"),
            need("N-2", 500_000, household="KK-2"),
            need("N-3", 700_000, household="KK-3"),  # 700k - 200k aid = 500k: eligible
        ],
        [offer("O-1", 10_000_000, max_per_need=500_000)],
        [aid("KK-3", 200_000)],
    )
    result = run(data)
    assert allocated(result) == {"N-2": ("O-1", 500_000), "N-3": ("O-1", 500_000)}
    assert reasons(result) == {"N-1": "no_eligible_offer"}


# ---- rule 3: whole needs, one giver ------------------------------------------------------------------


def test_a_need_is_not_split_across_offers() -> None:
    # Two offers of 200k could together pay 300k, but one giver must pay the whole remainder.
    data = instance([need("N-1", 300_000)], [offer("O-1", 200_000), offer("O-2", 200_000)])
    result = run(data)
    assert result["allocations"] == []
    assert result["stats"]["objective"] == 0


def test_whole_need_or_nothing() -> None:
    # 500k of capacity, two needs of 300k: a split solution would serve both partly.
    data = instance([need("N-1", 300_000, priority=10), need("N-2", 300_000, priority=10)], [offer("O-1", 500_000)])
    result = run(data)
    assert len(result["allocations"]) == 1
    assert result["allocations"][0]["amount"] == 300_000
    assert result["stats"]["objective"] == 10


# ---- rule 4: capacity, rule 6: objective (greedy is not optimal) ----------------------------------------


def test_capacity_and_objective_beat_greedy() -> None:
    # Greedy (highest priority first) takes N-1 (5) and then nothing fits; the optimum is N-2 + N-3 (6).
    data = instance(
        [need("N-1", 300_000, priority=5), need("N-2", 250_000, priority=3), need("N-3", 250_000, priority=3)],
        [offer("O-1", 500_000)],
    )
    result = run(data)
    assert set(allocated(result)) == {"N-2", "N-3"}
    assert result["stats"] == {**result["stats"], "status": "OPTIMAL", "objective": 6, "bound": 6}
    assert reasons(result) == {"N-1": "not_selected"}


def test_greedy_is_not_optimal_with_several_offers() -> None:
    # N-1 (priority 9) is eligible for both offers; N-2, N-3 only for O-1. Greedy puts N-1 in O-1 (most
    # room), blocking N-2 and N-3; the optimum puts N-1 in O-2.
    data = instance(
        [
            need("N-1", 400, priority=9, kelurahan="32.73.03.1001"),
            need("N-2", 300, priority=8, kelurahan="32.73.04.1001"),
            need("N-3", 300, priority=8, kelurahan="32.73.04.1001"),
        ],
        [offer("O-1", 700), offer("O-2", 400, areas=["32.73.03"])],
    )
    result = run(data)
    assert allocated(result) == {"N-1": ("O-2", 400), "N-2": ("O-1", 300), "N-3": ("O-1", 300)}
    assert result["stats"]["objective"] == 25 == brute_force(data)


def test_capacity_is_respected_for_the_sum() -> None:
    needs = [need(f"N-{k}", 100, priority=k) for k in range(1, 8)]
    result = run(instance(needs, [offer("O-1", 350)]))
    assert set(allocated(result)) == {"N-7", "N-6", "N-5"}


# ---- rule 5: household cap ---------------------------------------------------------------------------


def test_household_cap_limits_what_one_household_gets() -> None:
    data = instance(
        [
            need("N-1", 300_000, priority=5, household="KK-1", kind="pangan"),
            need("N-2", 300_000, priority=4, household="KK-1", kind="pendidikan"),
            need("N-3", 300_000, priority=1, household="KK-2", kind="pendidikan"),
        ],
        [offer("O-1", 1_000_000), offer("O-2", 1_000_000, kind="pendidikan")],
        household_cap=500_000,
    )
    result = run(data)
    assert set(allocated(result)) == {"N-1", "N-3"}
    assert reasons(result) == {"N-2": "not_selected"}


def test_household_cap_counts_remainders_not_amounts() -> None:
    data = instance(
        [
            need("N-1", 400_000, household="KK-1", kind="pangan"),
            need("N-2", 300_000, household="KK-1", kind="pendidikan"),
        ],
        [offer("O-1", 1_000_000), offer("O-2", 1_000_000, kind="pendidikan")],
        [aid("KK-1", 200_000)],  # pangan remainder 200k: 200k + 300k = 500k fits the cap
        household_cap=500_000,
    )
    assert len(run(data)["allocations"]) == 2


def test_need_larger_than_household_cap_has_no_eligible_offer() -> None:
    data = instance([need("N-1", 600_000)], [offer("O-1", 1_000_000)], household_cap=500_000)
    assert reasons(run(data)) == {"N-1": "no_eligible_offer"}


def test_without_household_cap_everything_fits() -> None:
    data = instance(
        [need("N-1", 300_000, household="KK-1"), need("N-2", 300_000, household="KK-1", kind="tunai")],
        [offer("O-1", 1_000_000), offer("O-2", 1_000_000, kind="tunai")],
    )
    assert len(run(data)["allocations"]) == 2


# ---- result form -------------------------------------------------------------------------------------


def test_result_form_is_exactly_the_contract() -> None:
    data = instance(
        [need("N-1", 300_000, household="KK-1", priority=80), need("N-2", 100, kind="tunai")],
        [offer("O-1", 5_000_000, areas=["32.73.03", "32.73.04.1001"], ppks=[24, 9], max_per_need=500_000)],
        [aid("KK-1", 200_000)],
        household_cap=2_000_000,
    )
    result = run(data)
    assert set(result) == {"version", "period", "allocations", "unmatched", "stats"}
    assert result["allocations"] == [{"need": "N-1", "offer": "O-1", "amount": 100_000}]
    assert result["unmatched"] == [{"need": "N-2", "reason": "no_eligible_offer"}]
    assert result["stats"]["status"] == "OPTIMAL"
    assert (result["stats"]["objective"], result["stats"]["bound"]) == (80, 80)
    assert isinstance(result["stats"]["seconds"], float)


def test_empty_instance() -> None:
    result = run(instance([], []))
    assert result["allocations"] == [] and result["unmatched"] == []
    assert result["stats"]["status"] == "OPTIMAL"
