"""Six past monthly periods of synthetic history, so every page has content right after ``jitu seed``.

Per past period: a finished matching round; for each verified LKS a closed offer per kind it gives and
its allocations to households in its areas (a new need each), approved or (a few) rejected; deliveries
with a photo, most confirmed, some awaiting confirmation, a few disputed, and in the newest period some
approved but never delivered (overdue); donations into the LKS ledgers (enough to cover what was
approved), a few refunded; the ledger entries of all of it; and each LKS's periodic report for the
older periods. Deterministic by seed; written set-wise in one transaction (``COPY`` on PostgreSQL) with
explicit ids, like ``storage/bulk.py``. Photos are a handful of synthetic images (boxes of goods, no
people) stored once and shared by the seeded deliveries.
"""

from __future__ import annotations

import bisect
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.engine import engine_finder

from marketplace.approval import end_of_period
from marketplace.audit import AuditEvent
from marketplace.ledger import receipt_number
from marketplace.synthetic import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, _amount
from marketplace.vocabulary import Kind
from storage.uow import unit_of_work

MONTHS = 6
DELIVERIES_PER_HOUSEHOLD = 0.05
"""Per LKS and period, deliveries ≈ households per LKS × this (lognormal spread: some LKS have few)."""
PHOTO_COUNT = 6
DEMO_DONOR_EMAIL = "donatur@demo.jitu.example"
"""The seeded donor whose gifts the demo donor account is given (``jitu demo-accounts``)."""

_TABLES = ("matching_round", "offer", "need", "allocation", "delivery", "delivery_photo", "donor", "donation",
           "ledger_entry", "lks_report")
COLUMNS: dict[str, tuple[str, ...]] = {
    "matching_round": ("id", "period", "status", "started_at", "finished_at", "solver_status", "objective",
                       "bound", "seconds", "needs_count", "offers_count", "matched_count", "message",
                       "instance_key", "result_key"),
    "offer": ("id", "lks", "title", "period", "kind", "is_goods", "unit", "unit_value", "capacity", "remaining",
              "areas", "ppks", "max_per_need", "status", "created_at"),
    "need": ("id", "household", "ppks", "kind", "amount", "priority", "status", "notes", "rejection_reason",
             "referral_office", "submitted_at", "verified_at", "updated_at"),
    "allocation": ("id", "round", "need", "offer", "lks", "amount", "priority", "status", "explanation",
                   "rejection_reason", "decided_at", "deliver_by"),
    "delivery": ("id", "allocation", "delivered_on", "what_given", "received_by", "recorded_at", "status",
                 "decided_at", "dispute_reason", "requester_confirmed_at"),
    "delivery_photo": ("delivery", "object_key", "content_type", "size", "width", "height"),
    "donor": ("id", "name", "email", "anonymous"),
    "donation": ("id", "donor", "lks", "amount", "currency", "method", "status", "receipt_number",
                 "refunded_amount", "transfer_proof_key", "created_at", "completed_at"),
    "ledger_entry": ("lks", "entry_type", "amount", "donation", "allocation", "memo", "created_at"),
    "lks_report": ("lks", "period", "delivered_summary", "not_delivered", "fund_balance", "balance_confirmed",
                   "status", "submitted_at", "decided_at", "decision_note"),
}
DISPUTE_REASONS = ("Penerima menyatakan paket belum lengkap.", "Foto bukti tidak jelas; perlu diperiksa ulang.",
                   "Nama penerima di tanda terima berbeda dengan data KK.")
REJECT_REASONS = ("Rumah tangga sudah menerima bantuan sejenis dari program lain.",
                  "Data kebutuhan perlu diverifikasi ulang oleh pekerja sosial.")


def past_periods(period: str, months: int = MONTHS) -> list[str]:
    """The ``months`` periods before ``period``, oldest first: ``2026-12`` → ``2026-06`` … ``2026-11``."""
    year, month = int(period[:4]), int(period[5:7])
    out = []
    for back in range(months, 0, -1):
        m = (year * 12 + month - 1) - back
        out.append(f"{m // 12:04d}-{m % 12 + 1:02d}")
    return out


def _first_day(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass(slots=True)
class _Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in _TABLES})

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables[table].append(row)


