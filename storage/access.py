"""The access log: which account read whose personal data, and when (UU 27/2022 Pasal 46).

It records ids and purpose only, never the data read. The data protection officer reads it; no role
can change it through the product.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.accounts import CurrentUser
from storage.tables import DataAccess


async def log_access(user: CurrentUser, household_ids: Iterable[int], purpose: str) -> None:
    rows = [
        DataAccess(account=user.id, username=user.username, role=user.role, household_id=hid, purpose=purpose[:120])
        for hid in sorted(set(household_ids))
    ]
    if rows:
        await DataAccess.insert(*rows)
