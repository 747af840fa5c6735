"""Fast loading of a synthetic dataset (``marketplace.synthetic``) into the database, in one transaction.

- NIK and No. KK are stored only encrypted and hashed (``storage.crypto``), never plain.
- PostgreSQL: binary ``COPY`` (asyncpg ``copy_records_to_table``) on the connection of the open
  transaction; SQLite: ``executemany`` in large batches. Either way the data and the audit event
  ``seed.load`` are written in one transaction: a failure leaves nothing half-loaded.
- Generating and encrypting a kelurahan's households is CPU work: at larger scales it runs in worker
  processes (one kelurahan per task) while the main process writes the previous kelurahan.

Households and LKS get explicit ids (the table's highest id + the record's number), so members, needs,
aid and offers can refer to them without a round trip; PostgreSQL's sequences are moved past them.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.engine import engine_finder

from marketplace.audit import AuditEvent
from marketplace.synthetic import Chunk, Dataset, build_chunk
from storage.crypto import IdentityVault, vault
from storage.tables import Household
from storage.uow import unit_of_work

ProgressFn = Callable[[int, int], None]
"""``progress(households_loaded, households_total)``."""

HOUSEHOLD_COLUMNS = ("id", "kk_cipher", "kk_hash", "kelurahan_code", "address", "rt", "rw", "phone", "desil",
                     "extreme_poor", "source", "legal_basis", "created_at", "updated_at")
MEMBER_COLUMNS = ("household", "nik_cipher", "nik_hash", "name", "birth_date", "sex", "relation", "disability")
NEED_COLUMNS = ("household", "ppks", "kind", "amount", "priority", "status", "submitted_at", "verified_at",
                "updated_at")
AID_COLUMNS = ("household", "program", "kind", "period", "amount")
LKS_COLUMNS = ("id", "name", "legal_type", "deed_number", "decree_number", "dinsos_reg_number", "address",
               "kecamatan_code", "contact_name", "phone", "email", "bank_name", "bank_account", "ppks_served",
               "areas", "annual_budget", "status", "verified_at", "created_at")
OFFER_COLUMNS = ("lks", "title", "period", "kind", "is_goods", "unit", "unit_value", "capacity", "remaining",
                 "areas", "ppks", "max_per_need", "status", "created_at")

TABLES = frozenset({"household", "member", "need", "government_aid", "lks", "offer"})
"""The only table names that go into SQL text here (the values always go as parameters)."""

PARALLEL_FROM = 20_000
"""Datasets with at least this many households are prepared in worker processes."""


@dataclass(slots=True)
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    history: dict[str, int] = field(default_factory=dict)
    """Rows of the seeded past periods (``storage/impact/history.py``), when written."""
    history_seconds: float = 0.0


@dataclass(slots=True)
class PreparedChunk:
    """Rows ready for the database (identifiers encrypted and hashed), in the column orders above."""

    households: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    needs: list[tuple[Any, ...]]
    aid: list[tuple[Any, ...]]


def prepare_chunk(chunk: Chunk, household_base: int, keys: IdentityVault, now: datetime) -> PreparedChunk:
    encrypt, hash_ = keys.encrypt, keys.hash
    households = [
        (household_base + h.no, encrypt(h.kk), hash_(h.kk), h.kelurahan_code, h.address, h.rt, h.rw, h.phone,
         h.desil, h.extreme_poor, "seed", "public_task", now, now)
        for h in chunk.households
    ]
    members = [
        (household_base + m.household_no, encrypt(m.nik), hash_(m.nik), m.name, m.birth_date, m.sex, m.relation,
         m.disability)
        for m in chunk.members
    ]
    needs = [
        (household_base + n.household_no, n.ppks, n.kind, n.amount, n.priority, n.status, n.submitted_at,
         n.verified_at, n.verified_at or n.submitted_at)
        for n in chunk.needs
    ]
    aid = [(household_base + a.household_no, a.program, a.kind, a.period, a.amount) for a in chunk.aid]
    return PreparedChunk(households, members, needs, aid)


# Worker processes: they get the keys once, then build and prepare one kelurahan per task.
_WORKER_KEYS: IdentityVault | None = None


def _init_worker(keys: IdentityVault) -> None:
    global _WORKER_KEYS
    _WORKER_KEYS = keys


def _prepare_in_worker(scale: str | int, seed: int, period: str, index: int, household_base: int,
                       now: datetime) -> PreparedChunk:
    assert _WORKER_KEYS is not None
    return prepare_chunk(build_chunk(scale, seed, period, index), household_base, _WORKER_KEYS, now)


async def has_households() -> bool:
    return bool(await Household.exists())


def _scale_arg(dataset: Dataset) -> str | int:
    return int(dataset.scale) if dataset.scale.isdigit() else dataset.scale


async def load_dataset(dataset: Dataset, *, progress: ProgressFn | None = None, workers: int | None = None,
                       actor: str = "system") -> LoadReport:
    """Write the whole dataset and one ``seed.load`` audit event in one transaction; return the counts."""
    started = time.perf_counter()
    engine = engine_finder()
    assert engine is not None, "PICCOLO_CONF names no engine"
    postgres = engine.engine_type == "postgres"
    keys = vault().active
    now = datetime.now(UTC)
    total = dataset.household_count
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if total >= PARALLEL_FROM else 0
    counts = {"household": 0, "member": 0, "need": 0, "government_aid": 0, "lks": 0, "offer": 0}

    async with unit_of_work() as uow:
        connection = engine.current_transaction.get().connection  # type: ignore[union-attr]
        writer: _Writer = _PostgresWriter(connection) if postgres else _SqliteWriter(connection)
        await writer.lock()
        household_base = await writer.max_id("household")
        lks_base = await writer.max_id("lks")

        lks_rows = [
            (lks_base + r.no, r.name, r.legal_type, r.deed_number, r.decree_number, r.dinsos_reg_number, r.address,
             r.kecamatan_code, r.contact_name, r.phone, r.email, r.bank_name, r.bank_account,
             json.dumps(list(r.ppks_served)), json.dumps(list(r.areas)), r.annual_budget, r.status, r.verified_at,
             now)
            for r in dataset.lks
        ]
        offer_rows = [
            (lks_base + o.lks_no, o.title, o.period, o.kind, o.is_goods, o.unit, o.unit_value, o.capacity,
             o.capacity, json.dumps(list(o.areas)), json.dumps(list(o.ppks)), o.max_per_need, o.status, now)
            for o in dataset.offers
        ]
        await writer.write("lks", LKS_COLUMNS, lks_rows)
        await writer.write("offer", OFFER_COLUMNS, offer_rows)
        counts["lks"], counts["offer"] = len(lks_rows), len(offer_rows)

        async def store(prepared: PreparedChunk) -> None:
            await writer.write("household", HOUSEHOLD_COLUMNS, prepared.households)
            await writer.write("member", MEMBER_COLUMNS, prepared.members)
            await writer.write("need", NEED_COLUMNS, prepared.needs)
            await writer.write("government_aid", AID_COLUMNS, prepared.aid)
            counts["household"] += len(prepared.households)
            counts["member"] += len(prepared.members)
            counts["need"] += len(prepared.needs)
            counts["government_aid"] += len(prepared.aid)
            if progress is not None:
                progress(counts["household"], total)

        if workers <= 0:
            for chunk in dataset.chunks():
                await store(prepare_chunk(chunk, household_base, keys, now))
        else:
            await _load_parallel(dataset, household_base, keys, now, workers, store)

        await writer.finish(household_base + total, lks_base + len(dataset.lks))
        await uow.record(AuditEvent(actor, "seed.load", "dataset", f"{dataset.scale}:{dataset.seed}", None, {
            "scale": dataset.scale, "seed": dataset.seed, "period": dataset.period, "counts": dict(counts),
        }))
    return LoadReport(counts, time.perf_counter() - started)


async def _load_parallel(dataset: Dataset, household_base: int, keys: IdentityVault, now: datetime, workers: int,
                         store: Callable[[PreparedChunk], Any]) -> None:
    context = multiprocessing.get_context("spawn")
    scale = _scale_arg(dataset)
    pending: deque[Future[PreparedChunk]] = deque()
    indices = iter(range(len(dataset.plan)))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(keys,)) as pool:
        try:
            for index in indices:
                pending.append(pool.submit(_prepare_in_worker, scale, dataset.seed, dataset.period, index,
                                           household_base, now))
                if len(pending) >= workers * 2:
                    await store(await asyncio.wrap_future(pending.popleft()))
            while pending:
                await store(await asyncio.wrap_future(pending.popleft()))
        except BaseException:
            for future in pending:
                future.cancel()
            raise


class _Writer:
    async def lock(self) -> None: ...

    async def max_id(self, table: str) -> int:
        raise NotImplementedError

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    async def finish(self, last_household: int, last_lks: int) -> None: ...


class _PostgresWriter(_Writer):
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def lock(self) -> None:
        # Nobody else adds households or LKS while their ids are being handed out here.
        await self.connection.execute("LOCK TABLE household, lks IN SHARE ROW EXCLUSIVE MODE")

    async def max_id(self, table: str) -> int:
        assert table in TABLES
        return int(await self.connection.fetchval(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"'))  # noqa: S608

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self.connection.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self, last_household: int, last_lks: int) -> None:
        for table in ("household", "lks"):
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constant names)
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table}\"), 1))"
            )


class _SqliteWriter(_Writer):
    BATCH = 50_000

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def lock(self) -> None:
        # Take the write lock now (the transaction is DEFERRED): ids below stay ours.
        await self.connection.execute('UPDATE "household" SET id = id WHERE 0')

    async def max_id(self, table: str) -> int:
        assert table in TABLES
        sql = f'SELECT COALESCE(MAX(id), 0) AS top FROM "{table}"'  # noqa: S608 (a name from TABLES)
        async with self.connection.execute(sql) as cursor:
            row = await cursor.fetchone()
        return int(row["top"] if isinstance(row, dict) else row[0])

    async def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        assert table in TABLES
        sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) '  # noqa: S608 (names from this module)
               f"VALUES ({', '.join('?' for _ in columns)})")
        for start in range(0, len(rows), self.BATCH):
            await self.connection.executemany(sql, rows[start:start + self.BATCH])


async def analyze() -> None:
    """Planner statistics and the visibility map for the whole database after a bulk load (PostgreSQL):
    without statistics the first city round plans its read of 400,000 needs as if there were 2,000 (a nested
    loop instead of a hash join), and without the map a deep list page reads every skipped row from the heap
    instead of the index alone, until autovacuum gets round to it."""
    engine = engine_finder()
    if engine is not None and engine.engine_type == "postgres":
        await Household.raw("VACUUM (ANALYZE)")
