"""Where a deep page of the whole household list starts, without reading every id before it (PostgreSQL).

Page 3,305 of the city's household list (``/registri/keluarga?hal=3305``) is the 50 ids after the first
165,200 in id order. An offset reads those 165,200 index entries on every view (6 ms of the database's
time per request, a third of the page under 20 users). This module keeps, per process, the id at every
``STEP``-th position of the list (331 ids for 330,573 households); a page then starts at the anchor
before it and skips fewer than ``STEP`` entries.

Invalidation: the positions of the list change only when households are inserted or deleted (or the
table is truncated, or an id changed). A statement-level trigger (migration ``2026-12-04T19:40``) adds a
row to ``household_change`` for every such statement, in the same transaction, so the change is visible
exactly when the households are. The anchors are stored with the key they were computed under (number
and highest id of the ``household_change`` rows, the table's file and the database's oid), read in the
same statement, so in the same snapshot, as the anchors. Every page read checks that key again *in the
same statement as the page's ids*: if any household was added or removed since (a committed change row
that snapshot can see and the anchors' snapshot could not), the key differs, the anchors are dropped
and the caller pages by offset as before. Change rows are never deleted, so the set of visible rows
only grows and an equal count and maximum mean the same set. A page read through the anchors is thus
exactly the page an offset would give in the same snapshot. SQLite (demo scale) always pages by offset.

Rebuilding (one ordered pass over the ids, about 65 ms for the city) happens at most once per
``REBUILD_EVERY`` seconds per process and by one request at a time; while households are being imported,
the pages in between simply use the offset."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from storage.tables import Household

STEP = 1000
"""An anchor every STEP households: a page skips fewer than STEP index entries after its anchor."""
REBUILD_EVERY = 10.0
"""Seconds between two rebuilds of the anchors in one process (a stale set is not used meanwhile)."""

_KEY = ("(SELECT count(*) FROM household_change) AS n, (SELECT coalesce(max(id), 0) FROM household_change) AS m, "
        "pg_relation_filenode('household') AS f, (SELECT oid FROM pg_database WHERE datname = current_database()) AS d")


@dataclass
class _Anchors:
    key: tuple[int, int, int, int]
    ids: list[int]
    step: int


_state: dict[str, Any] = {"anchors": None, "built_at": 0.0, "building": False}


def forget() -> None:
    """Drop the anchors (tests; never needed for correctness, see the module's docstring)."""
    _state.update(anchors=None, built_at=0.0, building=False)


def _key(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return int(row["n"]), int(row["m"]), int(row["f"] or 0), int(row["d"] or 0)


async def _rebuild() -> None:
    if _state["building"] or time.monotonic() - float(_state["built_at"]) < REBUILD_EVERY:
        return
    _state["building"] = True
    try:
        rows = await Household.raw(
            f"SELECT {_KEY}, ARRAY(SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM household) s "  # noqa: S608
            f"WHERE (r - 1) % {STEP} = 0 ORDER BY id) AS ids")
        _state["anchors"] = _Anchors(_key(rows[0]), [int(i) for i in rows[0]["ids"] or []], STEP)
    finally:
        _state["built_at"] = time.monotonic()
        _state["building"] = False


async def household_page_ids(offset: int, size: int) -> list[int] | None:
    """The ids of the households at positions ``offset`` to ``offset + size`` of the whole list in id
    order, or None when the caller should use an offset (SQLite, a shallow page, no valid anchors)."""
    if offset < STEP or Household._meta.db.engine_type != "postgres":
        return None
    anchors: _Anchors | None = _state["anchors"]
    if anchors is not None and anchors.step != STEP:
        anchors = _state["anchors"] = None
    if anchors is None:
        await _rebuild()
        anchors = _state["anchors"]
        if anchors is None:
            return None
    if not anchors.ids:
        return None
    at = min(offset // STEP, len(anchors.ids) - 1)
    rows = await Household.raw(
        f"SELECT {_KEY}, ARRAY(SELECT id FROM household WHERE id >= {{}} ORDER BY id LIMIT {{}} OFFSET {{}}) AS ids",  # noqa: S608
        anchors.ids[at], size, offset - at * STEP)
    if _key(rows[0]) != anchors.key:  # households added or removed since: the positions moved
        _state["anchors"] = None
        await _rebuild()
        return None
    return [int(i) for i in rows[0]["ids"] or []]
