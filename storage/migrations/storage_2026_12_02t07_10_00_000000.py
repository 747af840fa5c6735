"""The audit trail stays append-only for its content; a key rotation may re-chain it.

A key rotation (``storage/keys.py``) checks each event under its old key and writes its hash again under
the new key: ``prev_hash``, ``hash`` and ``key_id`` may change. Every other column (what happened, who,
when, before, after) still cannot, and rows still cannot be deleted.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain: hash columns may be re-chained by a key rotation"

POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE'
         AND NEW.id = OLD.id AND NEW.occurred_at IS NOT DISTINCT FROM OLD.occurred_at
         AND NEW.actor IS NOT DISTINCT FROM OLD.actor AND NEW.action IS NOT DISTINCT FROM OLD.action
         AND NEW.entity IS NOT DISTINCT FROM OLD.entity AND NEW.entity_id IS NOT DISTINCT FROM OLD.entity_id
         AND NEW.before::text IS NOT DISTINCT FROM OLD.before::text
         AND NEW.after::text IS NOT DISTINCT FROM OLD.after::text THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit_event is append-only';
    END; $$ LANGUAGE plpgsql""",
]

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    # the same statement as storage.audit.SQLITE_NO_UPDATE (tests that lift the guard put it back from there)
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    WHEN NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.actor IS NOT OLD.actor
      OR NEW.action IS NOT OLD.action OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
      OR NEW.before IS NOT OLD.before OR NEW.after IS NOT OLD.after
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import AuditEvent

        engine = engine_finder()
        assert engine is not None
        for sql in POSTGRES if engine.engine_type in ("postgres", "cockroach") else SQLITE:
            await AuditEvent.raw(sql)

    manager.add_raw(run)
    return manager
