"""Indexes for deciding and reviewing a city round (issue 9): a round's allocations in id order (the
batches of a decision by selection) and in review order (status, priority, id: the /alokasi page), and
government aid by household and period (re-checked for every batch)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T03:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for decisions by selection and the approval list"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS allocation_round_id ON allocation (round, id)",
    "CREATE INDEX IF NOT EXISTS allocation_round_review ON allocation (round, status, priority DESC, id)",
    "CREATE INDEX IF NOT EXISTS government_aid_household_period ON government_aid (household, period)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Allocation

        for sql in STATEMENTS:
            await Allocation.raw(sql)

    manager.add_raw(run)
    return manager
