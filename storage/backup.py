"""Backup and restore: the database and the object store's objects, with a manifest of counts and checksums.

A backup folder holds ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database.sqlite3``
(SQLite: a consistent copy by SQLite's online backup API), ``objects/<key>`` for every stored object, and
``manifest.json`` (written last: a folder without it is an unfinished backup). On PostgreSQL the row counts
are taken in the very snapshot ``pg_dump`` dumps (``pg_export_snapshot`` / ``--snapshot``), so they describe
exactly what the dump holds, even while the portal keeps writing.

``restore`` goes only into an **empty** database (no tables at all): it checks every checksum first, then
restores (``pg_restore --single-transaction``: all or nothing), puts the objects back, and checks that every
table's row count and the audit chain's head match the manifest. Keys are not in a backup: the restored
deployment must run with the same ``SECRET_KEY`` (it decrypts NIK/No. KK and keys the audit chain).
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketplace.ports import ObjectNotFound, ObjectStore
from marketplace.settings import Settings
from storage.objects import check_key

FORMAT = "jitu-backup-1"
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
OBJECTS = "objects"


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message is Indonesian and says why."""


@dataclass
class Summary:
    folder: Path
    engine: str
    tables: dict[str, int]
    objects: int
    object_bytes: int
    audit_events: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --------------------------------------------------------------------------------------------- helpers

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: ``JITU_PG_BIN`` if set, else PATH, else the newest
    ``/usr/lib/postgresql/<n>/bin`` (Debian keeps them there); it must not be older than the server."""
    folder = os.environ.get("JITU_PG_BIN")
    if folder:
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1]
    raise BackupError(f"Program {name} tidak ditemukan (pasang postgresql-client atau setel JITU_PG_BIN).")


async def _run(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(*args, env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        text = (err or out).decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{Path(args[0]).name} gagal (kode {proc.returncode}): {text}")


# ------------------------------------------------------------------------------------------- counting

async def _pg_counts(conn: Any) -> dict[str, int]:
    names = [r["tablename"] for r in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    return {n: int(await conn.fetchval(f"SELECT count(*) FROM public.{_quote(n)}")) for n in names}  # noqa: S608


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: int(conn.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0]) for n in names}  # noqa: S608


async def database_counts(settings: Settings) -> dict[str, int]:
    """Every table of the configured database with its exact row count."""
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url, timeout=10)
        try:
            return await _pg_counts(conn)
        finally:
            await conn.close()
    path = settings.sqlite_path
    if not path.exists():
        return {}
    with sqlite3.connect(path) as conn:
        return _sqlite_counts(conn)


# --------------------------------------------------------------------------------------------- backup

async def backup(folder: Path, settings: Settings, store: ObjectStore) -> Summary:
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"Folder {folder} tidak kosong; cadangan ditulis ke folder baru atau kosong.")
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat()}
    if settings.is_postgres:
        manifest.update(await _backup_postgres(folder, settings.database_url))
    else:
        manifest.update(await asyncio.to_thread(_backup_sqlite, folder, settings.sqlite_path))
    # after the database: an object the dump points at was stored before its row committed, so it is here
    manifest["objects"] = await asyncio.to_thread(_backup_objects, folder, store)
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False))
    tmp.replace(folder / MANIFEST)
    return _summary(folder, manifest)


async def _backup_postgres(folder: Path, dsn: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        version = await conn.fetchval("SHOW server_version")
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            counts = await _pg_counts(conn)
            head = await _pg_audit_head(conn, counts)
            target = folder / PG_DUMP_FILE
            # the snapshot stays valid while this transaction is open: pg_dump sees exactly what was counted
            await _run(pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                       f"--file={target}", f"--dbname={dsn}")
    finally:
        await conn.close()
    return {"engine": "postgres", "server_version": version,
            "database": {"file": PG_DUMP_FILE, "bytes": target.stat().st_size, "sha256": _sha256_file(target)},
            "tables": counts, "audit_head": head}


async def _pg_audit_head(conn: Any, counts: dict[str, int]) -> dict[str, Any] | None:
    if "audit_head" not in counts:
        return None
    row = await conn.fetchrow("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
    return {"last_id": row["last_id"], "last_hash": row["last_hash"]} if row else None


def _backup_sqlite(folder: Path, path: Path) -> dict[str, Any]:
    if not path.exists():
        raise BackupError(f"Basis data SQLite {path} tidak ada.")
    target = folder / SQLITE_FILE
    src = sqlite3.connect(path, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page, restarted if a writer changes the source: one consistent state
        counts = _sqlite_counts(dst)
        head = None
        if "audit_head" in counts:
            row = dst.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
            head = {"last_id": row[0], "last_hash": row[1]} if row else None
    finally:
        dst.close()
        src.close()
    return {"engine": "sqlite",
            "database": {"file": SQLITE_FILE, "bytes": target.stat().st_size, "sha256": _sha256_file(target)},
            "tables": counts, "audit_head": head}


def _backup_objects(folder: Path, store: ObjectStore) -> dict[str, Any]:
    items = []
    total = 0
    for key in sorted(store.keys()):
        check_key(key)
        try:
            data = store.get(key)
            info = store.stat(key)
        except ObjectNotFound:
            continue  # deleted since it was listed (a rolled-back upload, retention): not in the backup
        path = folder / OBJECTS / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        items.append({"key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                      "content_type": info.content_type})
        total += len(data)
    return {"count": len(items), "bytes": total, "items": items}


def _summary(folder: Path, manifest: dict[str, Any]) -> Summary:
    return Summary(folder=folder, engine=manifest["engine"], tables=dict(manifest["tables"]),
                   objects=int(manifest["objects"]["count"]), object_bytes=int(manifest["objects"]["bytes"]),
                   audit_events=int(manifest["tables"].get("audit_event", 0)))


# -------------------------------------------------------------------------------------------- restore

def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} tidak ada: ini bukan cadangan jitu yang selesai.")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Format cadangan {manifest.get('format')!r} tidak dikenal (harus {FORMAT}).")
    return manifest


def check_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file of the backup is there with its recorded checksum (nothing is restored otherwise)."""
    db = manifest["database"]
    path = Path(folder) / db["file"]
    if not path.is_file() or _sha256_file(path) != db["sha256"]:
        raise BackupError(f"Berkas basis data {path} hilang atau rusak (checksum tidak cocok).")
    for item in manifest["objects"]["items"]:
        obj = Path(folder) / OBJECTS / check_key(item["key"])
        if not obj.is_file() or _sha256_file(obj) != item["sha256"]:
            raise BackupError(f"Objek {item['key']} hilang atau rusak dalam cadangan (checksum tidak cocok).")


