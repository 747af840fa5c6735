"""Bulk import of DTKS / DTSEN exports and government aid lists (CSV or XLSX).

Rows are validated by ``marketplace.dtks``; households are then written in batches, each batch in its
own transaction with one lookup query for its No. KK hashes and one for its NIK hashes (never one query
per row). Re-importing a file changes nothing: households are upserted by the keyed hash of the No. KK
and members by the hash of the NIK; a member absent from a newer file is kept (a rejected row must not
delete a person). PostgreSQL uses COPY, SQLite ``executemany``. One audit event per import, with counts.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from piccolo.engine import engine_finder

from marketplace import dtks
from marketplace.audit import AuditEvent
from marketplace.vocabulary import Kind
from storage.crypto import IdentityVault, vault
from storage.jobs import JobContext, job_handler
from storage.tables import GovernmentAid, GovernmentProgram, Household
from storage.uow import unit_of_work

BATCH = 5000
ProgressFn = Callable[[int, str], Awaitable[None]]
ENCRYPT_WORKERS = 2
PARALLEL_MIN = 20_000


@dataclass
class ImportReport:
    layout: str = ""
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    members: int = 0
    rejected: list[dtks.Rejection] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"layout": self.layout, "rows": self.rows, "imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "members": self.members, "rejected": len(self.rejected)}

    def as_result(self, limit: int = 500) -> dict[str, Any]:
        result = self.summary()
        result["rejections"] = [{"row": r.row, "reason": r.reason} for r in sorted(
            self.rejected, key=lambda r: r.row)[:limit]]
        return result


# ---------------------------------------------------------------------------------------------- files


def read_rows(path: Path) -> Iterator[Sequence[object]]:
    """The header then the rows, from CSV (comma or semicolon, UTF-8 with or without BOM) or XLSX."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            yield from book.worksheets[0].iter_rows(values_only=True)
        finally:
            book.close()
        return
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        handle.seek(0)
        yield from csv.reader(handle, delimiter=delimiter)


