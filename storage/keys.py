"""Key rotation: a new key, everything the old keys protect moved under it by a resumable background job,
the old keys dropped only once nothing needs them (``jitu keys rotate | resume | status | retire``).

What a key protects, and what the job does with it:

- NIK, No. KK, an applicant's NIK, a complainant's contact (``*_cipher``) and an account's TOTP secret
  (``account_totp.secret``, bound to its account id): decrypted with the key their prefix names and
  encrypted again under the new key;
- the lookup hashes beside NIK and No. KK (``*_hash``): computed again from the plain number, in the same
  statement as the ciphertext, so a row's hash always belongs to the key of its ciphertext. Until the job
  is done, look-ups search the hash under each readable key (``KeyRing.lookup_hashes``);
- the audit chain: each event is checked under the key that hashed it, then re-chained under the new key,
  oldest first (``marketplace/audit.py``: the seam between re-chained and not yet re-chained events is
  kept here, so ``jitu audit verify`` passes at every point of the rotation). A broken chain stops the
  rotation: re-chaining it would hide the tampering;
- CSRF tokens and download links: signed with the active key; download links signed with an older key
  stay valid while it is readable. Sessions are server-side random ids: no key is involved.

Every batch is one transaction that also moves the rotation's cursor (``key_rotation.state``), so a job
killed at any point resumes from its last committed batch and a batch is never applied twice. Rows that
a process still holding the old ring wrote during the pass are picked up by a final sweep.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from marketplace.audit import GENESIS, AuditEvent, Seam, canonical, chain_hash
from storage import setwise
from storage.audit import stored_event
from storage.crypto import (
    BOOTSTRAP,
    KeyRing,
    KeyRingError,
    key_of,
    keys_path,
    new_key_entry,
    read_key_file,
    vault,
    write_key_file,
)
from storage.jobs import JobContext, job_handler, job_queue
from storage.tables import AuditEvent as AuditRow
from storage.tables import AuditHead, KeyRotation
from storage.uow import unit_of_work

log = logging.getLogger("jitu.keys")
JOB_KIND = "keys.rotate"
BATCH = 2000
_AUDIT_LOCK = 727301  # the audit chain's advisory lock (storage/audit.py): appends wait for a re-chain batch
_SWEEPS = 5


@dataclass(frozen=True)
class Target:
    """A column of ciphertexts, with the lookup-hash column beside it if it has one."""

    table: str
    cipher: str
    hash: str | None = None
    context: str | None = None
    """A column whose value, after ``context_prefix``, is the ciphertext's associated data (bound to it)."""
    context_prefix: str = ""

    def context_of(self, row: dict[str, Any]) -> bytes:
        return f"{self.context_prefix}{row['ctx']}".encode() if self.context else b""

    def columns(self) -> str:
        """The id, the ciphertext as ``c`` and the context as ``ctx`` (SQL)."""
        return f"id, {self.cipher} AS c" + (f", {self.context} AS ctx" if self.context else "")


TARGETS = (
    Target("household", "kk_cipher", "kk_hash"),
    Target("member", "nik_cipher", "nik_hash"),
    Target("service_request", "applicant_nik_cipher"),
    Target("complaint", "contact_cipher"),
    Target("account_totp", "secret", context="account", context_prefix="totp:"),  # storage/logins/second_factor
)
"""The only names that go into SQL text here (values always go as parameters)."""


class RotationError(ValueError):
    """A rotation cannot start, go on or be retired; the message (Indonesian) says why and what to do."""


def _is_postgres() -> bool:
    return setwise.is_postgres()


