"""An index for an LKS's cash book at city scale (issue 9): ``/lks-saya/buku-kas`` shows the LKS's newest
entries first; with only ``ledger_entry (lks)`` PostgreSQL walked the whole ledger backwards by id and
skipped other LKS' entries (111,000 of 182,000 rows for the demo LKS, 70 ms) to find 50."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T02:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index for an LKS's cash book"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import LedgerEntry

        await LedgerEntry.raw("CREATE INDEX IF NOT EXISTS ledger_entry_lks_id ON ledger_entry (lks, id)")

    manager.add_raw(run)
    return manager
