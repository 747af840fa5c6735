"""A record of every statement that adds or removes households (PostgreSQL), so the anchors of the deep
pages of the household list (``storage/positions.py``) know when the list's positions moved.

``household_change`` gets one row per INSERT, DELETE, TRUNCATE or UPDATE OF id statement on ``household``
(a statement-level trigger, in the statement's own transaction: visible exactly when the households are;
an import of 330,000 households in batches adds one row per batch). Rows are never deleted. SQLite (demo
scale) pages by offset and gets nothing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "household_change for the deep pages of the household list"

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS household_change (id BIGSERIAL PRIMARY KEY, "
    "occurred_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE OR REPLACE FUNCTION household_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO household_change DEFAULT VALUES; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS household_changed ON household",
    "CREATE TRIGGER household_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id ON household "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_changed()",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Household

        engine = engine_finder()
        assert engine is not None
        if engine.engine_type in ("postgres", "cockroach"):
            for sql in POSTGRES:
                await Household.raw(sql)

    manager.add_raw(run)
    return manager