def synthetic_photos() -> list[bytes]:
    """JPEGs of parcels on a table, drawn here: nothing of a person, no location metadata."""
    from PIL import Image, ImageDraw

    out = []
    colours = ((214, 196, 160), (190, 210, 190), (200, 200, 225), (230, 205, 180), (210, 190, 200),
               (195, 215, 220))
    for n in range(PHOTO_COUNT):
        img = Image.new("RGB", (640, 480), colours[n % len(colours)])
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 330, 640, 480), fill=(150, 110, 80))  # the table
        for b in range(1 + n % 3):
            x = 120 + b * 150
            draw.rectangle((x, 190 - 20 * b, x + 130, 330), fill=(180, 140, 90), outline=(90, 60, 30), width=4)
            draw.line((x, 250 - 10 * b, x + 130, 250 - 10 * b), fill=(240, 230, 200), width=6)
        draw.text((20, 20), f"Foto penyaluran (sintetis) {n + 1}", fill=(40, 40, 40))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


async def seed_history(seed: int, period: str, *, months: int = MONTHS, actor: str = "system",
                       store: Any = None) -> dict[str, int]:
    """Write ``months`` past periods before ``period`` for the households and LKS already loaded."""
    from storage.objects import make_object_store
    from storage.tables import Household, Lks, Need, Offer

    engine = engine_finder()
    assert engine is not None
    postgres = engine.engine_type == "postgres"
    households = await Household.select(Household.id, Household.kelurahan_code).order_by(Household.id)
    lks_rows = await Lks.select(Lks.id, Lks.name, Lks.areas, Lks.ppks_served).where(
        Lks.status == "verified").order_by(Lks.id)
    all_lks = await Lks.count()
    offers = await Offer.select(Offer.lks, Offer.kind).where(Offer.period == period).order_by(Offer.id)
    verified_pool = await Need.count().where(Need.status == "verified")
    if not households or not lks_rows:
        return {}
    for org in lks_rows:  # JSON columns come back as text on SQLite
        for col in ("areas", "ppks_served"):
            if isinstance(org[col], str):
                org[col] = json.loads(org[col] or "[]")
    kinds_of: dict[int, list[str]] = {}
    for o in offers:
        kinds = kinds_of.setdefault(int(o["lks"]), [])
        if o["kind"] not in kinds:
            kinds.append(o["kind"])
    by_area: dict[str, list[int]] = {}
    all_ids = [int(h["id"]) for h in households]
    for h in households:
        code = h["kelurahan_code"]
        by_area.setdefault(code, []).append(int(h["id"]))
        by_area.setdefault(code[:8], []).append(int(h["id"]))

    store = store or make_object_store()
    photo_keys = []
    for n, data in enumerate(synthetic_photos()):
        key = f"seed/delivery-photo-{n + 1}.jpg"
        store.put(key, data, "image/jpeg")
        photo_keys.append((key, len(data)))

    rng = random.Random(f"jitu-history:{seed}:{period}")
    base = max(1.0, len(households) / max(1, all_lks) * DELIVERIES_PER_HOUSEHOLD)
    rows = _Rows()
    async with unit_of_work() as uow:
        connection = engine.current_transaction.get().connection  # type: ignore[union-attr]
        ids = {t: await _max_id(connection, t, postgres) for t in ("matching_round", "offer", "need",
                                                                    "allocation", "delivery", "donor", "donation")}

        def next_id(table: str) -> int:
            ids[table] += 1
            return ids[table]

        donors = []
        for n in range(max(20, len(lks_rows) * 2)):
            name = f"{rng.choice(MALE_NAMES + FEMALE_NAMES)} {rng.choice(FAMILY_NAMES)}"
            donor_id = next_id("donor")
            rows.add("donor", (donor_id, name, f"donatur{donor_id}@example.org", n % 7 == 0))
            donors.append(donor_id)
        demo_donor = next_id("donor")
        rows.add("donor", (demo_donor, "Donatur (demo)", DEMO_DONOR_EMAIL, False))

        periods = past_periods(period, months)
        for age_index, p in enumerate(periods):
            newest = age_index == len(periods) - 1
            start = _first_day(p)
            deliver_by = end_of_period(p)
            round_id = next_id("matching_round")
            matched = 0
            offers_in_round = 0
            for org in lks_rows:
                lks_id = int(org["id"])
                n = int(base * rng.lognormvariate(-0.25, 0.9))
                if n <= 0:
                    continue
                kinds = kinds_of.get(lks_id) or ["pangan"]
                pool = [h for a in (org["areas"] or []) for h in by_area.get(a, [])] or all_ids
                ppks_choices = list(org["ppks_served"] or []) or [24, 23, 8, 2]
                offer_ids = {}
                approved_sum: dict[str, int] = {}
                capacity: dict[str, int] = {}
                lks_funds_out = 0
                for kind in kinds:
                    offer_ids[kind] = next_id("offer")
                    offers_in_round += 1
                delivered_count = late = 0
                for _ in range(n):
                    kind = rng.choice(kinds)
                    amount = min(_amount(rng, Kind(kind)), 5_000_000)
                    need_id, alloc_id = next_id("need"), next_id("allocation")
                    household = rng.choice(pool)
                    submitted = _at(start - timedelta(days=rng.randrange(5, 40)))
                    roll = rng.random()
                    if roll < 0.04:
                        outcome = "rejected"
                    elif newest and roll < 0.14:
                        outcome = "approved"  # never delivered: overdue now
                    elif newest and roll < 0.40:
                        outcome = "recorded"
                    elif (newest and roll < 0.44) or (age_index == len(periods) - 2 and roll < 0.07):
                        outcome = "disputed"
                    elif age_index == len(periods) - 2 and roll < 0.11:
                        outcome = "recorded"
                    else:
                        outcome = "confirmed"
                    need_status = {"rejected": "verified", "approved": "approved", "recorded": "delivered",
                                   "disputed": "delivered", "confirmed": "confirmed"}[outcome]
                    alloc_status = {"recorded": "delivered"}.get(outcome, outcome)
                    rows.add("need", (need_id, household, rng.choice(ppks_choices), kind, amount,
                                      rng.randrange(100, 1000), need_status, "", "", "", submitted,
                                      submitted + timedelta(days=2), _at(start + timedelta(days=3))))
                    decided = _at(start + timedelta(days=rng.randrange(1, 4)), 10)
                    rows.add("allocation", (alloc_id, round_id, need_id, offer_ids[kind], lks_id, amount,
                                            rng.randrange(100, 1000), alloc_status,
                                            "Dicocokkan: wilayah, jenis PPKS dan jenis bantuan sesuai.",
                                            rng.choice(REJECT_REASONS) if outcome == "rejected" else "",
                                            decided, deliver_by))
                    capacity[kind] = capacity.get(kind, 0) + amount
                    matched += 1
                    if outcome == "rejected":
                        continue
                    approved_sum[kind] = approved_sum.get(kind, 0) + amount
                    lks_funds_out += amount
                    rows.add("ledger_entry", (lks_id, "allocation", -amount, None, alloc_id, "allocation", decided))
                    if outcome == "approved":
                        continue
                    days = min(int(rng.expovariate(1 / 9)) + 1, 40)
                    delivered_on = decided.date() + timedelta(days=days)
                    late += delivered_on > deliver_by
                    delivered_count += 1
                    delivery_id = next_id("delivery")
                    recorded_at = _at(delivered_on, 16)
                    status = "recorded" if outcome == "recorded" else outcome
                    decided_at = recorded_at + timedelta(days=rng.randrange(1, 6)) if status != "recorded" else None
                    by_requester = recorded_at + timedelta(days=1) if status == "confirmed" and rng.random() < 0.3 \
                        else None
                    rows.add("delivery", (delivery_id, alloc_id, delivered_on,
                                          f"Bantuan {kind.replace('_', ' ')} senilai Rp {amount:,}".replace(",", "."),
                                          "Penerima sesuai data KK", recorded_at, status, decided_at,
                                          rng.choice(DISPUTE_REASONS) if status == "disputed" else "", by_requester))
                    key, size = photo_keys[rng.randrange(len(photo_keys))]
                    rows.add("delivery_photo", (delivery_id, key, "image/jpeg", size, 640, 480))
                for kind in kinds:
                    cap = capacity.get(kind, 0) or 1_000_000
                    rows.add("offer", (offer_ids[kind], lks_id, f"Bantuan {kind.replace('_', ' ')} {p}", p, kind,
                                       False, "", 0, cap, cap - approved_sum.get(kind, 0), json.dumps(org["areas"]),
                                       json.dumps(org["ppks_served"]), None, "closed", _at(start - timedelta(days=10))))
                # donations cover what was approved (plus a margin); a few are refunded
                target = int(lks_funds_out * rng.uniform(1.05, 1.4)) + 500_000
                gifts = rng.randrange(2, 7)
                weights = [rng.random() + 0.2 for _ in range(gifts)]
                for g, w in enumerate(weights):
                    amount = max(50_000, round(target * w / sum(weights) / 10_000) * 10_000)
                    donor = demo_donor if (g == 0 and rng.random() < 0.15) else rng.choice(donors)
                    when = _at(start - timedelta(days=rng.randrange(0, 20)), 12)
                    donation_id = next_id("donation")
                    refunded = donor != demo_donor and rng.random() < 0.03
                    method = "stripe" if rng.random() < 0.6 else "transfer"
                    rows.add("donation", (donation_id, donor, lks_id, amount, "IDR", method,
                                          "refunded" if refunded else "completed",
                                          receipt_number(when.year, donation_id), amount if refunded else 0, "",
                                          when, when))
                    rows.add("ledger_entry", (lks_id, "donation", amount, donation_id, None,
                                              f"Donasi {receipt_number(when.year, donation_id)}", when))
                    if refunded:
                        rows.add("ledger_entry", (lks_id, "refund", -amount, donation_id, None,
                                                  "Pengembalian dana donasi", when + timedelta(days=3)))
                        rows.add("ledger_entry", (lks_id, "donation", amount, None, None,
                                                  "Donasi pengganti (transfer langsung ke LKS)",
                                                  when + timedelta(days=4)))
                if not newest and delivered_count:
                    report_day = _at(deliver_by + timedelta(days=rng.randrange(3, 12)), 11)
                    rows.add("lks_report", (
                        lks_id, p,
                        f"{delivered_count} penyaluran bantuan ({', '.join(k.replace('_', ' ') for k in kinds)}).",
                        (f"{late} penyaluran melewati batas waktu karena jadwal penerima." if late else
                         "Semua alokasi yang disetujui tersalurkan."),
                        0, True, "approved", report_day, report_day + timedelta(days=2),
                        "Disetujui (data sintetis)."))
            finished = _at(start, 8)
            rows.add("matching_round", (round_id, p, "proposed", finished - timedelta(minutes=3), finished, "OPTIMAL",
                                        0, 0, json.dumps({"solve": 1.0}), verified_pool + matched, offers_in_round,
                                        matched, "Ronde historis (data sintetis).", "", ""))
        _fund_balances(rows)
        writer = _copy if postgres else _insert
        for table in _TABLES:
            await writer(connection, table, COLUMNS[table], rows.tables[table])
        if postgres:
            for table in ("matching_round", "offer", "need", "allocation", "delivery", "delivery_photo", "donor",
                          "donation", "ledger_entry", "lks_report"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constant names)
                    f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table}\"), 1))")
        counts = {t: len(r) for t, r in rows.tables.items()}
        await uow.record(AuditEvent(actor, "seed.history", "dataset", f"history:{seed}:{period}", None,
                                    {"periods": periods, "counts": counts}))
    return counts


