"""The access log: which account read whose personal data, and when (UU 27/2022 Pasal 46).

It records ids and purpose only, never the data read. The data protection officer reads it; no role
can change it through the product.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

from storage import setwise
from storage.accounts import CurrentUser
from storage.tables import AccessReach, DataAccess


async def log_access(user: CurrentUser, household_ids: Iterable[int], purpose: str) -> None:
    """One row per household read, written by one statement (a list page reads 50 households a view; the
    ORM's row objects cost a quarter of such a page at city scale)."""
    ids = sorted(set(household_ids))
    if not ids:
        return
    now = datetime.now(UTC)
    table, args = setwise.rows(("int",), [(i,) for i in ids])
    await DataAccess.raw(
        "INSERT INTO data_access (occurred_at, account, username, role, household_id, purpose) "  # noqa: S608
        f"SELECT {setwise.param('timestamptz')}, {setwise.param('int')}, {setwise.param('text')}, "
        f"{setwise.param('text')}, t.c0, {setwise.param('text')} FROM {table} t",
        now, user.id, user.username, user.role, purpose[:120], *args)



def _settled() -> str:
    """Rows older than a minute are folded into the kept figure. A serial id is taken at insert, not at
    commit, so on PostgreSQL a row with a lower id can become visible after one with a higher id; a minute
    is far longer than the one-statement insert above stays uncommitted. SQLite has one writer at a time,
    so its ids commit in order."""
    return "occurred_at < now() - interval '1 minute'" if setwise.is_postgres() else "1 = 1"


FRESH_CHUNK = 5_000
_counting: dict[str, asyncio.Lock] = {}
MARK_CHUNK = 500


async def households_read_by(username: str) -> int:
    """How many distinct households the account's access-log rows name (the DPO's Pasal 46 question).

    Exact, and cheap on every view: the figure up to ``AccessReach.upto_id`` is kept, and a view adds only
    the households first named after it (an index probe per newer row). The log only grows; if the row at
    the kept mark is gone (the rows went with a deleted account, an older backup was restored), the figure
    is counted again from the start. A retention job that ever removes old rows must delete the account's
    ``access_reach`` row with them. One view per account at a time in a process: twenty officers opening
    the same account at once wait for one first count instead of running twenty."""
    async with _counting.setdefault(username, asyncio.Lock()):
        return await _households_read_by(username)


async def _households_read_by(username: str) -> int:
    kept = await AccessReach.select(AccessReach.upto_id, AccessReach.households).where(
        AccessReach.username == username).first()
    upto, households = (int(kept["upto_id"]), int(kept["households"])) if kept else (0, 0)
    [last] = await DataAccess.raw(
        "SELECT max(id) AS id, (SELECT count(*) FROM data_access WHERE id = {} AND username = {}) AS mark "
        "FROM data_access WHERE username = {}", upto, username, username)
    if last["id"] is None:
        return 0
    recount = bool(upto) and not int(last["mark"])
    if upto and not recount and int(last["id"]) == upto:
        # nothing since the mark: the kept figure is the answer. (Asked for rows after the mark, PostgreSQL
        # walks the primary key past every other account's newer rows, 38 ms at city scale.)
        return households
    if recount:
        upto, households = 0, 0
    elif upto and await _more_than(username, upto, FRESH_CHUNK):
        # many rows since the mark (a day of a busy account): one count over the index is cheaper than
        # probing each new household (370,000 new rows: 4.6 s by probes)
        upto, households = 0, 0
    if upto == 0:  # a whole count: over the (username, household_id, id) index alone, up to the settled rows
        mark = await _settled_mark(username, int(last["id"]))
        if mark:
            upto = mark
            [full] = await DataAccess.raw(
                "SELECT count(*) AS n FROM (SELECT DISTINCT household_id FROM data_access "
                "WHERE username = {} AND id <= {}) t", username, upto)
            households = int(full["n"])
            await _keep(username, upto, households, recount)
    unsettled: set[int] = set()  # first named in rows under a minute old: counted on this view, kept later
    after = upto
    while True:  # the rows since the mark, a chunk at a time in id order (the (username, id) index)
        fresh = await DataAccess.raw(
            # ids from the (username, id) index alone, then their rows: asked for whole rows in id order,
            # PostgreSQL walks the primary key past every other account's newer rows (146 ms at city scale)
            f"SELECT id, household_id, {_settled()} AS old FROM data_access WHERE id IN ("  # noqa: S608
            "SELECT id FROM data_access WHERE username = {} AND id > {} ORDER BY id LIMIT {}) ORDER BY id",
            username, after, FRESH_CHUNK)
        if not fresh:
            break
        new = await _not_read_by(username, upto, {int(r["household_id"]) for r in fresh})
        settled = 0 if unsettled else next((i for i, r in enumerate(fresh) if not r["old"]), len(fresh))
        if settled:
            first = {int(r["household_id"]) for r in fresh[:settled]} & new
            households, upto = households + len(first), int(fresh[settled - 1]["id"])
            await _keep(username, upto, households)
            new -= first
        if settled < len(fresh):
            unsettled |= new
        after = int(fresh[-1]["id"])
        if len(fresh) < FRESH_CHUNK:
            break
    return households + len(unsettled)


async def _more_than(username: str, after: int, bound: int) -> bool:
    """Whether the account has more than ``bound`` rows after id ``after`` (a bounded index-only count)."""
    [n] = await DataAccess.raw(
        "SELECT count(*) AS n FROM (SELECT 1 FROM data_access WHERE username = {} AND id > {} LIMIT {}) t",
        username, after, bound + 1)
    return int(n["n"]) > bound


async def _settled_mark(username: str, last: int) -> int:
    """The id of the account's newest row over a minute old (0: none), read back from its newest rows by the
    (username, id) index: a plain ``max(id) … AND occurred_at < …`` walked the whole log's primary key
    backwards past every other account's newer rows (850 ms at city scale)."""
    below = last + 1
    while True:
        rows = await DataAccess.raw(
            f"SELECT id, {_settled()} AS old FROM data_access WHERE id IN ("  # noqa: S608  (our own SQL)
            "SELECT id FROM data_access WHERE username = {} AND id < {} ORDER BY id DESC LIMIT {}) ORDER BY id DESC",
            username, below, MARK_CHUNK)
        old = next((int(r["id"]) for r in rows if r["old"]), 0)
        if old or len(rows) < MARK_CHUNK:
            return old
        below = int(rows[-1]["id"])


async def _not_read_by(username: str, upto: int, households: set[int]) -> set[int]:
    """Those of ``households`` that none of the account's rows up to ``upto`` names."""
    if not upto or not households:
        return set(households)
    where, args = setwise.ids("household_id", sorted(households))
    named = await DataAccess.raw(
        "SELECT DISTINCT household_id FROM data_access WHERE username = {} AND id <= {} AND " + where,  # noqa: S608
        username, upto, *args)
    return households - {int(r["household_id"]) for r in named}


async def _keep(username: str, upto: int, households: int, recount: bool = False) -> None:
    """Store the figure up to ``upto``; a concurrent view that got further is not undone (a recount is)."""
    further = "" if recount else " WHERE access_reach.upto_id < excluded.upto_id"
    await DataAccess.raw(
        "INSERT INTO access_reach (username, upto_id, households) VALUES ({}, {}, {}) "  # noqa: S608 (our SQL)
        "ON CONFLICT (username) DO UPDATE SET upto_id = excluded.upto_id, households = excluded.households"
        + further, username, upto, households)
