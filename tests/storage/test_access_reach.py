"""The DPO's count of the distinct households an account read: kept per account, exact as the log grows."""

from storage.access import households_read_by, log_access
from storage.accounts import load_user
from storage.tables import AccessReach, DataAccess
from tests.dbutil import make_account


async def _exact(username: str) -> int:
    rows = await DataAccess.select(DataAccess.household_id).where(DataAccess.username == username)
    return len({r["household_id"] for r in rows})


async def _age(minutes: int) -> None:
    """Make every row older (on PostgreSQL only rows over a minute old are folded into the kept figure)."""
    rows = await DataAccess.select(DataAccess.id, DataAccess.occurred_at)
    for r in rows:
        await DataAccess.raw("UPDATE data_access SET occurred_at = {} WHERE id = {}",
                             r["occurred_at"].__class__.fromtimestamp(r["occurred_at"].timestamp() - 60 * minutes,
                                                                      r["occurred_at"].tzinfo), r["id"])


async def test_count_grows_with_the_log_and_stays_exact(db):
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    other = await load_user(await make_account("pekerja_sosial", "peksos2"))
    assert await households_read_by("peksos") == 0
    await log_access(reader, [11, 12, 12], "lihat detail keluarga")
    await log_access(other, [11, 99], "daftar keluarga")  # another account's reads never count
    assert await households_read_by("peksos") == 2
    await _age(5)
    assert await households_read_by("peksos") == 2
    kept = await AccessReach.select().where(AccessReach.username == "peksos").first()
    assert kept is not None and kept["households"] == 2
    for batch in ([12, 13], [11], range(20, 70), [13, 70]):  # old households again and new ones
        await log_access(reader, batch, "daftar keluarga")
        assert await households_read_by("peksos") == await _exact("peksos")
    await _age(5)
    assert await households_read_by("peksos") == await _exact("peksos") == 54
    assert await households_read_by("peksos2") == 2


async def test_fresh_rows_count_before_they_are_kept(db, engine_name):
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, [1, 2, 3], "daftar keluarga")
    await _age(5)
    assert await households_read_by("peksos") == 3
    await log_access(reader, [3, 4], "daftar keluarga")  # just now: counted on this view
    assert await households_read_by("peksos") == 4
    kept = await AccessReach.select().where(AccessReach.username == "peksos").first()
    assert kept is not None
    # PostgreSQL folds only rows over a minute old (ids commit out of order there); SQLite folds all
    assert kept["households"] == (3 if engine_name == "postgres" else 4)
    assert await households_read_by("peksos") == 4


async def test_counted_again_when_the_rows_behind_the_mark_are_gone(db):
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, range(1, 11), "daftar keluarga")
    await _age(5)
    assert await households_read_by("peksos") == 10
    await DataAccess.delete(force=True)  # as when the rows go with a deleted account, or a backup is restored
    await log_access(reader, [5, 6], "daftar keluarga")
    await _age(5)
    assert await households_read_by("peksos") == 2


async def test_long_runs_of_new_rows_are_read_in_chunks(db, monkeypatch):
    import storage.access

    monkeypatch.setattr(storage.access, "FRESH_CHUNK", 3)
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, [1, 2], "daftar keluarga")
    assert await households_read_by("peksos") == 2
    for batch in ([2, 3, 4, 5], [1, 6], [7, 8, 9, 3]):
        await log_access(reader, batch, "daftar keluarga")
    await _age(5)  # eleven rows over a minute old, then seven fresh ones: chunks of three cross the line
    for batch in ([9, 10], [2, 11, 12], [12, 13]):
        await log_access(reader, batch, "daftar keluarga")
    assert await households_read_by("peksos") == await _exact("peksos") == 13
    assert await households_read_by("peksos") == 13
    await _age(5)
    assert await households_read_by("peksos") == 13
    kept = await AccessReach.select().where(AccessReach.username == "peksos").first()
    assert kept is not None and kept["households"] == 13


async def test_first_count_finds_its_mark_behind_many_fresh_rows(db, monkeypatch, engine_name):
    import storage.access

    monkeypatch.setattr(storage.access, "MARK_CHUNK", 2)
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, [1, 2, 3, 4], "daftar keluarga")
    await _age(5)
    for batch in ([4, 5], [6], [1, 7]):  # five fresh rows after the old ones: the mark is three chunks back
        await log_access(reader, batch, "daftar keluarga")
    assert await households_read_by("peksos") == await _exact("peksos") == 7
    kept = await AccessReach.select().where(AccessReach.username == "peksos").first()
    assert kept is not None and kept["households"] == (4 if engine_name == "postgres" else 7)


async def test_many_rows_since_the_mark_are_counted_again_whole(db, monkeypatch):
    import storage.access

    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, [1, 2], "daftar keluarga")
    await _age(5)
    assert await households_read_by("peksos") == 2
    monkeypatch.setattr(storage.access, "FRESH_CHUNK", 3)
    await log_access(reader, range(2, 12), "daftar keluarga")  # ten rows since the mark: more than a chunk
    await _age(5)
    assert await households_read_by("peksos") == await _exact("peksos") == 11
    kept = await AccessReach.select().where(AccessReach.username == "peksos").first()
    [last] = await DataAccess.raw("SELECT max(id) AS id FROM data_access")
    assert kept is not None and (kept["upto_id"], kept["households"]) == (last["id"], 11)
