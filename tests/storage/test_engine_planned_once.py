"""``storage.engine.fetch_planned_once``: the same rows as a plain query, the generic plan only inside its own
transaction, and nothing left behind on the connection (PostgreSQL; elsewhere it is a plain query)."""

from __future__ import annotations

import pytest
from piccolo.querystring import QueryString

from storage.engine import POOL_OPTIONS, fetch_planned_once
from storage.tables import Region


def _regions() -> QueryString:
    return QueryString("SELECT code, name FROM region WHERE level = {} ORDER BY code LIMIT {}", "kelurahan", 5)


async def test_the_rows_are_those_of_the_plain_query(db: None) -> None:
    plain = await Region.raw("{}", _regions())
    assert len(plain) == 5
    assert await fetch_planned_once(Region, _regions()) == plain


@pytest.mark.postgres
async def test_on_a_pooled_connection_the_generic_plan_ends_with_its_transaction(db: None) -> None:
    engine = Region._meta.db
    await engine.start_connection_pool(min_size=1, max_size=1, **POOL_OPTIONS)
    try:
        assert len(await fetch_planned_once(Region, _regions())) == 5
        # the one pooled connection served the query above: its session is as it was
        async with engine.pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SHOW plan_cache_mode") == "auto"
        with pytest.raises(Exception, match="division by zero"):
            await fetch_planned_once(Region, QueryString("SELECT 1 / {} AS n", 0))
        async with engine.pool.acquire() as connection:  # the failed one was rolled back when given back
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SHOW plan_cache_mode") == "auto"
        assert len(await fetch_planned_once(Region, _regions())) == 5
    finally:
        await engine.close_connection_pool()


@pytest.mark.postgres
async def test_the_statement_runs_with_a_generic_plan(db: None) -> None:
    """Asked inside the statement itself: the setting is on while it runs (SET LOCAL), nowhere else."""
    rows = await fetch_planned_once(Region, QueryString("SELECT current_setting('plan_cache_mode') AS mode"))
    assert rows == [{"mode": "force_generic_plan"}]
    [after] = await Region.raw("SELECT current_setting('plan_cache_mode') AS mode")
    assert after["mode"] == "auto"
