"""The DPO's first count of the households one account read (``storage.access.households_read_by``) counts
the distinct households of the account's rows up to a mark id: with ``(username, household_id)`` PostgreSQL
had to read every row from the heap to check its id (370 ms for 624,000 rows at city scale); with
``(username, household_id, id)`` the index alone answers. It replaces the two-column index, used by
nothing else."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "access log index by account, household and id"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import DataAccess

        await DataAccess.raw("CREATE INDEX IF NOT EXISTS data_access_username_household_id "
                             "ON data_access (username, household_id, id)")
        await DataAccess.raw("DROP INDEX IF EXISTS data_access_username_household")

    manager.add_raw(run)
    return manager
