"""Each need carries its household's kelurahan (``need.kelurahan_code``), kept by the database itself, so a
kelurahan operator's queue is one index range (``need (kelurahan_code, status, id)``).

Read through the household, the queue looked up each of the kelurahan's households in ``need``: 4,588
lookups for one kelurahan at city scale, 6-8 ms of PostgreSQL per view. The column is never written by the
product: a trigger sets it from the household when a need is inserted or moved to another household (or
when anything writes the column itself), and another follows a household that moves to another kelurahan.
Filled once here for the needs already stored."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "need.kelurahan_code kept from the household by triggers"

POSTGRES = [
    "ALTER TABLE need ADD COLUMN IF NOT EXISTS kelurahan_code VARCHAR(16) NOT NULL DEFAULT ''",
    "UPDATE need SET kelurahan_code = h.kelurahan_code FROM household h "
    "WHERE h.id = need.household AND need.kelurahan_code IS DISTINCT FROM h.kelurahan_code",
    "CREATE OR REPLACE FUNCTION need_kelurahan() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN NEW.kelurahan_code := COALESCE((SELECT h.kelurahan_code FROM household h WHERE h.id = NEW.household), ''); "
    "RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS need_kelurahan ON need",
    "CREATE TRIGGER need_kelurahan BEFORE INSERT OR UPDATE OF household, kelurahan_code ON need "
    "FOR EACH ROW EXECUTE FUNCTION need_kelurahan()",
    "CREATE OR REPLACE FUNCTION household_kelurahan_moved() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE need SET kelurahan_code = NEW.kelurahan_code WHERE household = NEW.id; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS household_kelurahan_moved ON household",
    "CREATE TRIGGER household_kelurahan_moved AFTER UPDATE OF kelurahan_code ON household FOR EACH ROW "
    "WHEN (OLD.kelurahan_code IS DISTINCT FROM NEW.kelurahan_code) EXECUTE FUNCTION household_kelurahan_moved()",
    "CREATE INDEX IF NOT EXISTS need_kelurahan_status_id ON need (kelurahan_code, status, id)",
]

_FROM_HOUSEHOLD = "COALESCE((SELECT h.kelurahan_code FROM household h WHERE h.id = NEW.household), '')"
SQLITE = [
    "UPDATE need SET kelurahan_code = COALESCE((SELECT h.kelurahan_code FROM household h "
    "WHERE h.id = need.household), '')",
    # AFTER triggers (SQLite has no BEFORE that can change NEW); recursive triggers are off, so their own
    # UPDATE does not fire them again
    "CREATE TRIGGER IF NOT EXISTS need_kelurahan_insert AFTER INSERT ON need BEGIN "
    f"UPDATE need SET kelurahan_code = {_FROM_HOUSEHOLD} WHERE id = NEW.id; END",
    "CREATE TRIGGER IF NOT EXISTS need_kelurahan_update AFTER UPDATE OF household, kelurahan_code ON need BEGIN "
    f"UPDATE need SET kelurahan_code = {_FROM_HOUSEHOLD} WHERE id = NEW.id; END",
    "CREATE TRIGGER IF NOT EXISTS household_kelurahan_moved AFTER UPDATE OF kelurahan_code ON household BEGIN "
    "UPDATE need SET kelurahan_code = NEW.kelurahan_code WHERE household = NEW.id; END",
    "CREATE INDEX IF NOT EXISTS need_kelurahan_status_id ON need (kelurahan_code, status, id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Need

        engine = engine_finder()
        assert engine is not None
        if engine.engine_type in ("postgres", "cockroach"):
            for sql in POSTGRES:
                await Need.raw(sql)
            await Need.raw("ANALYZE need")
            return
        columns = {r["name"] for r in await Need.raw("PRAGMA table_info(need)")}
        if "kelurahan_code" not in columns:
            await Need.raw("ALTER TABLE need ADD COLUMN kelurahan_code VARCHAR(16) NOT NULL DEFAULT ''")
        for sql in SQLITE:
            await Need.raw(sql)

    manager.add_raw(run)
    return manager
