"""The database engine chosen by ``DATABASE_URL``: an SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

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