def _transaction() -> Any:
    engine = engine_finder()
    assert engine is not None, "PICCOLO_CONF names no engine"
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def _loads(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return dict(json.loads(value)) if value else {}


def _initial_state() -> dict[str, Any]:
    return {"tables": {t.table: {"cursor": 0, "done": 0} for t in TARGETS},
            "audit": {"cursor": 0, "old": GENESIS, "new": GENESIS, "done": False, "count": 0},
            "sweeps": 0}


def _other_keys(t: Target, key_id: str) -> tuple[str, str]:
    """A condition (and its one parameter) for rows of ``t`` holding data not under ``key_id``. A ``k0``
    ciphertext has no prefix, and base64 has no ``:``: any ciphertext with one is under a later key."""
    if key_id == BOOTSTRAP:
        return f"{t.cipher} LIKE {{}}", "%:%"
    return f"{t.cipher} <> '' AND {t.cipher} NOT LIKE {{}}", f"{key_id}:%"


# --------------------------------------------------------------------------------------------- queries


async def _count(sql: str, *args: Any) -> int:
    rows = await setwise.raw(sql, *args)
    return int(rows[0]["n"]) if rows else 0


async def leftovers(target_key: str) -> dict[str, int]:
    """Rows per table (and audit events) not yet under ``target_key``: all zero when a rotation is done."""
    out = {}
    for t in TARGETS:
        where, arg = _other_keys(t, target_key)
        out[t.table] = await _count(f"SELECT COUNT(*) AS n FROM {t.table} WHERE {where}", arg)  # noqa: S608
    out["audit_event"] = await _count("SELECT COUNT(*) AS n FROM audit_event WHERE key_id <> {}", target_key)
    return out


async def running_rotation() -> dict[str, Any] | None:
    row = await KeyRotation.select().where(KeyRotation.status == "running").order_by(
        KeyRotation.id, ascending=False).first()
    if row is not None:
        row["state"] = _loads(row["state"])
    return row


async def current_seam() -> Seam | None:
    """Where a rotation under way stands in the audit chain (None: no seam, the chain is whole)."""
    row = await running_rotation()
    if row is None:
        return None
    audit = row["state"].get("audit", {})
    if audit.get("done") or not audit.get("cursor"):
        return None
    return Seam(int(audit["cursor"]), str(audit["old"]), str(audit["new"]))


async def check_readable(ring: KeyRing | None = None) -> None:
    """Open the oldest and newest ciphertext of each table and re-hash the newest audit event with the
    keys they name: a wrong or missing key fails here, with a message naming it, before anything changes."""
    ring = ring or vault()
    for t in TARGETS:
        for order in ("ASC", "DESC"):
            rows = await setwise.raw(
                f"SELECT {t.columns()} FROM {t.table} WHERE {t.cipher} <> '' ORDER BY id {order} LIMIT 1")  # noqa: S608
            if rows:
                try:
                    ring.decrypt(rows[0]["c"], t.context_of(rows[0]))
                except KeyRingError as exc:
                    raise KeyRingError(f"{t.table}.{t.cipher}: {exc}") from None
    last = await AuditRow.select().order_by(AuditRow.id, ascending=False).first()
    if last is not None:
        ev = stored_event(last)
        key = ring.keys.get(ev.key_id)
        if key is None:
            raise KeyRingError(f"Jejak audit: kunci {ev.key_id} yang meng-hash peristiwa #{ev.id} tidak ada di "
                               f"ring kunci ({ring.source})")
        if chain_hash(key.audit_key, ev.prev_hash, canonical(ev.id, ev.occurred_at, ev.event)) != ev.hash:
            raise KeyRingError(f"Jejak audit: peristiwa #{ev.id} tidak cocok dengan kunci {ev.key_id}: kunci salah "
                               "(SECRET_KEY atau berkas kunci tidak cocok dengan data ini)")


# ----------------------------------------------------------------------------------------- use cases


async def start_rotation(actor: str = "system", batch: int = BATCH) -> tuple[int, int]:
    """Add a new key, make it the active one, and start the job that moves everything under it.
    Returns (rotation id, job id)."""
    if await running_rotation() is not None:
        raise RotationError("Rotasi kunci sebelumnya belum selesai: lanjutkan dengan `jitu keys resume`.")
    ring = vault()
    await check_readable(ring)
    path = keys_path()
    kf = read_key_file(path)
    new_id = kf.next_id()
    kf.keys[new_id] = new_key_entry()
    kf.active = new_id
    write_key_file(path, kf)  # from here on every process writes under the new key and looks up under all
    log.info("key %s added to %s and made active", new_id, path)
    return await _begin(new_id, actor, batch, previous=ring.active_id)


async def _begin(target: str, actor: str, batch: int, previous: str) -> tuple[int, int]:
    async with unit_of_work() as uow:
        rows = await KeyRotation.insert(KeyRotation(target_key=target, state=_initial_state())).returning(
            KeyRotation.id)
        rotation_id = int(rows[0]["id"])
        await uow.record(AuditEvent(actor, "keys.rotate", "key_rotation", str(rotation_id),
                                    {"active_key": previous}, {"active_key": target}))
    return rotation_id, await _enqueue(rotation_id, batch)


async def _enqueue(rotation_id: int, batch: int) -> int:
    job_id = await job_queue().enqueue(JOB_KIND, {"rotation": rotation_id, "batch": batch})
    await KeyRotation.update({KeyRotation.job: job_id}).where(KeyRotation.id == rotation_id)
    return job_id


async def resume_rotation(actor: str = "system", batch: int = BATCH) -> tuple[int, int]:
    """Start the job again for the rotation under way (after a crash, a time limit or a kill). Also
    begins the rotation if ``rotate`` died between writing the new key and recording the rotation."""
    row = await running_rotation()
    ring = vault()
    if row is not None:
        if row["target_key"] != ring.active_id:
            raise RotationError(f"Rotasi #{row['id']} menuju kunci {row['target_key']}, tetapi kunci aktif di "
                                f"berkas kunci adalah {ring.active_id}: berkas kunci tidak cocok.")
        return int(row["id"]), await _enqueue(int(row["id"]), batch)
    if ring.active_id != BOOTSTRAP and any((await leftovers(ring.active_id)).values()):
        return await _begin(ring.active_id, actor, batch, previous="?")
    raise RotationError("Tidak ada rotasi kunci yang perlu dilanjutkan.")


async def retire_old_keys(actor: str = "system") -> list[str]:
    """Drop every key but the active one, once nothing is left under them; returns the ids dropped."""
    if (row := await running_rotation()) is not None:
        raise RotationError(f"Rotasi #{row['id']} belum selesai: kunci lama masih diperlukan untuk membaca data.")
    ring = vault()
    rest = {k: v for k, v in (await leftovers(ring.active_id)).items() if v}
    if rest:
        listed = ", ".join(f"{k} {v}" for k, v in rest.items())
        raise RotationError(f"Masih ada data di bawah kunci lama ({listed}): jalankan `jitu keys resume`.")
    old = [k for k in ring.keys if k != ring.active_id]
    if not old:
        return []
    path = keys_path()
    kf = read_key_file(path)
    for key_id in old:
        kf.keys.pop(key_id, None)  # the secret is gone from the file; k0's is SECRET_KEY (remove it there)
        if key_id not in kf.retired:
            kf.retired.append(key_id)
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(actor, "keys.retire", "key_ring", ring.active_id,
                                    {"readable": sorted(ring.keys)}, {"readable": [ring.active_id]}))
        await KeyRotation.update({KeyRotation.status: "retired"}).where(KeyRotation.status == "done")
        write_key_file(path, kf)  # inside: if the file cannot be written, the audit event is not kept
    return old


