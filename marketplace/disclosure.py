"""Small-cell suppression: the one place every public or donor aggregate goes through.

Rule: a group of fewer than ``THRESHOLD`` (5) households is shown as "< 5" (*primary* suppression), and
enough other figures are hidden (*complementary* suppression, shown as "≥ 5") that no hidden small group
can be recovered by subtracting visible figures from totals, within one table or across views that share
its margins.

How it is guaranteed (not hoped): a table is kept with its margins as an augmented matrix in which every
row and column sums to zero (margins enter negated, the grand total positive). For every primary cell we
look for a *witness*: a rectangle of four hidden, non-zero entries ``(i,j) (i,l) (k,j) (k,l)`` such that
adding ``+d, -d, -d, +d`` (``d`` = +1 or -1) keeps every hidden entry within what an attacker knows about
it ("< 5" means 1..4, "≥ 5" means at least 5). That alternative table agrees with every published figure
and every line sum, so the small cell has at least two possible values: it cannot be recovered, however
views of this table are combined. Zero cells are shown (they describe nobody) and never used as witnesses.
A vector (one dimension and its total) is the one-column case: the witness is a pair.

Views stay consistent because each public breakdown is built once, here, and every page showing a figure
of it shows the same suppressed figure: the public by-month chart and the donor's per-LKS months are the
column margins and rows of one ``protect_table``, never two independent calculations. Two *different*
tables may share only the grand total (their witnesses never change it unless it is itself hidden).

Cells count deliveries (each to one household); ``households`` gives the distinct households per cell
when it can be smaller, and a cell is small when either is 1..4.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Generic, TypeVar

THRESHOLD = 5
SMALL_LABEL = "< 5"
HIDDEN_LABEL = "≥ 5"

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)
K = TypeVar("K", bound=Hashable)

_TOTAL = object()
"""Index of the margin row/column in the augmented matrix."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One published figure: ``count`` and ``amount`` are ``None`` when hidden."""

    count: int | None
    amount: int | None = None
    small: bool = False
    """Hidden because fewer than 5 households (shown "< 5")."""
    hidden: bool = False
    """Hidden at all (small, or to protect a small one: shown "≥ 5")."""

    @property
    def label(self) -> str:
        if self.small:
            return SMALL_LABEL
        if self.hidden:
            return HIDDEN_LABEL
        return f"{self.count:,}".replace(",", ".")

    @property
    def plot_value(self) -> int:
        """What a chart may draw: 0 for a hidden figure (its bar is labelled instead)."""
        return self.count or 0


def is_small(count: int, households: int | None = None) -> bool:
    """Primary suppression: 1..4 deliveries, or 1..4 distinct households."""
    if count <= 0:
        return False
    return count < THRESHOLD or (households is not None and 0 < households < THRESHOLD)


@dataclass
class _Entry:
    value: int
    households: int | None
    amount: int | None
    sign: int  # +1 interior or grand total, -1 margin: every augmented line sums to zero
    small: bool = False
    hidden: bool = False

    def feasible(self, delta_y: int) -> bool:
        """Would the attacker accept ``value + sign*delta_y`` for this (hidden) entry?"""
        new = self.value + self.sign * delta_y
        if self.small:
            return new >= 1 and (self.value >= THRESHOLD or new < THRESHOLD)
        return new >= THRESHOLD


@dataclass
class ProtectedTable(Generic[R, C]):
    """A two-way table with its margins, suppressed as one."""

    rows: list[R]
    cols: list[C]
    cells: dict[tuple[R, C], Figure]
    row_totals: dict[R, Figure]
    col_totals: dict[C, Figure]
    total: Figure
    witnesses: dict[object, tuple[object, ...]] = field(default_factory=dict, repr=False)

    def cell(self, row: R, col: C) -> Figure:
        return self.cells.get((row, col), Figure(0, 0))

    def row(self, row: R) -> list[tuple[C, Figure]]:
        return [(c, self.cell(row, c)) for c in self.cols]

    def column_margin(self) -> ProtectedVector[C]:
        """The column totals as a vector view: the same figures, the same suppression."""
        return ProtectedVector(list(self.cols), dict(self.col_totals), self.total)

    def row_margin(self) -> ProtectedVector[R]:
        return ProtectedVector(list(self.rows), dict(self.row_totals), self.total)


