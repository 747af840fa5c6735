"""The access log's index on ``username`` alone is dropped: ``(username, id)`` and ``(username, household_id,
id)`` start with the same column and answer every lookup it did, and each list page that shows personal data
writes 50 access-log rows a view, each into every index of the table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T22:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the access log's username-only index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import DataAccess

        await DataAccess.raw("DROP INDEX IF EXISTS data_access_username")

    manager.add_raw(run)
    return manager
