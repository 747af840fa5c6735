"""The LP-guided rounding chooses only among offers that still fit (issue 10)."""

from __future__ import annotations

import numpy as np

from matching import parse_instance
from matching.data import prepare
from matching.heuristic import UNASSIGNED, greedy
from tests.matching.builders import instance, need, offer


def test_rounding_never_picks_an_offer_without_room() -> None:
    # One class, two offers with LP budgets 500 (O-A) and 50 (O-B). N-0 (200) goes to O-A, leaving it
    # 200 of room and 300 of budget. N-1 (300) no longer fits O-A and takes O-B, whose budget becomes
    # -250. For N-2 the old choice masked the offers that do not fit with -1, which beat O-B's -250, and
    # gave N-2 to O-A: 500 allocated against a capacity of 400.
    inst = parse_instance(
        instance([need("N-0", 200), need("N-1", 300), need("N-2", 300)], [offer("O-A", 400), offer("O-B", 1000)])
    )
    prep = prepare(inst)
    assert prep.n_classes == 1 and prep.class_offers[0].tolist() == [0, 1]
    budgets = [np.array([500, 50], dtype=np.int64)]
    assign = greedy(prep, np.array([0, 1, 2]), budgets=budgets)
    assert assign.tolist() == [0, 1, 1]
    got = assign != UNASSIGNED
    used = np.bincount(assign[got], weights=prep.remainder[got], minlength=prep.n_offers)
    assert (used <= prep.capacity).all()