@dataclass
class ProtectedVector(Generic[K]):
    """One breakdown and its total."""

    keys: list[K]
    cells: dict[K, Figure]
    total: Figure

    def get(self, key: K) -> Figure:
        return self.cells.get(key, Figure(0, 0))

    def items(self) -> list[tuple[K, Figure]]:
        return [(k, self.get(k)) for k in self.keys]

    @property
    def any_hidden(self) -> bool:
        return self.total.hidden or any(f.hidden for f in self.cells.values())


def protect_table(
    counts: Mapping[tuple[R, C], int],
    rows: Iterable[R],
    cols: Iterable[C],
    *,
    amounts: Mapping[tuple[R, C], int] | None = None,
    households: Mapping[tuple[R, C], int] | None = None,
    row_households: Mapping[R, int] | None = None,
    col_households: Mapping[C, int] | None = None,
    total_households: int | None = None,
) -> ProtectedTable[R, C]:
    """Suppress a two-way table of delivery counts (and their rupiah amounts) with its margins.

    Margins are the sums of the cells; ``*_households`` are the distinct households of a cell or margin
    where a household can appear more than once. Amounts are hidden wherever their count is.
    """
    row_list = list(dict.fromkeys(rows))
    col_list = list(dict.fromkeys(cols))
    amounts = amounts or {}
    households = households or {}
    row_households = row_households or {}
    col_households = col_households or {}
    grid: dict[tuple[object, object], _Entry] = {}
    row_sum = dict.fromkeys(row_list, 0)
    col_sum = dict.fromkeys(col_list, 0)
    row_amt = dict.fromkeys(row_list, 0)
    col_amt = dict.fromkeys(col_list, 0)
    for (r, c), n in counts.items():
        if r not in row_sum or c not in col_sum:
            raise ValueError(f"cell {(r, c)!r} outside the table's rows/columns")
        if n < 0:
            raise ValueError("counts cannot be negative")
        a = amounts.get((r, c), 0)
        grid[(r, c)] = _Entry(n, households.get((r, c)), a, +1)
        row_sum[r] += n
        col_sum[c] += n
        row_amt[r] += a
        col_amt[c] += a
    for r in row_list:
        grid[(r, _TOTAL)] = _Entry(row_sum[r], row_households.get(r), row_amt[r], -1)
    for c in col_list:
        grid[(_TOTAL, c)] = _Entry(col_sum[c], col_households.get(c), col_amt[c], -1)
    grid[(_TOTAL, _TOTAL)] = _Entry(sum(row_sum.values()), total_households, sum(row_amt.values()), +1)
    for e in grid.values():
        if is_small(e.value, e.households):
            e.small = e.hidden = True
    witnesses = _find_witnesses(grid, [*row_list, _TOTAL], [*col_list, _TOTAL])

    def fig(key: tuple[object, object]) -> Figure:
        e = grid.get(key)
        if e is None:
            return Figure(0, 0)
        if e.hidden:
            return Figure(None, None, small=e.small, hidden=True)
        return Figure(e.value, e.amount)

    return ProtectedTable(
        rows=row_list,
        cols=col_list,
        cells={k: fig(k) for k in counts},  # type: ignore[misc]
        row_totals={r: fig((r, _TOTAL)) for r in row_list},
        col_totals={c: fig((_TOTAL, c)) for c in col_list},
        total=fig((_TOTAL, _TOTAL)),
        witnesses=witnesses,  # type: ignore[arg-type]
    )


