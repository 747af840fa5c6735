"""Rules the database itself enforces, whatever code writes to it.

- an offer's remaining capacity never goes below zero, even when two approvals race;
- the audit trail is append-only: updates and deletes of its rows are refused.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "database-enforced invariants"

POSTGRES = [
    "ALTER TABLE offer ADD CONSTRAINT offer_remaining_nonnegative CHECK (remaining >= 0)",
    "ALTER TABLE offer ADD CONSTRAINT offer_remaining_within_capacity CHECK (remaining <= capacity)",
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]

SQLITE = [
    """CREATE TRIGGER offer_remaining_nonnegative BEFORE UPDATE OF remaining ON offer
    WHEN NEW.remaining < 0 OR NEW.remaining > NEW.capacity
    BEGIN SELECT RAISE(ABORT, 'offer remaining out of range'); END""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        statements = POSTGRES if engine.engine_type in ("postgres", "cockroach") else SQLITE
        for sql in statements:
            await _raw(sql)

    async def _raw(sql: str) -> None:
        from storage.tables import Offer

        await Offer.raw(sql)

    manager.add_raw(run)
    return manager