async def status() -> dict[str, Any]:
    """The ring, the latest rotation and, per table, rows under the active key out of rows with data."""
    ring = vault()
    latest = await KeyRotation.select().order_by(KeyRotation.id, ascending=False).first()
    tables: dict[str, tuple[int, int]] = {}
    for t in TARGETS:
        total = await _count(f"SELECT COUNT(*) AS n FROM {t.table} WHERE {t.cipher} <> ''")  # noqa: S608
        where, arg = _other_keys(t, ring.active_id)
        rest = await _count(f"SELECT COUNT(*) AS n FROM {t.table} WHERE {where}", arg)  # noqa: S608
        tables[t.table] = (total - rest, total)
    events = await AuditRow.count()
    seam = await current_seam()
    audit_done = await (AuditRow.count().where(AuditRow.id <= seam.after_id) if seam else
                        AuditRow.count().where(AuditRow.key_id == ring.active_id))
    tables["audit_event"] = (audit_done, events)
    out: dict[str, Any] = {"active": ring.active_id, "readable": sorted(ring.keys), "file": ring.source,
                           "tables": tables, "rotation": None}
    if latest is not None:
        from storage.tables import Job

        job = await Job.select(Job.id, Job.status, Job.progress, Job.message).where(
            Job.id == (latest["job"] or 0)).first()
        out["rotation"] = {"id": latest["id"], "target": latest["target_key"], "status": latest["status"],
                           "message": latest["message"], "job": job}
    return out


# ------------------------------------------------------------------------------------------ the job


async def _lock_state(rotation_id: int) -> dict[str, Any]:
    lock = " FOR UPDATE" if _is_postgres() else ""
    rows = await setwise.raw(f"SELECT status, target_key, state FROM key_rotation WHERE id = {{}}{lock}",  # noqa: S608
                             rotation_id)
    if not rows or rows[0]["status"] != "running":
        raise RotationError(f"Rotasi #{rotation_id} tidak sedang berjalan.")
    return {"target": rows[0]["target_key"], **_loads(rows[0]["state"])}


async def _save_state(rotation_id: int, state: dict[str, Any]) -> None:
    body = {k: v for k, v in state.items() if k != "target"}
    await KeyRotation.update({KeyRotation.state: body}).where(KeyRotation.id == rotation_id)


