"""Counts for long lists that do not scan the city on every request.

Up to ``EXACT_UP_TO`` matching rows the count is exact (a scan bounded by that many index entries);
beyond it, on PostgreSQL, it is the planner's estimate from the table statistics, and the page says so
("sekitar 330.000"). A list of the whole city (330,573 households, a million access-log rows) thus costs
a bounded scan plus one EXPLAIN instead of a full count per request. SQLite (demo scale) counts exactly.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from piccolo.querystring import QueryString

EXACT_UP_TO = 10_000


class Total(int):
    """A row count that knows whether it is an estimate (an ``int`` everywhere else)."""

    estimated: bool
    at_least: bool
    """Counted only up to a bound and more were found: the page says "lebih dari N" (no estimate)."""

    def __new__(cls, value: int, estimated: bool = False, at_least: bool = False) -> Total:
        total = super().__new__(cls, value)
        total.estimated = estimated
        total.at_least = at_least
        return total


def _postgres(table: Any) -> bool:
    return bool(table._meta.db.engine_type == "postgres")


async def count_rows(table: Any, where: Any = None, exact_up_to: int | None = None,
                     use_estimate: bool = True) -> Total:
    """How many rows of ``table`` match ``where`` (a Piccolo condition; joins through foreign keys work).
    ``use_estimate=False``: beyond ``exact_up_to`` the answer is "more than ``exact_up_to``", for conditions whose
    planner estimate means nothing (a name search: the planner takes '%Siti%' for 5,000 of 1.2 million)."""
    exact_up_to = EXACT_UP_TO if exact_up_to is None else exact_up_to
    if not use_estimate:
        query = table.select(table._meta.primary_key)
        query = query.where(where) if where is not None else query
        bounded = await table.raw("SELECT count(*) AS n FROM ({}) AS bounded",
                                  query.limit(exact_up_to + 1).querystrings[0])
        seen = int(bounded[0]["n"])
        return Total(exact_up_to, at_least=True) if seen > exact_up_to else Total(seen)
    if not _postgres(table):
        query = table.count()
        return Total(await (query.where(where) if where is not None else query))

    sql, values = _ids(table, where).querystrings[0].compile_string(engine_type="postgres")
    key = (sql, repr(values), exact_up_to)
    kept = _estimates.get(key)
    if kept is not None and time.monotonic() - kept[0] <= ESTIMATE_KEPT_SECONDS:
        _estimates.move_to_end(key)
        return kept[1]
    bounded = await table.raw("SELECT {} AS n", bounded_count(table, where, exact_up_to))
    total = await total_of(int(bounded[0]["n"]), table, where, exact_up_to)
    if total.estimated:
        _estimates[key] = (time.monotonic(), total)
        _estimates.move_to_end(key)
        while len(_estimates) > _ESTIMATES_KEPT:
            _estimates.popitem(last=False)
    return total


ESTIMATE_KEPT_SECONDS = 60.0
_ESTIMATES_KEPT = 1024
_estimates: OrderedDict[tuple[str, str, int], tuple[float, Total]] = OrderedDict()
"""Estimates, by query, kept a minute in this process. An estimate is approximate by nature (the page says
"sekitar"), and reaching it cost a scan of ``EXACT_UP_TO`` index entries plus an EXPLAIN on every view:
about 1.3 ms of PostgreSQL for each large list (the city's households, the needs by status on the home
page). Exact counts, at or under the bound, are never kept."""


def forget_estimates() -> None:
    """Drop the kept estimates (tests: a new database)."""
    _estimates.clear()


def _ids(table: Any, where: Any) -> Any:  # a new query each time: Piccolo's limit() changes the query it is called on
    query = table.select(table._meta.primary_key)
    return query.where(where) if where is not None else query


def bounded_count(table: Any, where: Any = None, exact_up_to: int = EXACT_UP_TO) -> QueryString:
    """``count_rows``' bounded scan as a scalar subquery, for a page that reads its count in the same
    statement as its rows; ``total_of`` turns what it found into the ``Total``."""
    return QueryString("(SELECT count(*) FROM ({}) AS bounded)", _ids(table, where).limit(exact_up_to + 1)
                       .querystrings[0])


async def total_of(seen: int, table: Any, where: Any = None, exact_up_to: int = EXACT_UP_TO) -> Total:
    """The ``Total`` of a bounded count that found ``seen``: exact up to the bound, else the estimate
    (PostgreSQL; SQLite counts exactly)."""
    if seen <= exact_up_to:
        return Total(seen)
    if not _postgres(table):
        query = table.count()
        return Total(await (query.where(where) if where is not None else query))
    plan = await table.raw("EXPLAIN (FORMAT JSON) {}", _ids(table, where).querystrings[0])
    raw = plan[0]["QUERY PLAN"]
    estimate = int((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]["Plan Rows"])
    return Total(max(estimate, seen), estimated=True)


def describe(total: int, language: str = "id") -> str:
    """``330.573``; an estimate rounded to three figures: ``sekitar 331.000`` (``about 331,000``)."""
    value = int(total)
    if getattr(total, "at_least", False):
        text = f"{value:,}"
        return f"more than {text}" if language == "en" else f"lebih dari {text.replace(',', '.')}"
    if getattr(total, "estimated", False):
        digits = len(str(value))
        value = round(value, -max(0, digits - 3))
    text = f"{value:,}"
    text = text if language == "en" else text.replace(",", ".")
    if getattr(total, "estimated", False):
        return ("about " if language == "en" else "sekitar ") + text
    return text