def _fund_balances(rows: _Rows) -> None:
    """Each seeded report states its LKS's ledger balance at the end of its period (confirmed)."""
    timeline: dict[int, tuple[list[datetime], list[int]]] = {}
    for lks_id, _type, amount, _d, _a, _memo, when in sorted(rows.tables["ledger_entry"], key=lambda e: (e[0], e[6])):
        times, sums = timeline.setdefault(lks_id, ([], []))
        times.append(when)
        sums.append((sums[-1] if sums else 0) + amount)
    reports = rows.tables["lks_report"]
    for n, r in enumerate(reports):
        times, sums = timeline.get(r[0], ([], []))
        upto = bisect.bisect_left(times, _at(end_of_period(r[1]) + timedelta(days=1), 0))
        reports[n] = (*r[:4], sums[upto - 1] if upto else 0, *r[5:])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _max_id(connection: Any, table: str, postgres: bool) -> int:
    assert table in _TABLES
    sql = f'SELECT COALESCE(MAX(id), 0) AS top FROM "{table}"'  # noqa: S608 (a name from _TABLES)
    if postgres:
        return int(await connection.fetchval(sql))
    async with connection.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row["top"] if isinstance(row, dict) else row[0])


async def _copy(connection: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=list(columns))


async def _insert(connection: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    assert table in _TABLES
    sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) '  # noqa: S608 (names from this module)
           f"VALUES ({', '.join('?' for _ in columns)})")
    for start in range(0, len(rows), 50_000):
        await connection.executemany(sql, rows[start:start + 50_000])
