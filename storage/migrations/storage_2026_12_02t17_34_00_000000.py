"""Existing LKS accounts get their rights rows (issue 14 item 2), after the tables exist (Piccolo runs a
migration's raw steps before its table steps, so this is a migration of its own)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T17:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lks team: rights of existing LKS accounts"

UNUSABLE_PASSWORD = "!api-token-account"  # noqa: S105  (storage/api/tokens.py: an API token's account)


async def backfill() -> None:
    """Existing LKS accounts keep what they could do: per LKS, its first person account (active first, then
    the lowest id: the registering account) becomes its admin with every right; its other people get the
    working rights (deliveries, offers, ledger); an API token's account gets deliveries only."""
    from storage.tables import Account, LksMember

    rows = await Account.select(Account.id, Account.lks, Account.active, Account.password_hash).where(
        (Account.role == "lks_staff") & Account.lks.is_not_null()).order_by(Account.id)
    have = {r["account"] for r in await LksMember.select(LksMember.account)}
    admins: dict[int, int] = {}
    for r in sorted((r for r in rows if r["password_hash"] != UNUSABLE_PASSWORD),
                    key=lambda r: (not r["active"], r["id"])):
        admins.setdefault(r["lks"], r["id"])
    for r in rows:
        if r["id"] in have:
            continue
        person = r["password_hash"] != UNUSABLE_PASSWORD
        # explicit columns: this migration's schema, whatever later ones add to the table
        await LksMember.raw("INSERT INTO lks_member (account, lks, admin, deliveries, offers, ledger) "
                            "VALUES ({}, {}, {}, {}, {}, {})", r["id"], r["lks"], admins.get(r["lks"]) == r["id"],
                            True, person, person)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)
    manager.add_raw(backfill)
    return manager