def protect_vector(
    counts: Mapping[K, int],
    keys: Iterable[K] | None = None,
    *,
    amounts: Mapping[K, int] | None = None,
    households: Mapping[K, int] | None = None,
    total_households: int | None = None,
) -> ProtectedVector[K]:
    """Suppress one breakdown (e.g. by kecamatan) with its total: the one-column table."""
    key_list = list(dict.fromkeys(keys if keys is not None else counts))
    one = "·"
    table = protect_table(
        {(k, one): n for k, n in counts.items()},
        key_list,
        [one],
        amounts={(k, one): a for k, a in (amounts or {}).items()},
        households={(k, one): h for k, h in (households or {}).items()},
        row_households=households,
        total_households=total_households,
    )
    return ProtectedVector(key_list, {k: table.cells[(k, one)] for k in counts}, table.total)


def _find_witnesses(
    grid: dict[tuple[object, object], _Entry], rows: list[object], cols: list[object]
) -> dict[object, tuple[object, ...]]:
    """Give every small entry a feasible rectangle of hidden entries, hiding as little as possible.

    Hiding more never invalidates an earlier witness (an attacker only loses information), so one pass
    in a fixed order suffices; candidates are ranked by how many new entries they hide, then by the
    size of what they hide, then by position, so the result is deterministic.
    """
    row_pos = {r: n for n, r in enumerate(rows)}
    col_pos = {c: n for n, c in enumerate(cols)}
    by_row: dict[object, list[object]] = {r: [] for r in rows}
    by_col: dict[object, list[object]] = {c: [] for c in cols}
    for (r, c), e in grid.items():
        if e.value > 0:
            by_row[r].append(c)
            by_col[c].append(r)
    witnesses: dict[object, tuple[object, ...]] = {}
    small = sorted((key for key, e in grid.items() if e.small), key=lambda k: (row_pos[k[0]], col_pos[k[1]]))
    for i, j in small:
        best: tuple[tuple[int, int, int, int], tuple[object, ...]] | None = None
        for ell in by_row[i]:
            if ell == j:
                continue
            for k in by_col[j]:
                if k == i:
                    continue
                corner = grid.get((k, ell))
                if corner is None or corner.value <= 0:
                    continue
                quad = [(i, j), (i, ell), (k, j), (k, ell)]
                entries = [grid[q] for q in quad]
                if not any(
                    all(_accepts(e, d * s) for e, s in zip(entries, (1, -1, -1, 1), strict=True)) for d in (1, -1)
                ):
                    continue
                new = [e for e in entries if not e.hidden]
                rank = (len(new), sum(e.value for e in new), row_pos[k], col_pos[ell])
                if best is None or rank < best[0]:
                    best = (rank, tuple(quad))
        if best is None:
            _hide_all(grid)
            witnesses[(i, j)] = ()
            return witnesses
        for q in best[1]:
            grid[q].hidden = True  # type: ignore[index]
        witnesses[(i, j)] = best[1]
    return witnesses


def _accepts(entry: _Entry, delta_y: int) -> bool:
    """Feasibility as the attacker would judge it once the entry is hidden (small or "≥ 5")."""
    if entry.hidden:
        return entry.feasible(delta_y)
    return _Entry(entry.value, entry.households, entry.amount, entry.sign, small=False, hidden=True).feasible(delta_y)


def _hide_all(grid: dict[tuple[object, object], _Entry]) -> None:
    """No witness exists (a degenerate table): publish nothing but zeros rather than risk a small cell."""
    for e in grid.values():
        if e.value > 0:
            e.hidden = True


def protect_funnel(stages: Mapping[str, int]) -> dict[str, Figure]:
    """Nested stage counts (verified ⊇ matched ⊇ approved ...): a stage is hidden when it, or its
    difference from a neighbouring stage (a group of households that dropped out), is 1..4."""
    names = list(stages)
    hidden = {n for n in names if is_small(stages[n])}
    changed = True
    while changed:
        changed = False
        visible = [n for n in names if n not in hidden]
        for a, b in pairwise(visible):
            if is_small(abs(stages[a] - stages[b])):
                hidden.add(b if stages[b] <= stages[a] else a)
                changed = True
                break
    return {
        n: Figure(None, small=is_small(stages[n]), hidden=True) if n in hidden else Figure(stages[n])
        for n in names
    }
