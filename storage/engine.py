"""The database engine chosen by ``DATABASE_URL``: an SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from marketplace.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
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

