"""The access log: which account read whose personal data, and when (UU 27/2022 Pasal 46).

It records ids and purpose only, never the data read. The data protection officer reads it; no role
can change it through the product.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from storage import setwise
from storage.accounts import CurrentUser
from storage.tables import DataAccess


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