async def rekey_batch(rotation_id: int, t: Target, ring: KeyRing, batch: int) -> int:
    """Move the next ``batch`` rows of ``t`` under the active key, in one transaction with the cursor;
    returns how many rows it took (0: the table is done for this pass)."""
    async with _transaction():
        state = await _lock_state(rotation_id)
        place = state["tables"].setdefault(t.table, {"cursor": 0, "done": 0})
        where, arg = _other_keys(t, ring.active_id)
        rows = await setwise.raw(
            f"SELECT {t.columns()} FROM {t.table} WHERE id > {{}} AND {where} "  # noqa: S608
            f"ORDER BY id LIMIT {int(batch)}", place["cursor"], arg)
        if not rows:
            return 0
        active = ring.active
        values: list[tuple[Any, ...]] = []
        for row in rows:
            old = row["c"]
            try:
                context = t.context_of(row)
                plain = ring.key(key_of(old)).decrypt(old, context)
            except KeyRingError as exc:
                raise KeyRingError(f"{t.table} #{row['id']}: {exc}") from None
            values.append((row["id"], active.encrypt(plain, context), active.hash(plain) if t.hash else "", old))
        table, params = setwise.rows(["int", "text", "text", "text"], values)
        sets = f"{t.cipher} = v.c1" + (f", {t.hash} = v.c2" if t.hash else "")
        await setwise.raw(
            f"UPDATE {t.table} SET {sets} FROM {table} AS v "  # noqa: S608
            f"WHERE {t.table}.id = v.c0 AND {t.table}.{t.cipher} = v.c3", *params)
        place["cursor"] = int(rows[-1]["id"])
        place["done"] = int(place["done"]) + len(rows)
        await _save_state(rotation_id, state)
        return len(rows)


async def rechain_batch(rotation_id: int, ring: KeyRing, batch: int) -> int:
    """Check the next ``batch`` audit events under their own keys and re-chain them under the active key,
    holding the chain's lock so no event is appended meanwhile; returns how many it took (0: the chain is
    re-chained up to its head, which now carries the new hash)."""
    async with _transaction():
        if _is_postgres():
            await AuditRow.raw("SELECT pg_advisory_xact_lock({})", _AUDIT_LOCK)
        state = await _lock_state(rotation_id)
        audit = state["audit"]
        if audit["done"]:
            return 0
        rows = await AuditRow.select().where(AuditRow.id > audit["cursor"]).order_by(AuditRow.id).limit(batch)
        head = await AuditHead.select().where(AuditHead.id == 1).first()
        key = ring.active.audit_key
        old_prev, new_prev = str(audit["old"]), str(audit["new"])
        values: list[tuple[Any, ...]] = []
        for row in rows:
            ev = stored_event(row)
            payload = canonical(ev.id, ev.occurred_at, ev.event)
            own = ring.keys.get(ev.key_id)
            if ev.prev_hash != old_prev or own is None or chain_hash(own.audit_key, ev.prev_hash, payload) != ev.hash:
                why = f"kunci {ev.key_id} tidak ada" if own is None else "rantai tidak utuh"
                raise RotationError(
                    f"Jejak audit rusak pada peristiwa #{ev.id} ({why}): rotasi berhenti agar perubahan itu tidak "
                    "tertutupi. Periksa dengan `jitu audit verify`.")
            new_hash = chain_hash(key, new_prev, payload)
            values.append((ev.id, new_prev, new_hash))
            old_prev, new_prev = ev.hash, new_hash
        if values:
            table, params = setwise.rows(["int", "text", "text"], values)
            await setwise.raw(
                f"UPDATE audit_event SET prev_hash = v.c1, hash = v.c2, key_id = {setwise.param('text')} "  # noqa: S608
                f"FROM {table} AS v WHERE audit_event.id = v.c0", ring.active_id, *params)
            audit["cursor"] = values[-1][0]
            audit["count"] = int(audit.get("count", 0)) + len(values)
        audit["old"], audit["new"] = old_prev, new_prev
        if head is None or int(head["last_id"]) <= int(audit["cursor"]):
            if head is not None:
                if head["last_hash"] != old_prev:
                    raise RotationError("Kepala rantai audit tidak cocok dengan peristiwa terakhir: rotasi berhenti. "
                                        "Periksa dengan `jitu audit verify`.")
                await AuditHead.update({AuditHead.last_hash: new_prev}).where(AuditHead.id == 1)
            audit["done"] = True
        await _save_state(rotation_id, state)
        return len(values)


