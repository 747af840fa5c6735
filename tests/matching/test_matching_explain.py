"""Explanations: the rule that stopped a need, in Indonesian and English."""

from __future__ import annotations

from matching import SolverSettings, explain, explain_unmatched, parse_instance, solve
from matching.explain import (
    RULE_AREA,
    RULE_CAPACITY,
    RULE_HOUSEHOLD_CAP,
    RULE_KIND,
    RULE_MAX_PER_NEED,
    RULE_PPKS,
)
from tests.matching.builders import aid, instance, need, offer


def _explanations():  # type: ignore[no-untyped-def]
    data = instance(
        [
            need("N-kind", 100, kind="rehabilitasi"),
            need("N-area", 100, kind="pendidikan", kelurahan="32.73.03.1003"),
            need("N-ppks", 100, ppks=9),
            need("N-max", 900),
            need("N-cap", 5_000, kind="tunai"),
            need("N-hh", 20_000, kind="perumahan"),
            need("N-gov", 100, household="KK-9"),
            need("N-lost", 800, priority=1, kind="tunai"),
            need("N-won", 800, priority=50, kind="tunai"),
        ],
        [
            offer("O-pangan", 10_000, ppks=[24], max_per_need=500),
            offer("O-pend", 10_000, kind="pendidikan", areas=["32.73.04", "32.73.03.1001"]),
            offer("O-tunai", 1_000, kind="tunai"),
            offer("O-rumah", 100_000, kind="perumahan"),
        ],
        [aid("KK-9", 150, program="BPNT"), aid("KK-9", 10, program="PKH")],
        household_cap=10_000,
    )
    inst = parse_instance(data)
    result = solve(inst, SolverSettings(time_limit=2.0))
    return inst, result


def test_each_blocking_rule_is_named() -> None:
    inst, result = _explanations()
    ex = explain_unmatched(inst, result, names={"32.73.03.1003": "Cihapit", "32.73.03": "Bandung Wetan"})
    assert ex["N-kind"].rule == RULE_KIND
    assert ex["N-area"].rule == RULE_AREA
    assert ex["N-ppks"].rule == RULE_PPKS
    assert ex["N-max"].rule == RULE_MAX_PER_NEED
    assert ex["N-cap"].rule == RULE_CAPACITY
    assert ex["N-hh"].rule == RULE_HOUSEHOLD_CAP
    assert {k for k, e in ex.items() if e.reason == "no_eligible_offer"} == {
        "N-kind", "N-area", "N-ppks", "N-max", "N-cap", "N-hh",
    }  # fmt: skip
    assert ex["N-gov"].reason == "covered_by_government" and "BPNT" in ex["N-gov"].id
    assert ex["N-lost"].reason == "not_selected" and ex["N-lost"].rule is None
    assert "N-won" not in ex


def test_sentences() -> None:
    inst, result = _explanations()
    area = explain(inst, "N-area", result)
    assert area.id.startswith("Tidak ada LKS yang melayani pendidikan di Kelurahan 32.73.03.1003")
    assert area.en.startswith("No LKS serves pendidikan in Kelurahan 32.73.03.1003")
    named = explain(inst, "N-area", result, names={"32.73.03.1003": "Cihapit"})
    assert "Kelurahan Cihapit (32.73.03.1003)" in named.id
    assert "PPKS jenis 9" in explain(inst, "N-ppks", result).id
    assert "Rp900" in explain(inst, "N-max", result).id and "Rp500" in explain(inst, "N-max", result).id
    assert "Rp20.000" in explain(inst, "N-hh", result).id
    assert "Rp 10,000" in explain(inst, "N-hh", result).en
    won = explain(inst, "N-won", result)
    assert won.reason is None and "O-tunai" in won.id and "O-tunai" in won.en


def test_the_explainer_answers_as_the_rule_by_rule_filter_on_every_fuzzed_shape() -> None:
    """The explainer remembers each place's candidate offers (a city round asks 300,000 times); its answer
    must be the plain filter's over the kind's whole pool, for every need, limits and cap included."""
    from matching.explain import Explainer, blocking_rule
    from matching.fuzz import SHAPES, generate
    from matching.instance import aid_totals, remainder

    for shape in SHAPES.values():
        for seed in range(3):
            inst = parse_instance(generate(shape, 60, seed))
            ex, aid = Explainer(inst), aid_totals(inst.government_aid)
            for n in inst.needs:
                rest = remainder(n, aid)
                pool = [o for o in inst.offers if o.kind == n.kind]
                rule, before = blocking_rule(n, rest, pool, inst.household_cap)
                assert ex._blocking_rule(n, rest) == (rule, before), (shape, seed, n.id)
