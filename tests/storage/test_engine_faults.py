"""Which errors mean "the database cannot be reached right now" (503, retry) rather than a bug (500)."""

from __future__ import annotations

import errno

import asyncpg.exceptions as pg
import pytest

from marketplace.ports import ObjectStoreUnavailable
from storage.engine import database_unavailable


def _raised(inner: BaseException, outer: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904  (the context, not the cause, as in asyncpg's pool clean-up)
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
    OSError(errno.EHOSTUNREACH, "No route to host"),
    OSError("Multiple exceptions: [Errno 111] …, [Errno 99] …"),
    TimeoutError(),
    pg.CannotConnectNowError("the database system is starting up"),
    pg.AdminShutdownError("terminating connection due to administrator command"),
    pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    pg.TooManyConnectionsError("sorry, too many clients already"),
    pg.InterfaceError("cannot call Transaction.rollback(): the underlying connection is closed"),
    pg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    _raised(pg.ConnectionDoesNotExistError("closed"), RuntimeError("clean-up failed")),
])
def test_unreachable_database(exc: BaseException) -> None:
    assert database_unavailable(exc)


@pytest.mark.parametrize("exc", [
    ValueError("bad"), OSError(errno.ENOENT, "No such file"), FileNotFoundError(),
    pg.UniqueViolationError("duplicate key"),
    pg.InterfaceError("cannot perform operation: another operation is in progress"),
    pg.InternalClientError("something else"),
    _raised(ConnectionRefusedError(111, "S3 down"), ObjectStoreUnavailable("object store unreachable")),
])
def test_other_errors_are_not_taken_for_an_unreachable_database(exc: BaseException) -> None:
    assert not database_unavailable(exc)
