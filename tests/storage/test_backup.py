"""``jitu backup`` / ``jitu restore`` (issue 13 item 6), on the engine of the run (SQLite or PostgreSQL).

A database with households, an approved and delivered allocation with its photos (objects) and audit events
is backed up by the CLI while another writer keeps appending audit events; the backup is restored by the CLI
into an empty database and an empty object folder; then ``jitu audit verify`` passes, every table's row count
is the manifest's, and every object is back with its checksum. A non-empty database, a damaged backup and a
non-empty backup folder are refused before anything is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from marketplace.audit import AuditEvent
from marketplace.settings import Settings, get_settings
from storage import delivery
from storage.backup import BackupError, backup, database_counts, restore
from storage.objects import LocalObjectStore, make_object_store
from storage.tables import DeliveryPhoto
from storage.uow import unit_of_work
from tests.conftest import ENGINE, PG_ADMIN_DSN, _pg_admin
from tests.storage.test_delivery import FIELDS, TODAY, approved_world, staff
from tests.storage.test_images import jpeg_with_gps

JITU = str(Path(sys.executable).with_name("jitu"))


async def jitu(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(JITU, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    return int(proc.returncode or 0), out.decode()


@pytest.fixture
async def empty_target(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], Settings]]:
    """The environment of another deployment: an empty database and an empty object folder, same keys."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OBJECT_STORE")}
    env["JITU_VAR_DIR"] = str(tmp_path / "target-var")
    name = ""
    if ENGINE == "postgres":
        name = f"jitu_restore_{secrets.token_hex(4)}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    settings = Settings(JITU_VAR_DIR=env["JITU_VAR_DIR"],  # type: ignore[call-arg]
                        database_url=env.get("DATABASE_URL", ""), secret_key=env["SECRET_KEY"])
    try:
        yield env, settings
    finally:
        if name:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _world_with_photos() -> list[str]:
    w = await approved_world(2)
    photos = [("a.jpg", jpeg_with_gps()), ("b.jpg", jpeg_with_gps((80, 60)))]
    await delivery.record_delivery(w.allocations[0], staff(w.lks_id), FIELDS, photos, make_object_store(), TODAY)
    return [r["object_key"] for r in await DeliveryPhoto.select(DeliveryPhoto.object_key)]


async def _keep_writing(stop: asyncio.Event) -> int:
    n = 0
    while not stop.is_set():
        async with unit_of_work() as uow:
            await uow.record(AuditEvent("uji", "backup.concurrent", "uji", str(n)))
        n += 1
        await asyncio.sleep(0.01)
    return n


async def test_backup_while_writing_then_restore_into_an_empty_database(db: None, tmp_path: Path,
                                                                        empty_target: Any) -> None:
    keys = await _world_with_photos()
    folder = tmp_path / "cadangan"
    stop = asyncio.Event()
    writer = asyncio.create_task(_keep_writing(stop))
    try:
        code, out = await jitu(dict(os.environ), "backup", str(folder))
    finally:
        stop.set()
        written = await writer
    assert code == 0, out
    assert written > 0, "nothing was written while the backup ran"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == ENGINE and manifest["tables"]["delivery_photo"] == 2
    assert {i["key"] for i in manifest["objects"]["items"]} >= set(keys)
    assert (folder / manifest["database"]["file"]).is_file()

    env, target = empty_target
    code, out = await jitu(env, "restore", str(folder))
    assert code == 0, out
    assert "jejak audit utuh" in out
    code, out = await jitu(env, "audit", "verify")
    assert code == 0 and "Jejak audit utuh" in out, out
    assert await database_counts(target) == manifest["tables"]
    store = LocalObjectStore(target.object_dir, target.resolved_secret_key())
    for item in manifest["objects"]["items"]:
        assert hashlib.sha256(store.get(item["key"])).hexdigest() == item["sha256"]
    assert sorted(store.keys()) == sorted(i["key"] for i in manifest["objects"]["items"])

    # a second restore meets a database that is no longer empty: refused, nothing changed
    code, out = await jitu(env, "restore", str(folder))
    assert code == 1 and "tidak kosong" in out, out
    assert await database_counts(target) == manifest["tables"]


async def test_a_damaged_backup_and_a_non_empty_database_are_refused(db: None, tmp_path: Path,
                                                                     empty_target: Any) -> None:
    await _world_with_photos()
    folder = tmp_path / "cadangan"
    settings = get_settings()
    summary = await backup(folder, settings, make_object_store())
    assert summary.objects >= 2 and summary.tables["delivery"] == 1
    with pytest.raises(BackupError, match="tidak kosong"):
        await backup(folder, settings, make_object_store())  # never into a folder that holds something

    with pytest.raises(BackupError, match="tidak kosong"):  # the live database itself
        await restore(folder, settings, make_object_store())

    damaged = tmp_path / "rusak"
    shutil.copytree(folder, damaged)
    item = next(i for i in json.loads((damaged / "manifest.json").read_text())["objects"]["items"] if i["size"])
    photo = damaged / "objects" / item["key"]
    data = photo.read_bytes()
    photo.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # one byte changed, whatever it was
    _env, target = empty_target
    target_store = LocalObjectStore(target.object_dir, target.resolved_secret_key())
    with pytest.raises(BackupError, match="rusak"):
        await restore(damaged, target, target_store)
    assert await database_counts(target) == {} and list(target_store.keys()) == []