async def _reopen(rotation_id: int, ring: KeyRing) -> bool:
    """After a pass: rows still under an old key (written by a process that had not yet seen the new key)
    send the cursors back for another pass. Returns whether anything was left."""
    rest = await leftovers(ring.active_id)
    if not any(rest.values()):
        return False
    async with _transaction():
        state = await _lock_state(rotation_id)
        for t in TARGETS:
            if rest[t.table]:
                state["tables"].setdefault(t.table, {"cursor": 0, "done": 0})["cursor"] = 0
        if rest["audit_event"]:
            first = await AuditRow.select(AuditRow.id).where(AuditRow.key_id != ring.active_id).order_by(
                AuditRow.id).first()
            before = await AuditRow.select(AuditRow.id, AuditRow.hash).where(AuditRow.id < first["id"]).order_by(
                AuditRow.id, ascending=False).first() if first else None
            mark = before["hash"] if before else GENESIS
            state["audit"].update(cursor=before["id"] if before else 0, old=mark, new=mark, done=False)
        state["sweeps"] = int(state.get("sweeps", 0)) + 1
        await _save_state(rotation_id, state)
    log.warning("key rotation %s: rows left under old keys after a pass: %s", rotation_id, rest)
    return True


async def run_rotation(rotation_id: int, batch: int = BATCH,
                       progress: Callable[[int, int, str], Any] | None = None) -> dict[str, Any]:
    """Run the rotation to its end from wherever its cursors stand."""
    ring = vault()
    row = await KeyRotation.select().where(KeyRotation.id == rotation_id).first()
    if row is None or row["status"] != "running":
        raise RotationError(f"Rotasi #{rotation_id} tidak sedang berjalan.")
    if row["target_key"] != ring.active_id:
        raise RotationError(f"Rotasi #{rotation_id} menuju kunci {row['target_key']}, tetapi kunci aktif adalah "
                            f"{ring.active_id}: berkas kunci tidak cocok.")
    remaining = await leftovers(ring.active_id)
    total = sum(remaining.values()) or 1
    moved = 0
    seconds: dict[str, float] = {}
    try:
        for _ in range(_SWEEPS):
            for t in TARGETS:
                started = time.perf_counter()
                while n := await rekey_batch(rotation_id, t, ring, batch):
                    moved += n
                    if progress:
                        await progress(moved, total, t.table)
                seconds[t.table] = seconds.get(t.table, 0.0) + time.perf_counter() - started
            started = time.perf_counter()
            while n := await rechain_batch(rotation_id, ring, batch):
                moved += n
                if progress:
                    await progress(moved, total, "audit_event")
            seconds["audit_event"] = seconds.get("audit_event", 0.0) + time.perf_counter() - started
            if not await _reopen(rotation_id, ring):
                break
        else:
            raise RotationError("Masih ada baris yang ditulis dengan kunci lama setelah beberapa putaran: "
                                "pastikan semua proses portal dan pekerja membaca berkas kunci yang sama.")
    except Exception as exc:
        await KeyRotation.update({KeyRotation.message: str(exc)[:500]}).where(KeyRotation.id == rotation_id)
        raise
    state = _loads((await KeyRotation.select(KeyRotation.state).where(KeyRotation.id == rotation_id).first()
                    or {}).get("state"))
    result = {"rotation": rotation_id, "key": ring.active_id, "rows": moved,
              "tables": {k: v["done"] for k, v in state["tables"].items()},
              "audit_events": state["audit"].get("count", 0),
              "seconds": {k: round(v, 3) for k, v in seconds.items()}}
    async with unit_of_work() as uow:  # the chain's lock before the rotation row's, as in rechain_batch
        await uow.record(AuditEvent("system", "keys.rotated", "key_rotation", str(rotation_id), None, result))
        await KeyRotation.update({KeyRotation.status: "done", KeyRotation.finished_at: datetime.now(UTC),
                                  KeyRotation.message: ""}).where(KeyRotation.id == rotation_id)
    return result


@job_handler(JOB_KIND)
async def _rotation_job(ctx: JobContext) -> dict[str, Any]:
    async def report(done: int, total: int, table: str) -> None:
        # events appended during the rotation are re-chained too: the total can grow by a few
        await ctx.progress(min(99, done * 100 // total), f"{table}: {done} dari {max(done, total)} baris")

    return await run_rotation(int(ctx.payload["rotation"]), int(ctx.payload.get("batch", BATCH)), report)
