"""Indexes for the long lists at city scale (issue 9): needs by status in id order (the queues) and by
household and status (an operator's kelurahan), the access log by account in id order and by account and
household (the DPO's "whose data could this account read"), a round's unmatched needs by reason, and on
PostgreSQL a trigram index so a search by part of a member's name does not read all 1.2 million names."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T04:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the long lists"

BOTH = [
    "CREATE INDEX IF NOT EXISTS need_status_id ON need (status, id)",
    "CREATE INDEX IF NOT EXISTS need_household_status ON need (household, status)",
    "CREATE INDEX IF NOT EXISTS data_access_username_id ON data_access (username, id)",
    "CREATE INDEX IF NOT EXISTS data_access_username_household ON data_access (username, household_id)",
    "CREATE INDEX IF NOT EXISTS unmatched_need_round_reason ON unmatched_need (round, reason)",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS member_name_trgm ON member USING gin (name gin_trgm_ops)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Need

        engine = engine_finder()
        assert engine is not None
        postgres = engine.engine_type in ("postgres", "cockroach")
        for sql in BOTH + (POSTGRES if postgres else []):
            await Need.raw(sql)

    manager.add_raw(run)
    return manager
