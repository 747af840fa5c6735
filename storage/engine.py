"""The database engine chosen by ``DATABASE_URL``: an SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import errno
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from marketplace.ports import ObjectStoreUnavailable
from marketplace.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        # jit off: PostgreSQL compiles any plan its estimate calls costly (over 100,000), and at city scale a
        # page's bounded query often is: 20 to 50 ms of compiling for a query that runs in 1 ms (OLTP advice)
        return PostgresEngine(config={"dsn": settings.database_url, "server_settings": {"jit": "off"}},
                              log_queries=False)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout: wait for a writer instead of failing with "database is locked" when two requests write.
    return SQLiteEngine(path=str(path), timeout=30)


def ilike(column: Any, pattern: str) -> Any:
    """Case-insensitive LIKE: ILIKE on PostgreSQL; LIKE on SQLite, which has no ILIKE and whose LIKE
    already ignores case (ASCII), so Piccolo's fallback warning is not triggered."""
    engine = engine_finder()
    if engine is not None and engine.engine_type == "postgres":
        return column.ilike(pattern)
    return column.like(pattern)


def database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached right now (restarting, shutting down, network gone, too many
    connections), as opposed to a bug or bad data: the request changed nothing (its transaction was
    never committed) and may simply be tried again.

    The exception's context is looked at too: when a connection dies in the middle of a query, the pool's
    clean-up may raise its own error (``InternalClientError``) while handling the real one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ObjectStoreUnavailable):  # the store's own network error, not the database's
            return False
        if _unavailable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _unavailable(exc: BaseException) -> bool:
    import asyncpg.exceptions as pg

    if isinstance(exc, pg.PostgresConnectionError | pg.OperatorInterventionError | pg.TooManyConnectionsError):
        return True
    if isinstance(exc, pg.InterfaceError):
        return "connection" in str(exc) and "closed" in str(exc)
    if isinstance(exc, pg.InternalClientError):
        # "cannot switch to state N; another operation (2) is in progress": the server's termination notice
        # (57P01) arrived on an idle pooled connection, which the pool then fails to reset. (Using one
        # connection concurrently, the programming error, is an InterfaceError, not this.)
        return "another operation" in str(exc)
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    # a connect() that finds no route or no address raises a plain OSError (EHOSTUNREACH, ENETUNREACH, …), and
    # asyncio's create_connection joins the errors of several addresses into "Multiple exceptions: …"
    return type(exc) is OSError and (exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions"))


_NETWORK_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.ECONNREFUSED, errno.EADDRNOTAVAIL,
                   errno.EHOSTDOWN, errno.ENETDOWN}


async def release_reset(connection: Any) -> None:
    """What a pooled connection needs when it goes back to the pool: a rollback if a transaction was left
    open (an error mid-transaction). asyncpg's default also unlocks advisory locks, closes cursors, stops
    LISTENs and resets settings: this code takes only transaction-scoped advisory locks and cursors and never
    LISTENs or SETs, so that was one more round trip after every query (a third of a city page's SQL time)."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


POOL_OPTIONS: dict[str, Any] = {"reset": release_reset}
"""Passed to ``engine.start_connection_pool`` by the web and job processes."""


async def fetch_planned_once(table: Any, query: QueryString) -> list[dict[str, Any]]:
    """The rows of ``query``, on PostgreSQL with the connection's generic plan of it (planned once per
    connection, not on each run); elsewhere, or inside a transaction, as any query.

    For a page's many-join statement whose plan is the same whatever its parameters (its scope is always
    found through one index) but which PostgreSQL plans again on every run: for such statements the
    generic plan's estimate is above the custom plans', so PostgreSQL never switches to it by itself. At
    city scale that planning took 2.3 ms of a 1.4 ms query. The setting is ``SET LOCAL``: it ends with the
    transaction, and a connection given back mid-way is rolled back (``release_reset``)."""
    engine: Any = table._meta.db
    if engine.engine_type != "postgres" or engine.current_transaction.get() is not None:
        return list(await table.raw("{}", query))
    sql, values = query.compile_string(engine_type="postgres")
    if engine.pool is None:  # a command or test without the pool: its own connection, closed after
        connection = await engine.get_new_connection()
        try:
            return await _generic_fetch(connection, sql, values)
        finally:
            await connection.close()
    async with engine.pool.acquire() as connection:  # given back mid-way, the pool's reset rolls back
        return await _generic_fetch(connection, sql, values)


async def _generic_fetch(connection: Any, sql: str, values: list[Any]) -> list[dict[str, Any]]:
    await connection.execute("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan")
    rows = await connection.fetch(sql, *values)
    await connection.execute("COMMIT")
    return [dict(r) for r in rows]