def template_csv(header: list[str], example: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(example)
    return out.getvalue().encode("utf-8")


def template_xlsx(header: list[str], example: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in example:
        sheet.append(row)
    for column in sheet.iter_cols(min_row=1, max_row=sheet.max_row):
        for cell in column:
            cell.number_format = "@"  # text: Excel must not turn a NIK into 3.27303E+15
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


DTKS_EXAMPLE = [
    ["3273030101200001", "3273031203850001", "Budi Santoso", "1985-03-12", "L", "kepala", "",
     "Jl. Contoh No. 1", "001", "002", "32.73.03.1001", "2", "Ya"],
    ["3273030101200001", "3273035508870002", "Siti Aminah", "1987-08-15", "P", "istri", "",
     "Jl. Contoh No. 1", "001", "002", "32.73.03.1001", "2", "Ya"],
]
AID_EXAMPLE = [["PKH", "3273030101200001", "tunai", "2026-11", "750000"]]


# ------------------------------------------------------------------------------------------- crypto


def _encrypt_many(key: bytes, values: list[str], prefix: str = "") -> list[str]:
    """The same format as ``IdentityVault.encrypt`` (key-id prefix, nonce + AES-GCM, base64), one cipher
    object."""
    aead = AESGCM(key)
    out = []
    for value in values:
        nonce = os.urandom(12)
        out.append(prefix + base64.b64encode(nonce + aead.encrypt(nonce, value.encode(), b"")).decode())
    return out


class _Encryptor:
    """Encrypts in 2 worker processes for big imports (AES-GCM + base64 is CPU-bound)."""

    def __init__(self, parallel: bool) -> None:
        self.use(vault().active)
        self.pool = ProcessPoolExecutor(ENCRYPT_WORKERS) if parallel else None

    def use(self, active: IdentityVault) -> None:
        """Encrypt under this key (the ring's active one: a rotation may start during an import)."""
        self.key_id, self.key, self.prefix = active.key_id, active.enc_key, active.prefix

    async def encrypt(self, values: list[str]) -> list[str]:
        if self.pool is None or len(values) < 2000:
            return _encrypt_many(self.key, values, self.prefix)
        import asyncio

        loop = asyncio.get_running_loop()
        half = len(values) // 2
        parts = await asyncio.gather(
            loop.run_in_executor(self.pool, _encrypt_many, self.key, values[:half], self.prefix),
            loop.run_in_executor(self.pool, _encrypt_many, self.key, values[half:], self.prefix),
        )
        return parts[0] + parts[1]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


# --------------------------------------------------------------------------------------- connection


class _Db:
    """A raw connection of the configured engine: asyncpg or aiosqlite, ``?`` placeholders."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    @classmethod
    async def open(cls) -> _Db:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            return cls(await engine.get_new_connection(), True)  # type: ignore[attr-defined]
        conn = await engine.get_connection()  # type: ignore[attr-defined]
        conn.row_factory = None
        return cls(conn, False)

    def _sql(self, sql: str) -> str:
        if not self.postgres:
            return sql
        parts = sql.split("?")
        return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    async def begin(self) -> None:
        await self.conn.execute("BEGIN")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK")

    async def fetch_in(self, sql: str, values: list[str]) -> list[tuple[Any, ...]]:
        """``sql`` ends with ``IN_LIST``: replaced by ``= ANY($1)`` or an ``IN (?, …)`` list."""
        if not values:
            return []
        if self.postgres:
            rows = await self.conn.fetch(sql.replace("IN_LIST", "= ANY($1::text[])"), values)
            return [tuple(r) for r in rows]
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 30000):
            part = values[start:start + 30000]
            query = sql.replace("IN_LIST", "IN (" + ",".join("?" * len(part)) + ")")
            async with self.conn.execute(query, part) as cursor:
                out.extend(tuple(r) for r in await cursor.fetchall())
        return out

    async def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            await self.conn.copy_records_to_table(table, records=rows, columns=columns)
            return
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608
        await self.conn.executemany(sql, rows)

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self.conn.executemany(self._sql(sql), rows)

    async def close(self) -> None:
        await self.conn.close()


# ------------------------------------------------------------------------------------------- import

_HH_COLUMNS = ["kk_cipher", "kk_hash", "kelurahan_code", "address", "rt", "rw", "phone", "desil", "extreme_poor",
               "source", "legal_basis", "created_at", "updated_at"]
_MEMBER_COLUMNS = ["household", "nik_cipher", "nik_hash", "name", "birth_date", "sex", "relation", "disability"]


def _member_key(m: dtks.MemberRow) -> tuple[Any, ...]:
    return (m.name, m.birth_date, m.sex, m.relation, m.disability)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def _write_batch(db: _Db, enc: _Encryptor, batch: list[dtks.ParsedHousehold], source: str,
                       report: ImportReport) -> None:
    keys = vault()
    if keys.active_id != enc.key_id:
        enc.use(keys.active)  # ciphertext and hash of a row always under one key
    now = datetime.now(UTC)
    kk_hash = {p.household.kk: keys.hash(p.household.kk) for p in batch}
    nik_hash = {m.nik: keys.hash(m.nik) for p in batch for m in p.members}
    # while a key rotation is under way a row may still carry an older key's hash: look up under every
    # readable key, file what is found under the active key's hash
    kk_any = keys.lookup_map(kk_hash)
    nik_any = keys.lookup_map(nik_hash)
    existing_hh = {
        kk_any[r[1]]: r for r in await db.fetch_in(
            "SELECT id, kk_hash, kelurahan_code, address, rt, rw, desil, extreme_poor FROM household "
            "WHERE kk_hash IN_LIST", list(kk_any))
    }
    existing_m = {
        nik_any[r[1]]: r for r in await db.fetch_in(
            "SELECT household, nik_hash, name, birth_date, sex, relation, disability, id FROM member "
            "WHERE nik_hash IN_LIST", list(nik_any))
    }
    new_households: list[dtks.ParsedHousehold] = []
    hh_updates: list[tuple[Any, ...]] = []
    m_updates: list[tuple[Any, ...]] = []
    m_inserts: list[tuple[dtks.MemberRow, int | None, str]] = []  # member, household id (None: new), kk
    for parsed in batch:
        h = parsed.household
        row = existing_hh.get(kk_hash[h.kk])
        household_id = row[0] if row else None
        members: list[dtks.MemberRow] = []
        for m in parsed.members:
            found = existing_m.get(nik_hash[m.nik])
            if found is not None and found[0] != household_id:
                report.rejected.append(dtks.Rejection(m.row, "NIK sudah terdaftar pada KK lain di basis data"))
                continue
            members.append(m)
        if not members and row is None:
            continue
        report.members += len(members)
        changed = False
        if row is None:
            new_households.append(dtks.ParsedHousehold(h, parsed.first_row, members))
            report.imported += 1
            continue
        if (row[2], row[3], row[4], row[5], int(row[6]), bool(row[7])) != (
            h.kelurahan_code, h.address, h.rt, h.rw, h.desil, h.extreme_poor
        ):
            hh_updates.append((h.kelurahan_code, h.address, h.rt, h.rw, h.desil, h.extreme_poor, now, household_id))
            changed = True
        for m in members:
            found = existing_m.get(nik_hash[m.nik])
            if found is None:
                m_inserts.append((m, household_id, h.kk))
                changed = True
            elif (found[2], _as_date(found[3]), found[4], found[5], found[6]) != _member_key(m):
                m_updates.append((*_member_key(m), found[7]))
                changed = True
        if changed:
            report.updated += 1
            if not hh_updates or hh_updates[-1][-1] != household_id:
                hh_updates.append((h.kelurahan_code, h.address, h.rt, h.rw, h.desil, h.extreme_poor, now,
                                   household_id))
        else:
            report.unchanged += 1

    kk_ciphers = await enc.encrypt([p.household.kk for p in new_households])
    for p in new_households:
        m_inserts.extend((m, None, p.household.kk) for m in p.members)
    nik_ciphers = await enc.encrypt([m.nik for m, _, _ in m_inserts])

    await db.begin()
    try:
        await db.insert("household", _HH_COLUMNS, [
            (cipher, kk_hash[p.household.kk], p.household.kelurahan_code, p.household.address, p.household.rt,
             p.household.rw, "", p.household.desil, p.household.extreme_poor, source, "public_task", now, now)
            for p, cipher in zip(new_households, kk_ciphers, strict=True)
        ])
        new_ids: dict[str, int] = {}
        if new_households:
            rows = await db.fetch_in("SELECT kk_hash, id FROM household WHERE kk_hash IN_LIST",
                                     [kk_hash[p.household.kk] for p in new_households])
            new_ids = {r[0]: int(r[1]) for r in rows}
        await db.insert("member", _MEMBER_COLUMNS, [
            (hid if hid is not None else new_ids[kk_hash[kk]], cipher, nik_hash[m.nik], m.name, m.birth_date, m.sex,
             m.relation, m.disability)
            for (m, hid, kk), cipher in zip(m_inserts, nik_ciphers, strict=True)
        ])
        await db.executemany(
            "UPDATE household SET kelurahan_code = ?, address = ?, rt = ?, rw = ?, desil = ?, extreme_poor = ?, "
            "updated_at = ? WHERE id = ?", hh_updates)
        await db.executemany(
            "UPDATE member SET name = ?, birth_date = ?, sex = ?, relation = ?, disability = ? WHERE id = ?",
            m_updates)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise


async def import_dtks(path: Path, actor: str, progress: ProgressFn | None = None) -> ImportReport:
    """Validate and import one DTKS or DTSEN export; ``dtks.LayoutError`` if the header is unknown."""
    rows = read_rows(path)
    try:
        header = next(rows)
    except StopIteration:
        raise dtks.LayoutError("Berkas kosong: baris judul tidak ada") from None
    layout = dtks.detect_layout(header)
    report = ImportReport(layout=layout.name)
    validator = dtks.FileValidator(layout)
    for number, values in enumerate(rows, start=2):
        if any(v not in (None, "") for v in values):
            validator.feed(number, values)
            if progress and validator.rows % 100_000 == 0:
                await progress(min(30, validator.rows // 40_000), f"{validator.rows:,} baris dibaca".replace(",", "."))
    report.rows = validator.rows
    report.rejected.extend(validator.rejections)
    households = validator.take()
    enc = _Encryptor(parallel=len(households) >= PARALLEL_MIN)
    db = await _Db.open()
    try:
        for start in range(0, len(households), BATCH):
            await _write_batch(db, enc, households[start:start + BATCH], layout.name, report)
            if progress:
                done = min(start + BATCH, len(households))
                await progress(30 + 69 * done // max(len(households), 1),
                               f"{done:,} dari {len(households):,} keluarga ditulis".replace(",", "."))
    finally:
        enc.close()
        await db.close()
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(actor, "registry.import_dtks", "household", "import", None, report.summary()))
    return report


# ---------------------------------------------------------------------------------------------- aid


async def import_aid(path: Path, actor: str, progress: ProgressFn | None = None) -> ImportReport:
    """Government aid rows: upsert by (household, programme, kind, period); the amount is updated."""
    rows = read_rows(path)
    try:
        header = next(rows)
    except StopIteration:
        raise dtks.LayoutError("Berkas kosong: baris judul tidak ada") from None
    columns = dtks.aid_columns(header)
    report = ImportReport(layout="bantuan")
    programs = {r["code"]: r["active"] for r in await GovernmentProgram.select(
        GovernmentProgram.code, GovernmentProgram.active)}
    kinds = [k.value for k in Kind]
    parsed: list[dtks.AidRow] = []
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue
        report.rows += 1
        try:
            aid = dtks.parse_aid(values, columns, number, kinds)
        except dtks.RowError as exc:
            report.rejected.append(dtks.Rejection(number, str(exc)))
            continue
        if aid.program not in programs:
            report.rejected.append(dtks.Rejection(number, f"Kode program tidak dikenal: {aid.program}"))
        elif not programs[aid.program]:
            report.rejected.append(dtks.Rejection(number, f"Program {aid.program} sudah tidak aktif"))
        else:
            parsed.append(aid)
    keys = vault()
    for start in range(0, len(parsed), BATCH):
        batch = parsed[start:start + BATCH]
        hashes = {a.kk: keys.hash(a.kk) for a in batch}
        any_key = keys.lookup_map(hashes)  # every readable key's hash -> the active key's (rotation)
        households = {any_key[r["kk_hash"]]: r["id"] for r in await Household.select(
            Household.id, Household.kk_hash).where(Household.kk_hash.is_in(list(any_key)))}
        ids = list(set(households.values())) or [0]
        existing = {
            (r["household"], r["program"], r["kind"], r["period"]): (r["id"], r["amount"])
            for r in await GovernmentAid.select().where(GovernmentAid.household.is_in(ids))
        }
        async with unit_of_work():
            for aid in batch:
                hid = households.get(hashes[aid.kk])
                if hid is None:
                    report.rejected.append(dtks.Rejection(aid.row, "No. KK belum terdaftar di DTKS jitu"))
                    continue
                key = (hid, aid.program, aid.kind, aid.period)
                found = existing.get(key)
                if found is None:
                    rows_ = await GovernmentAid.insert(GovernmentAid(
                        household=hid, program=aid.program, kind=aid.kind, period=aid.period, amount=aid.amount,
                    )).returning(GovernmentAid.id)
                    existing[key] = (rows_[0]["id"], aid.amount)
                    report.imported += 1
                elif found[1] != aid.amount:
                    await GovernmentAid.update({GovernmentAid.amount: aid.amount}).where(GovernmentAid.id == found[0])
                    existing[key] = (found[0], aid.amount)
                    report.updated += 1
                else:
                    report.unchanged += 1
        if progress:
            await progress(100 * min(start + BATCH, len(parsed)) // max(len(parsed), 1), "")
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(actor, "registry.import_aid", "government_aid", "import", None, report.summary()))
    return report


# --------------------------------------------------------------------------------------------- jobs


@job_handler("import_dtks")
async def _dtks_job(ctx: JobContext) -> dict[str, Any]:
    path = Path(ctx.payload["path"])
    try:
        report = await import_dtks(path, ctx.payload.get("actor", "portal"), ctx.progress)
    finally:
        path.unlink(missing_ok=True)
    return report.as_result()


@job_handler("import_aid")
async def _aid_job(ctx: JobContext) -> dict[str, Any]:
    path = Path(ctx.payload["path"])
    try:
        report = await import_aid(path, ctx.payload.get("actor", "portal"), ctx.progress)
    finally:
        path.unlink(missing_ok=True)
    return report.as_result()
