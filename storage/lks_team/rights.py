"""Rights rows of LKS staff (``LksMember``), kept apart from the team's use cases so that account
creation (``storage/accounts.py``) and log-in can use them without importing the team pages' services."""

from __future__ import annotations

from typing import Any

from marketplace.lks_team import ADMIN, ALL_RIGHTS, RIGHTS, WORK_RIGHTS, RightMissing
from storage.tables import LksMember


def as_columns(rights: frozenset[str]) -> dict[Any, bool]:
    """``{LksMember.admin: True, ...}``: one boolean column per right, named as the right."""
    return {getattr(LksMember, r): r in rights for r in RIGHTS}


def from_row(row: dict[str, Any]) -> frozenset[str]:
    """The rights held in a row of ``LksMember`` or ``LksInvite`` (columns named as the rights)."""
    return frozenset(r for r in RIGHTS if row.get(r))


async def rights_of(account_id: int) -> frozenset[str]:
    """An account's rights in its LKS; none without a row (deny by default)."""
    row = await LksMember.select(*(getattr(LksMember, r) for r in RIGHTS)).where(
        LksMember.account == account_id).first()
    return from_row(row) if row else frozenset()


async def require_right(account_id: int, lks_id: int, right: str) -> None:
    """``RightMissing`` unless the account is active in this LKS and holds ``right`` now, as read in the
    caller's transaction: a use case checks the team's rights itself, not only the route's guard (which
    saw the rights when the request began)."""
    held = await LksMember.exists().where(
        (LksMember.account == account_id) & (LksMember.lks == lks_id) & (getattr(LksMember, right) == True)  # noqa: E712
        & (LksMember.account.active == True))  # noqa: E712
    if not held:
        raise RightMissing(right)


async def has_active_admin(lks_id: int) -> bool:
    return bool(await LksMember.exists().where(
        (LksMember.lks == lks_id) & (LksMember.admin == True)  # noqa: E712
        & (LksMember.account.active == True)))  # noqa: E712


async def add_member(account_id: int, lks_id: int, rights: frozenset[str] | None = None) -> frozenset[str]:
    """The rights row of a new ``lks_staff`` account, inside the caller's transaction. Without explicit
    rights (``jitu user create``, demo accounts): the LKS's first account becomes its admin with every
    right, later ones get the working rights (what any LKS account could do before teams existed)."""
    if rights is None:
        rights = WORK_RIGHTS if await has_active_admin(lks_id) else ALL_RIGHTS
    await LksMember.insert(LksMember(as_columns(rights), account=account_id, lks=lks_id))
    return rights


__all__ = ["ADMIN", "add_member", "as_columns", "from_row", "has_active_admin", "require_right", "rights_of"]
