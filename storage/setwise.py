"""Set-wise SQL on both engines: a list of ids or a table of rows as one parameter, and bulk inserts.

PostgreSQL gets arrays (``= ANY($1::int[])``, ``unnest($1::int[], $2::bigint[])``) and binary ``COPY``
on the open transaction's connection; SQLite gets one JSON parameter (``json_each``) and ``executemany``.
Either way one statement handles a whole batch, its text does not grow with the batch (drivers keep it
prepared), and it runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from piccolo.engine import engine_finder

from storage.tables import Allocation

TABLES = frozenset({"allocation", "unmatched_need", "need_event", "ledger_entry", "need", "offer", "household"})
"""The only table names that go into SQL text here (values always go as parameters)."""


def is_postgres() -> bool:
    engine = engine_finder()
    return engine is not None and engine.engine_type == "postgres"


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Piccolo's raw query (``{}`` placeholders), on the current transaction when there is one."""
    return list(await Allocation.raw(sql, *args))


def ids(column: str, values: Sequence[int]) -> tuple[str, list[Any]]:
    """``column`` is one of ``values``, as one parameter whatever their number."""
    if is_postgres():
        return f"{column} = ANY({{}}::int[])", [list(values)]
    return f"{column} IN (SELECT value FROM json_each({{}}))", [json.dumps(list(values))]  # noqa: S608 (our names)


def rows(types: Sequence[str], values: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """A derived table ``(c0, c1, …)`` of ``values`` (PostgreSQL types name the columns' types)."""
    names = ", ".join(f"c{i}" for i in range(len(types)))
    if is_postgres():
        arrays = ", ".join(f"{{}}::{t}[]" for t in types)
        return (f"(SELECT * FROM unnest({arrays}) AS u({names}))",  # noqa: S608 (our names)
                [[r[i] for r in values] for i in range(len(types))])
    columns = ", ".join(f"json_extract(value, '$[{i}]') AS c{i}" for i in range(len(types)))
    return f"(SELECT {columns} FROM json_each({{}}))", [json.dumps([list(r) for r in values])]  # noqa: S608


def param(pg_type: str) -> str:
    """A parameter whose type PostgreSQL cannot infer from its place (SQLite takes values as they are)."""
    return f"{{}}::{pg_type}" if is_postgres() else "{}"


async def set_status(table: str, targets: Sequence[int], to_status: str, from_status: str, values: str = "",
                     *args: Any) -> list[int]:
    """``UPDATE table SET status = to_status[, values] WHERE id IN targets AND status = from_status``;
    returns the ids it changed."""
    assert table in TABLES
    where, id_args = ids("id", targets)
    changed = await raw(f'UPDATE "{table}" SET status = {{}}{values} WHERE {where} AND status = {{}} '  # noqa: S608
                        "RETURNING id", to_status, *args, *id_args, from_status)
    return [int(r["id"]) for r in changed]


async def insert(table: str, columns: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """Bulk insert inside the open transaction: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
    Columns left out take their defaults."""
    assert table in TABLES
    if not values:
        return
    engine = engine_finder()
    assert engine is not None
    transaction = engine.current_transaction.get()  # type: ignore[attr-defined]
    assert transaction is not None, "setwise.insert runs inside unit_of_work()"
    connection = transaction.connection
    if engine.engine_type == "postgres":
        await connection.copy_records_to_table(table, records=values, columns=list(columns))
        return
    sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) '  # noqa: S608 (names from our code)
           f"VALUES ({', '.join('?' for _ in columns)})")
    await connection.executemany(sql, values)