async def restore(folder: Path, settings: Settings, store: ObjectStore) -> Summary:
    folder = Path(folder)
    manifest = read_manifest(folder)
    engine = "postgres" if settings.is_postgres else "sqlite"
    if manifest["engine"] != engine:
        raise BackupError(f"Cadangan ini dari {manifest['engine']}, sedangkan tujuan {engine}. "
                          "Pindah mesin basis data tidak dilakukan oleh jitu restore.")
    await asyncio.to_thread(check_files, folder, manifest)
    existing = await database_counts(settings)
    if existing:
        raise BackupError(f"Basis data tujuan tidak kosong ({len(existing)} tabel, "
                          f"{sum(existing.values())} baris): pemulihan hanya ke basis data kosong.")
    await asyncio.to_thread(_check_store, store, manifest)
    if engine == "postgres":
        await _run(pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                   "--single-transaction", "--no-password", f"--dbname={settings.database_url}",
                   str(folder / manifest["database"]["file"]))
    else:
        await asyncio.to_thread(_restore_sqlite, folder / manifest["database"]["file"], settings.sqlite_path)
    await asyncio.to_thread(_restore_objects, folder, store, manifest)
    summary = _summary(folder, manifest)
    counts = await database_counts(settings)
    if counts != manifest["tables"]:
        diff = {t: (manifest["tables"].get(t), counts.get(t)) for t in set(counts) | set(manifest["tables"])
                if counts.get(t) != manifest["tables"].get(t)}
        raise BackupError(f"Jumlah baris setelah pemulihan tidak cocok dengan manifest: {diff}")
    if await audit_head(settings) != manifest["audit_head"]:
        raise BackupError("Kepala rantai audit setelah pemulihan berbeda dari manifest.")
    missing = [i["key"] for i in manifest["objects"]["items"] if not store.exists(i["key"])]
    if missing:
        raise BackupError(f"{len(missing)} objek tidak ada di penyimpanan setelah pemulihan, mis. {missing[0]}.")
    return summary


async def audit_head(settings: Settings) -> dict[str, Any] | None:
    """The audit chain's head row (newest event id and hash) of the configured database."""
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url, timeout=10)
        try:
            row = await conn.fetchrow("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        finally:
            await conn.close()
        return {"last_id": row["last_id"], "last_hash": row["last_hash"]} if row else None
    with sqlite3.connect(settings.sqlite_path) as conn:
        found = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
    return {"last_id": found[0], "last_hash": found[1]} if found else None


def _check_store(store: ObjectStore, manifest: dict[str, Any]) -> None:
    """An object already in the store under a backed-up key must be the same bytes; otherwise refuse
    before anything is written (never overwrite another deployment's file)."""
    for item in manifest["objects"]["items"]:
        if store.exists(item["key"]) and hashlib.sha256(store.get(item["key"])).hexdigest() != item["sha256"]:
            raise BackupError(f"Penyimpanan objek tujuan sudah memuat {item['key']} dengan isi lain.")


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".restore", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        for suffix in ("-wal", "-shm"):  # an empty database's journal must not be replayed onto the copy
            Path(str(target) + suffix).unlink(missing_ok=True)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _restore_objects(folder: Path, store: ObjectStore, manifest: dict[str, Any]) -> None:
    for item in manifest["objects"]["items"]:
        if store.exists(item["key"]):
            continue  # checked above: the same bytes
        data = (folder / OBJECTS / item["key"]).read_bytes()
        store.put(item["key"], data, item["content_type"])
