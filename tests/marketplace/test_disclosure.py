"""Small-cell suppression: an attacker who knows the rule and every published figure (of one table and of
views sharing its margins) solves for each hidden small cell with CP-SAT and must find two values."""

from __future__ import annotations

import random

import pytest
from ortools.sat.python import cp_model

from marketplace.disclosure import (
    HIDDEN_LABEL,
    SMALL_LABEL,
    Figure,
    protect_funnel,
    protect_table,
    protect_vector,
)

BIG = 10**6


def _var(model: cp_model.CpModel, fig: Figure, name: str, exact: int) -> cp_model.IntVar:
    """What the attacker knows of one figure: its value, "< 5" (1..4) or "≥ 5"."""
    if not fig.hidden:
        assert fig.count == exact
        return model.NewIntVar(exact, exact, name)
    if fig.small:
        return model.NewIntVar(1, 4 if exact < 5 else BIG, name)
    return model.NewIntVar(5, BIG, name)


def attack_table(counts, rows, cols, table, extra_views=()) -> dict:
    """Min and max of every small figure given everything published. ``extra_views`` are (vector,
    keys-to-column-margin map) published elsewhere and sharing this table's margins."""
    model = cp_model.CpModel()
    x = {}
    for r in rows:
        for c in cols:
            n = counts.get((r, c), 0)
            x[r, c] = _var(model, table.cell(r, c), f"x{r}_{c}", n) if n else model.NewConstant(0)
    rt = {r: _var(model, table.row_totals[r], f"r{r}", sum(counts.get((r, c), 0) for c in cols)) for r in rows}
    ct = {c: _var(model, table.col_totals[c], f"c{c}", sum(counts.get((r, c), 0) for r in rows)) for c in cols}
    total = _var(model, table.total, "t", sum(counts.values()))
    for r in rows:
        model.Add(sum(x[r, c] for c in cols) == rt[r])
    for c in cols:
        model.Add(sum(x[r, c] for r in rows) == ct[c])
    model.Add(sum(rt.values()) == total)
    for vector, truth in extra_views:
        vt = {k: _var(model, vector.get(k), f"v{k}", truth[k]) for k in vector.keys}
        model.Add(sum(vt.values()) == total)  # another breakdown of the same population
    small = {("cell", r, c): x[r, c] for r in rows for c in cols if table.cell(r, c).small}
    small |= {("row", r): rt[r] for r in rows if table.row_totals[r].small}
    small |= {("col", c): ct[c] for c in cols if table.col_totals[c].small}
    if table.total.small:
        small["total"] = total
    ranges = {}
    for key, var in small.items():
        lo_hi = []
        for sense in (model.Minimize, model.Maximize):
            sense(var)
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            assert solver.Solve(model) == cp_model.OPTIMAL
            lo_hi.append(solver.Value(var))
        ranges[key] = tuple(lo_hi)
    return ranges


def random_table(rng: random.Random, nrows: int, ncols: int):
    counts = {}
    for r in range(nrows):
        for c in range(ncols):
            roll = rng.random()
            if roll < 0.25:
                continue
            counts[r, c] = rng.randint(1, 4) if roll < 0.5 else rng.randint(5, 40)
    return counts


@pytest.mark.parametrize("seed", range(40))
def test_no_small_cell_of_a_random_table_can_be_recovered(seed: int) -> None:
    rng = random.Random(seed)
    nrows, ncols = rng.randint(1, 7), rng.randint(1, 6)
    counts = random_table(rng, nrows, ncols)
    rows, cols = list(range(nrows)), list(range(ncols))
    table = protect_table(counts, rows, cols)
    for (r, c), n in counts.items():
        assert table.cell(r, c).small == (0 < n < 5)
    for key, (lo, hi) in attack_table(counts, rows, cols, table).items():
        assert lo < hi, f"{key} recovered exactly as {lo}"


def test_the_obvious_difference_attack_fails() -> None:
    """One small kecamatan beside a published total: a naive suppression would give it away."""
    counts = {"Coblong": 40, "Sukajadi": 3, "Lengkong": 12}
    v = protect_vector(counts)
    assert v.get("Sukajadi").label == SMALL_LABEL
    visible = sum(f.count for f in v.cells.values() if not f.hidden)
    assert v.total.count is None or v.total.count - visible != 3
    hidden = [k for k, f in v.cells.items() if f.hidden]
    assert len(hidden) >= 2 and v.get("Lengkong").label == HIDDEN_LABEL  # the smaller partner


def test_a_group_of_one_beside_a_five_is_not_pinned_by_the_bounds() -> None:
    """1 and 5 hidden with sum 6: the attacker knows "< 5" ≥ 1 and "≥ 5" ≥ 5, so a naive pair pins both."""
    counts = {"a": 1, "b": 5, "c": 30}
    v = protect_vector(counts)
    table = protect_table({(k, 0): n for k, n in counts.items()}, list(counts), [0])
    for key, (lo, hi) in attack_table({(k, 0): n for k, n in counts.items()}, list(counts), [0], table).items():
        assert lo < hi, key
    assert v.get("a").small and v.get("c").hidden


def test_two_views_sharing_margins_do_not_combine_into_a_recovery() -> None:
    """The by-month chart (public) is the column margin of the LKS × month table (donors see rows);
    the by-kecamatan map is another breakdown of the same total. Published together, still no small cell."""
    rng = random.Random(7)
    counts = random_table(rng, 6, 6)
    rows, cols = list(range(6)), list(range(6))
    table = protect_table(counts, rows, cols)
    months = table.column_margin()
    for c in cols:
        assert months.get(c) == table.col_totals[c]
    kecamatan_truth = {"A": 2, "B": 7, "C": sum(counts.values()) - 9}
    kecamatan = protect_vector(kecamatan_truth)
    ranges = attack_table(counts, rows, cols, table, extra_views=[(kecamatan, kecamatan_truth)])
    assert ranges
    for key, (lo, hi) in ranges.items():
        assert lo < hi, key


def test_small_by_households_though_many_deliveries() -> None:
    table = protect_table({("x", 0): 9, ("y", 0): 20, ("z", 0): 11}, ["x", "y", "z"], [0],
                          households={("x", 0): 2, ("y", 0): 20, ("z", 0): 11})
    assert table.cell("x", 0).small and table.cell("x", 0).amount is None


def test_amounts_hidden_with_their_counts_and_zero_shown() -> None:
    v = protect_vector({"a": 2, "b": 9, "c": 0, "d": 30}, amounts={"a": 100, "b": 900, "c": 0, "d": 3000})
    assert v.get("a").amount is None and v.get("c").label == "0" and v.get("d").amount == 3000
    assert v.total.count == 41 and v.total.amount == 4000


def test_a_tiny_population_hides_everything_but_zeros() -> None:
    v = protect_vector({"a": 3, "b": 0})
    assert v.total.small and v.get("a").small and v.get("b").count == 0


def test_funnel_hides_small_drops() -> None:
    f = protect_funnel({"verified": 120, "matched": 118, "approved": 90, "delivered": 3})
    assert f["verified"].count == 120 and f["matched"].hidden and f["approved"].count == 90
    assert f["delivered"].small
    g = protect_funnel({"verified": 50, "matched": 40})
    assert g["matched"].count == 40


def test_deterministic() -> None:
    counts = random_table(random.Random(3), 5, 5)
    a = protect_table(counts, range(5), range(5))
    b = protect_table(dict(reversed(list(counts.items()))), range(5), range(5))
    assert a.cells == {k: b.cells[k] for k in a.cells} and a.row_totals == b.row_totals
