"""Four single-column indexes that lead wider ones are dropped: ``need (household)`` and ``need (status)``
(``need (household, status)``, ``need (status, id)``), ``allocation (round)`` (``allocation (round, id)``,
``allocation (round, status, priority, id)``), ``unmatched_need (round)`` (``unmatched_need (round,
reason)``). The wider index answers every lookup the narrow one did, foreign-key cascades included, and
every write paid for both: a round's status step updates 101,000 needs at city scale, and an updated
need is a new row version in each of its indexes, so its eight indexes were a quarter of that step."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T23:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop single-column indexes that lead wider ones"

DROPPED = ("need_household", "need_status", "allocation_round", "unmatched_need_round")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Need

        for name in DROPPED:
            await Need.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    return manager
