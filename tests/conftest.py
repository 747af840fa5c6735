"""Test harness. The engine is chosen once per run, before any project module is imported:

- ``JITU_TEST_DB=sqlite`` (default): a fresh SQLite file in a temporary folder;
- ``JITU_TEST_DB=postgres``: a fresh database on ``JITU_TEST_PG`` (default 127.0.0.1:5432), dropped
  at the end. If PostgreSQL is unreachable the run fails; it never skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

ENGINE = os.environ.get("JITU_TEST_DB", "sqlite")
_TMP = Path(tempfile.mkdtemp(prefix="jitu-test-"))
os.environ["JITU_VAR_DIR"] = str(_TMP / "var")
os.environ["SECRET_KEY"] = "test-secret-" + "x" * 32
os.environ.pop("REDIS_URL", None)
os.environ["DB_POOL"] = "false"
os.environ.pop("STRIPE_SECRET_KEY", None)
os.environ.pop("OBJECT_STORE", None)
PG_ADMIN_DSN = os.environ.get("JITU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = f"jitu_test_{os.getpid()}_{secrets.token_hex(3)}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if ENGINE == "postgres":
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{PG_DB}"'))
        # a throw-away database: commits need not wait for the disk
        asyncio.run(_pg_admin(f'ALTER DATABASE "{PG_DB}" SET synchronous_commit = off'))
    except Exception as exc:  # the run must fail, not skip, when PostgreSQL is expected
        raise pytest.UsageError(f"PostgreSQL expected (JITU_TEST_DB=postgres) but unreachable: {exc!r}") from exc
    os.environ["DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + PG_DB
else:
    os.environ.pop("DATABASE_URL", None)

import storage  # noqa: E402,F401  (PICCOLO_CONF now sees the test engine)


def pytest_report_header(config: pytest.Config) -> str:
    return f"jitu test engine: {ENGINE}" + (f" (database {PG_DB})" if ENGINE == "postgres" else "")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if ENGINE == "postgres":
        # a leftover test database is harmless; never let its cleanup mask the result
        with contextlib.suppress(Exception):
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))


DATABASE_FREE = ("tests/marketplace/", "tests/matching/")
"""Layers that never touch a database (plain rules, the solver): the SQLite run covers them, and running
them again against PostgreSQL would test nothing new."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``postgres``-marked tests need PostgreSQL: in a SQLite run they are deselected (the PostgreSQL
    run, which make test always does, runs them and fails if the server is missing). The PostgreSQL run
    leaves out the database-free layers."""
    def drop(item: pytest.Item) -> bool:
        if ENGINE == "postgres":
            return item.path.relative_to(config.rootpath).as_posix().startswith(DATABASE_FREE)
        return "postgres" in item.keywords

    keep = [i for i in items if not drop(i)]
    dropped = [i for i in items if drop(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def engine_name() -> str:
    return ENGINE


@pytest.fixture(scope="session")
async def migrated() -> AsyncIterator[None]:
    from storage.migrate import migrate

    await migrate()
    yield


@pytest.fixture
async def db(migrated: None) -> AsyncIterator[None]:
    """A database with the schema and reference data, and no other rows left by earlier tests."""
    from storage.counting import forget_estimates
    from storage.delivery import forget_kelurahan_options
    from tests.dbutil import clean_database

    await clean_database()
    forget_kelurahan_options()
    forget_estimates()
    yield


@pytest.fixture
async def client(db: None) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from portal.app import create_app

    app = create_app()
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def rate_window_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Holds the per-minute rate limiter in one window: on a slow machine a test's burst may otherwise
    straddle a minute boundary and start a fresh count."""
    from datetime import UTC, datetime

    import storage.registry

    monkeypatch.setattr(storage.registry, "_rate_clock", lambda: datetime(2026, 12, 2, 8, 0, 30, tzinfo=UTC))


@pytest.fixture
def tmp_var(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
