from datetime import date

from marketplace.priority import PriorityWeights, months_between, priority


def test_worked_examples_of_the_docstring():
    assert priority(desil=2, extreme_poor=True, ppks=8, submitted_on=date(2026, 1, 10),
                    today=date(2026, 5, 10)) == 186
    assert priority(desil=9, extreme_poor=False, ppks=24, submitted_on=date(2026, 5, 10),
                    today=date(2026, 5, 10)) == 51


def test_poorer_and_longer_waiting_rank_higher():
    d = date(2026, 1, 1)
    assert priority(desil=1, extreme_poor=False, ppks=24, submitted_on=d, today=d) > priority(
        desil=5, extreme_poor=False, ppks=24, submitted_on=d, today=d)
    assert priority(desil=5, extreme_poor=False, ppks=24, submitted_on=d, today=date(2026, 4, 1)) > priority(
        desil=5, extreme_poor=False, ppks=24, submitted_on=d, today=d)


def test_wait_is_capped_and_weights_configurable():
    w = PriorityWeights(wait_per_month=1, wait_cap_months=2)
    long = priority(desil=5, extreme_poor=False, ppks=24, submitted_on=date(2020, 1, 1), today=date(2026, 1, 1),
                    weights=w)
    short = priority(desil=5, extreme_poor=False, ppks=24, submitted_on=date(2025, 11, 1), today=date(2026, 1, 1),
                     weights=w)
    assert long == short
    assert priority(desil=10, extreme_poor=False, ppks=24, submitted_on=date(2026, 1, 1), today=date(2026, 1, 1),
                    weights=PriorityWeights(base=0, desil=0, severity=0)) >= 1
    assert months_between(date(2026, 1, 31), date(2026, 2, 1)) == 0
