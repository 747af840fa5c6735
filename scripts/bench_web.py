# ruff: noqa: S603, S607, S608  (a local benchmark: runs jitu and wrk, SQL of its own literals)
"""Load benchmark of the portal at city scale on PostgreSQL: requests/s and p50/p95/p99 per page, per role.

One command (the lead's re-run; makes its own copy of the city template and drops it afterwards):

    flock /tmp/jitu-bench.lock .venv/bin/python scripts/bench_web.py --template jitu_city_tpl

or against a database you prepared (kept as it is, prepared again only where something is missing):

    .venv/bin/python scripts/bench_web.py --database-url postgresql://postgres@127.0.0.1:5432/jitu_city_NAME

What it does:
1. migrates the database; if it has no round, runs one (``jitu match run``); if the round still has
   proposals, approves them all with ``jitu allocations approve --round ID`` and prints that throughput;
   adds city-sized history set-wise where the template has none (synthetic, stated): recorded deliveries
   for a quarter of the approved allocations, 60,000 donations, 1,000,000 access-log rows, and for the
   "one door" lists 60,000 resident requests, 12,000 complaints, 20,000 referrals and notifications for the
   demo accounts (``one_door``); VACUUM (ANALYZE).
2. starts ``jitu serve --workers N`` on a free loopback port (sessions in the database, as without Redis);
3. logs in ``--concurrency`` separate sessions per role (the demo accounts), checks every page answers
   200 for that role, then drives each page with ``wrk`` (C, one connection per thread, one session per
   connection) for ``--duration`` seconds and prints requests/s, p50/p95/p99 and errors.

The load generator shares the machine with the server: wrk is used because it costs a few percent of a
core where a Python client would take one of the two; the table states wrk's own CPU share per page,
and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
JITU = str(Path(sys.executable).with_name("jitu"))
TEMPLATE_SECRET = "city-template-secret-key-0123456789abcdef"  # noqa: S105  (the template's published test key)
SETTLE_SECONDS = 10
DEMO_PASSWORD = "jitu-demo-2026"  # noqa: S105  (the published demo password)
ACCOUNTS = {"dinsos_admin": "dinsos", "pekerja_sosial": "peksos", "operator_kelurahan": "operator",
            "lks_staff": "lks", "donor": "donatur", "dpo": "dpo"}


@dataclass
class Page:
    role: str
    label: str
    path: str
    form: dict[str, str] | None = None
    """A search posted once per session (words never in a URL); the load is on the list it redirects to."""


def pages(household_id: int, deep_page: int) -> list[Page]:
    """Each role's main pages; the long lists named by issue 9 first."""
    return [
        Page("dinsos_admin", "beranda", "/beranda"),
        Page("dinsos_admin", "keluarga", "/registri/keluarga"),
        Page("dinsos_admin", f"keluarga hal {deep_page}", f"/registri/keluarga?hal={deep_page}"),
        Page("dinsos_admin", "keluarga cari nama", "/registri/keluarga", {"nama": "Siti", "nomor": "",
                                                                          "kelurahan": ""}),
        Page("dinsos_admin", "detail keluarga", f"/registri/keluarga/{household_id}"),
        Page("dinsos_admin", "kebutuhan terverifikasi", "/registri/kebutuhan?status=verified"),
        Page("dinsos_admin", "permohonan masuk", "/registri/kebutuhan?status=submitted"),
        Page("dinsos_admin", "alokasi", "/alokasi"),
        Page("dinsos_admin", "konfirmasi penyaluran", "/konfirmasi-penyaluran"),
        Page("dinsos_admin", "log akses", "/privasi/akses"),
        Page("dinsos_admin", "donasi transfer", "/admin/donasi/transfer"),
        Page("dinsos_admin", "LKS", "/admin/lks"),
        Page("dinsos_admin", "ronde", "/ronde"),
        Page("pekerja_sosial", "keluarga", "/registri/keluarga"),
        Page("pekerja_sosial", "kebutuhan diases", "/registri/kebutuhan?status=assessed"),
        Page("operator_kelurahan", "keluarga (kelurahannya)", "/registri/keluarga"),
        Page("operator_kelurahan", "permohonan masuk", "/registri/kebutuhan?status=submitted"),
        Page("operator_kelurahan", "formulir permohonan", "/registri/permohonan"),
        Page("lks_staff", "keluarga LKS", "/lks-saya/keluarga"),
        Page("lks_staff", "donasi LKS", "/lks-saya/donasi"),
        Page("lks_staff", "buku kas", "/lks-saya/buku-kas"),
        Page("lks_staff", "penawaran", "/lks-saya/penawaran"),
        Page("donor", "donasi saya", "/donasi-saya"),
        Page("dpo", "log akses", "/privasi/akses"),
        Page("dpo", "log akses satu akun", "/privasi/akses?username=peksos"),
        # the "one door" lists (their city-sized rows are synthetic: ``one_door``); no demo account is
        # office_staff, so an office's own views of /rujukan and /pengaduan-masuk are not measured here
        Page("operator_kelurahan", "permohonan warga (kelurahannya)", "/puskesos/permohonan"),
        Page("dinsos_admin", "permohonan warga", "/puskesos/permohonan"),
        Page("dinsos_admin", "permohonan warga divalidasi", "/puskesos/permohonan?status=validated"),
        Page("dinsos_admin", "pengaduan", "/admin/pengaduan"),
        Page("dinsos_admin", "pengaduan ditugaskan", "/admin/pengaduan?status=assigned"),
        Page("lks_staff", "pengaduan masuk", "/pengaduan-masuk"),
        Page("dinsos_admin", "rujukan", "/rujukan"),
        Page("dinsos_admin", "rujukan terlambat", "/rujukan?terlambat=1"),
        Page("pekerja_sosial", "rujukan", "/rujukan"),
        Page("dinsos_admin", "pemberitahuan", "/pemberitahuan"),
        Page("lks_staff", "pemberitahuan", "/pemberitahuan"),
        Page("dinsos_admin", "laporan LKS masuk", "/admin/laporan-lks"),
        Page("lks_staff", "laporan LKS", "/lks-saya/laporan"),
        Page("dinsos_admin", "pusat komando", "/pusat-komando"),
    ]


# ------------------------------------------------------------------------------------------ database


def _admin_dsn(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


async def _sql(url: str, statements: list[str]) -> list[list[dict[str, object]]]:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=30)
    try:
        out = []
        for sql in statements:
            out.append([dict(r) for r in await conn.fetch(sql)])
        return out
    finally:
        await conn.close()


def sql(url: str, *statements: str) -> list[list[dict[str, object]]]:
    return asyncio.run(_sql(url, list(statements)))


def jitu(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([JITU, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"jitu {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(url: str, env: dict[str, str]) -> dict[str, object]:
    """Bring the database to 'the city after a round': migrations, a round, approvals, history."""
    facts: dict[str, object] = {}
    jitu(env, "migrate")
    jitu(env, "demo-accounts")  # the sessions below log in as these (kept where they exist)
    [[period]] = sql(url, "SELECT max(period) AS p FROM offer")
    # the round of the current period (the seeded history's six past rounds are decided already)
    rounds = sql(url, f"SELECT id FROM matching_round WHERE period = '{period['p']}' ORDER BY id DESC LIMIT 1")[0]
    if not rounds:
        print(f"… no round yet: jitu match run --period {period['p']}", flush=True)
        started = time.perf_counter()
        jitu(env, "match", "run", "--period", str(period["p"]))
        facts["round_seconds"] = round(time.perf_counter() - started, 1)
        rounds = sql(url, f"SELECT id FROM matching_round WHERE period = '{period['p']}' ORDER BY id DESC LIMIT 1")[0]
    round_id = int(str(rounds[0]["id"]))
    [[decided]] = sql(url, f"SELECT count(*) AS n FROM allocation WHERE round = {round_id} AND status <> 'proposed'")
    if not int(str(decided["n"])):  # a first decision of the whole round (a re-run only skips and refuses)
        print(f"… approving round #{round_id}: jitu allocations approve --round {round_id}", flush=True)
        out = jitu(env, "allocations", "approve", "--round", str(round_id), "--json")
        facts["approval"] = json.loads(out.strip().splitlines()[-1])
        print(f"approval throughput: {json.dumps(facts['approval'])}; load average {load()}", flush=True)
    else:
        facts["approval"] = "round already decided (run on a fresh copy to measure the approval throughput)"
    [[deliveries]] = sql(url, "SELECT count(*) AS n FROM delivery")
    if not int(str(deliveries["n"])):
        print("… recording deliveries for a quarter of the approved allocations (set-wise, synthetic)", flush=True)
        sql(url, """
            WITH picked AS (SELECT a.id, a.need FROM allocation a WHERE a.status = 'approved' AND a.id % 4 = 0),
            d AS (INSERT INTO delivery (allocation, delivered_on, what_given, received_by, recorded_at, status,
                                        dispute_reason)
                  SELECT id, current_date, 'Bantuan sesuai alokasi', 'Kepala keluarga', now(), 'recorded', ''
                  FROM picked RETURNING allocation),
            a AS (UPDATE allocation SET status = 'delivered' WHERE id IN (SELECT allocation FROM d))
            UPDATE need SET status = 'delivered' WHERE id IN (SELECT need FROM picked)
        """)
    [[donations]] = sql(url, "SELECT count(*) AS n FROM donation")
    if int(str(donations["n"])) < 60_000:  # the seeded history has a few thousand: a city-sized list on top
        print("… adding 20,000 donors and 60,000 donations (set-wise, synthetic)", flush=True)
        sql(url, """
            INSERT INTO donor (account, name, email, anonymous)
            SELECT CASE WHEN g = 1 THEN (SELECT id FROM account WHERE username = 'donatur') END,
                   'Donatur ' || g, 'donatur' || g || '@contoh.id', g % 7 = 0 FROM generate_series(1, 20000) g
        """, """
            INSERT INTO donation (donor, lks, amount, currency, method, status, receipt_number, refunded_amount,
                                  transfer_proof_key, created_at, completed_at)
            SELECT (SELECT min(id) FROM donor) + (g % 20000), l.ids[1 + g % array_length(l.ids, 1)],
                   50000 + (g % 40) * 25000, 'IDR', CASE WHEN g % 3 = 0 THEN 'transfer' ELSE 'stripe' END,
                   'completed', 'BENCH-' || g, 0, '', now() - (g % 180) * interval '1 day',
                   now() - (g % 180) * interval '1 day'
            FROM generate_series(1, 60000) g, (SELECT array_agg(id ORDER BY id) AS ids FROM lks
                                                WHERE status = 'verified') l
        """)
    [[access]] = sql(url, "SELECT count(*) AS n FROM data_access")
    if int(str(access["n"])) < 1_000_000:
        print("… adding 1,000,000 access-log rows over 90 days (set-wise, synthetic)", flush=True)
        sql(url, """
            INSERT INTO data_access (occurred_at, account, username, role, household_id, purpose)
            SELECT now() - (g % 129600) * interval '1 minute', a.id, a.username, a.role,
                   1 + (g::bigint * 7919) % 330000, 'daftar keluarga'
            FROM generate_series(1, 1000000) g
            JOIN account a ON a.username = (ARRAY['dinsos', 'peksos', 'operator'])[1 + g % 3]
        """)
    one_door(url)
    sql(url, "VACUUM (ANALYZE)")  # what autovacuum does in production (it is off on the test server)
    facts["rows"] = {r["t"]: r["n"] for r in sql(url, """
        SELECT 'household' AS t, count(*) AS n FROM household UNION ALL SELECT 'need', count(*) FROM need
        UNION ALL SELECT 'allocation', count(*) FROM allocation UNION ALL SELECT 'delivery', count(*) FROM delivery
        UNION ALL SELECT 'donation', count(*) FROM donation UNION ALL SELECT 'data_access', count(*) FROM data_access
        UNION ALL SELECT 'service_request', count(*) FROM service_request
        UNION ALL SELECT 'complaint', count(*) FROM complaint UNION ALL SELECT 'referral', count(*) FROM referral
        UNION ALL SELECT 'notification', count(*) FROM notification
        UNION ALL SELECT 'lks_report', count(*) FROM lks_report
    """)[0]}
    facts["round_id"] = round_id
    return facts


TICKET_SQL = """'JITU-' || (SELECT string_agg(substr('23456789ABCDEFGHJKLMNPQRSTUVWXYZ',
    1 + (((({n})::bigint * 137438953447) % 1125899906842624 >> (5 * i)) & 31)::int, 1), '' ORDER BY i)
    FROM generate_series(0, 9) i)"""
"""A ticket code in the product's format (``JITU-`` and ten of its 32 letters) that differs for every ``n``:
``n`` times an odd number modulo 2^50 is one-to-one, so requests (n = g) and complaints (n = 1,000,000 + g)
never share one; real codes are random, and one of these meeting one is a 1-in-10^15 chance per pair."""

NAMES = ("ARRAY['Siti Aminah', 'Asep Saepudin', 'Dewi Lestari', 'Ujang Suryana', 'Rina Marlina', "
         "'Dedi Kurniawan', 'Euis Komariah', 'Agus Setiawan', 'Nining Rohaeni', 'Cecep Hidayat']")


def one_door(url: str) -> None:
    """City-sized lists behind the 'one door' pages, which the city template leaves empty or tiny
    (synthetic, set-wise, each only when its table is below the size; stated and printed):

    - 60,000 resident requests over a year, each from a household's kelurahan (so spread as the city is):
      received 15 %, validated 65 % (naming the household), declined 12 % (with a reason), withdrawn 8 %
      (personal data erased, as on revocation); channels warga / puskesos (with the consent version) and
      pekerja_sosial; no NIK (its cipher column stays empty, as the form allows).
    - 12,000 complaints over a year across the categories and statuses, assigned (from ``assigned`` on) to
      an office, a verified LKS or Dinsos; anonymous or named, never a contact (its cipher stays empty).
    - 20,000 referrals of verified needs with no allocation, over a year, across the offices: sent 15 %,
      accepted 20 %, info requested 5 % (their needs become ``referred``), completed 45 % (half closing the
      need: ``resolved``; half back to the pool), returned 15 % (the need back to verified).
    - notifications: 5,000 for the demo LKS account (4,000 to its LKS, 1,000 to the account itself) and
      1,000 each to the dinsos, peksos and operator accounts, of every kind; all but the newest 100 read.
    """
    [[counts]] = sql(url, """
        SELECT (SELECT count(*) FROM service_request) AS requests, (SELECT count(*) FROM complaint) AS complaints,
               (SELECT count(*) FROM referral) AS referrals,
               (SELECT count(*) FROM notification n JOIN account a ON a.username = 'lks'
                WHERE n.account = a.id OR n.lks = a.lks) AS lks_notes""")
    if int(str(counts["requests"])) < 60_000:
        print("… adding 60,000 resident requests over a year (set-wise, synthetic)", flush=True)
        sql(url, f"""
            INSERT INTO service_request (ticket_code, household, kelurahan_code, channel, description, submitted_by,
                created_at, address, applicant_birth_date, applicant_name, applicant_nik_cipher, applicant_sex,
                consent_at, consent_revoked_at, consent_version, decline_reason, kind, phone, ppks, rt, rw, status,
                validated_at, validated_by)
            SELECT {TICKET_SQL.format(n="g")},
                   CASE WHEN s.status = 'validated' THEN h.id END, h.kelurahan_code, s.channel,
                   CASE WHEN s.status = 'withdrawn' THEN '' ELSE 'Mohon bantuan untuk keluarga kami' END,
                   CASE WHEN s.channel = 'warga' THEN NULL ELSE (SELECT id FROM account WHERE username = 'operator')
                   END, s.at, CASE WHEN s.status = 'withdrawn' THEN '' ELSE 'Jl. Contoh No. ' || (g % 200) END,
                   CASE WHEN s.status = 'withdrawn' THEN NULL ELSE date '1960-01-01' + (g % 15000) END,
                   CASE WHEN s.status = 'withdrawn' THEN '' ELSE ({NAMES})[1 + g % 10] END, '',
                   CASE WHEN s.status = 'withdrawn' THEN '' WHEN g % 2 = 0 THEN 'P' ELSE 'L' END,
                   CASE WHEN s.channel <> 'pekerja_sosial' THEN s.at END,
                   CASE WHEN s.status = 'withdrawn' THEN s.at + interval '3 days' END,
                   CASE WHEN s.channel <> 'pekerja_sosial' THEN '2026-12-v1' ELSE '' END,
                   CASE WHEN s.status = 'declined' THEN 'Bukan warga kelurahan ini' ELSE '' END,
                   (ARRAY['pangan', 'kesehatan', 'pendidikan', 'perumahan', 'tunai', 'alat_bantu', 'rehabilitasi',
                          'pemberdayaan'])[1 + g % 8],
                   CASE WHEN s.status = 'withdrawn' THEN '' ELSE '08' || lpad((g * 7919 % 1000000000)::text, 10, '1')
                   END, CASE WHEN g % 5 = 0 THEN 1 + g % 26 END, lpad((1 + g % 12)::text, 3, '0'),
                   lpad((1 + g % 9)::text, 3, '0'), s.status,
                   CASE WHEN s.status = 'validated' THEN s.at + interval '2 days' END, NULL
            FROM generate_series(1, 60000) g
            CROSS JOIN LATERAL (SELECT now() - ((60000 - g) * interval '525 seconds') AS at,
                CASE WHEN g % 20 < 3 THEN 'received' WHEN g % 20 < 16 THEN 'validated'
                     WHEN g % 50 < 44 THEN 'declined' ELSE 'withdrawn' END AS status,
                CASE WHEN g % 10 < 5 THEN 'warga' WHEN g % 10 < 9 OR g % 20 >= 16 THEN 'puskesos'
                     ELSE 'pekerja_sosial' END AS channel) s
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM household) hh
            JOIN household h ON h.id = hh.ids[1 + (g::bigint * 7919) % array_length(hh.ids, 1)]
            ORDER BY g
        """)
    if int(str(counts["complaints"])) < 12_000:
        print("… adding 12,000 complaints over a year (set-wise, synthetic)", flush=True)
        sql(url, f"""
            INSERT INTO complaint (ticket_code, category, status, anonymous, complainant_name, contact_cipher,
                description, kelurahan_code, lks, assignee_kind, assignee_office, assignee_lks, answer, created_at,
                updated_at, closed_at, assignee_answer, assignee_answered_at, assignee_note)
            SELECT {TICKET_SQL.format(n="1000000 + g")},
                   (ARRAY['pungutan', 'salah_sasaran', 'tidak_diterima', 'data_salah', 'pelayanan', 'lainnya'])
                       [1 + g % 6], c.status, g % 3 <> 0, CASE WHEN g % 3 = 0 THEN ({NAMES})[1 + g % 10] ELSE '' END,
                   '', 'Keluhan tentang penyaluran bantuan di lingkungan kami', h.kelurahan_code,
                   CASE WHEN g % 4 = 0 THEN l.ids[1 + g % array_length(l.ids, 1)] END,
                   CASE WHEN c.assigned THEN c.kind ELSE '' END,
                   CASE WHEN c.assigned AND c.kind = 'office' THEN (ARRAY['kesehatan', 'pppa', 'dukcapil', 'perumahan',
                       'ketenagakerjaan', 'perhubungan', 'pendidikan'])[1 + g % 7] ELSE '' END,
                   CASE WHEN c.assigned AND c.kind = 'lks' THEN l.ids[1 + (g / 3) % array_length(l.ids, 1)] END,
                   CASE WHEN c.status = 'closed' THEN 'Sudah ditindaklanjuti; terima kasih atas laporannya' ELSE ''
                   END, c.at, c.at + interval '5 days', CASE WHEN c.status = 'closed' THEN c.at + interval '9 days' END,
                   CASE WHEN c.status IN ('answered', 'closed') AND c.assigned THEN 'Sudah kami periksa' ELSE '' END,
                   CASE WHEN c.status IN ('answered', 'closed') AND c.assigned THEN c.at + interval '7 days' END,
                   CASE WHEN c.assigned THEN 'Mohon diperiksa' ELSE '' END
            FROM generate_series(1, 12000) g
            CROSS JOIN LATERAL (SELECT now() - ((12000 - g) * interval '2628 seconds') AS at,
                (ARRAY['filed', 'triaged', 'assigned', 'answered', 'closed', 'closed'])[1 + (g / 6) % 6] AS status,
                (g / 6) % 6 IN (2, 3) OR ((g / 6) % 6 >= 4 AND g % 5 <> 0) AS assigned,
                (ARRAY['office', 'lks', 'dinsos'])[1 + g % 3] AS kind) c
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM household) hh
            JOIN household h ON h.id = hh.ids[1 + (g::bigint * 104729) % array_length(hh.ids, 1)]
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM lks WHERE status = 'verified') l
            ORDER BY g
        """)
    if int(str(counts["referrals"])) < 20_000:
        print("… adding 20,000 referrals of verified needs over a year (set-wise, synthetic)", flush=True)
        sql(url, """
            WITH picked AS (
                SELECT n.id, n.status, row_number() OVER (ORDER BY md5(n.id::text)) AS g FROM need n
                WHERE n.status = 'verified' AND NOT EXISTS (SELECT 1 FROM allocation a WHERE a.need = n.id)
                ORDER BY md5(n.id::text) LIMIT 20000),
            r AS (
                INSERT INTO referral (need, office, status, what_needed, reason, shared, evidence, need_status_before,
                    due_on, created_by, created_at, updated_at, accepted_at, info_asked_at, closed_at, info_question,
                    info_answer, outcome, resolution, return_reason)
                SELECT p.id, o.code, x.status, 'Penanganan lanjutan oleh instansi', 'Di luar bantuan LKS', '[]',
                       '[]', p.status, (x.at + o.service_days * interval '1 day')::date,
                       (SELECT id FROM account WHERE username = 'peksos'), x.at, x.at + interval '2 days',
                       CASE WHEN x.status IN ('accepted', 'completed') THEN x.at + interval '1 day' END,
                       CASE WHEN x.status = 'info_requested' THEN x.at + interval '1 day' END,
                       CASE WHEN x.status IN ('completed', 'returned') THEN x.at + interval '6 days' END,
                       CASE WHEN x.status = 'info_requested' THEN 'Mohon salinan KK' ELSE '' END, '',
                       CASE WHEN x.status = 'completed' THEN 'Sudah ditangani' ELSE '' END,
                       CASE WHEN x.status = 'completed' THEN (ARRAY['close', 'pool'])[1 + p.g % 2] ELSE '' END,
                       CASE WHEN x.status = 'returned' THEN 'Bukan kewenangan instansi kami' ELSE '' END
                FROM picked p
                CROSS JOIN LATERAL (SELECT now() - ((20000 - p.g) * interval '1576 seconds') AS at,
                    CASE WHEN p.g % 20 < 3 THEN 'sent' WHEN p.g % 20 < 7 THEN 'accepted'
                         WHEN p.g % 20 < 8 THEN 'info_requested' WHEN p.g % 20 < 17 THEN 'completed'
                         ELSE 'returned' END AS status) x
                JOIN office o ON o.code = (ARRAY['kesehatan', 'pppa', 'dukcapil', 'perumahan', 'ketenagakerjaan',
                                                 'perhubungan', 'pendidikan', 'dinsos'])[1 + (p.g / 20) % 8]
                ORDER BY p.g
                RETURNING need, status, resolution)
            UPDATE need SET status = CASE WHEN r.status = 'completed' THEN 'resolved' ELSE 'referred' END
            FROM r WHERE need.id = r.need
                AND (r.status IN ('sent', 'accepted', 'info_requested') OR r.resolution = 'close')
        """)
    if int(str(counts["lks_notes"])) < 5_000:
        print("… adding 8,000 notifications for the demo accounts (set-wise, synthetic)", flush=True)
        sql(url, """
            INSERT INTO notification (account, lks, message, link, created_at, read_at, kind)
            SELECT CASE WHEN w.to_lks THEN NULL ELSE w.account END, CASE WHEN w.to_lks THEN w.lks END,
                   CASE w.kind WHEN 'delivery_due' THEN 'Penyaluran jatuh tempo dalam tiga hari'
                               WHEN 'delivery_overdue' THEN 'Ada penyaluran yang terlambat'
                               WHEN 'report_due' THEN 'Laporan berkala jatuh tempo'
                               ELSE 'Dinas Sosial memutuskan alokasi ronde Anda' END,
                   '/beranda', now() - (w.n * interval '1 hour'),
                   CASE WHEN w.n > 100 THEN now() - (w.n * interval '1 hour') + interval '1 hour' END, w.kind
            FROM (SELECT a.id AS account, a.lks, g <= 4000 AND a.lks IS NOT NULL AS to_lks,
                         (ARRAY['delivery_due', 'delivery_overdue', 'report_due', 'decision'])[1 + g % 4] AS kind,
                         row_number() OVER (PARTITION BY a.id ORDER BY g DESC) AS n
                  FROM account a CROSS JOIN generate_series(1, 5000) g
                  WHERE (a.username = 'lks' OR (a.username IN ('dinsos', 'peksos', 'operator') AND g <= 1000))) w
            ORDER BY w.account, w.n DESC
        """)


# --------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(env: dict[str, str], workers: int):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="jitu-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([JITU, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server ended; see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the server did not answer in 120 s; see {log.name}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        print(f"(server log: {log.name})")


def login(base: str, username: str, password: str) -> tuple[str, str]:
    """A session of its own: returns (Cookie header, CSRF token)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/masuk")
        token = client.cookies.get("jitu_csrf") or ""
        answer = client.post("/masuk", data={"username": username, "password": password, "_csrf_token": token,
                                             "next": "/beranda"})
        if answer.status_code not in (302, 303) or "jitu_session" not in client.cookies:
            raise SystemExit(f"log-in as {username} failed ({answer.status_code})")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return cookie, token


def target(base: str, cookie: str, token: str, page: Page) -> str:
    """The path this session loads: the page, or for a search the list its POST redirects to."""
    if page.form is None:
        return page.path
    answer = httpx.post(base + page.path, headers={"Cookie": cookie}, data={**page.form, "_csrf_token": token},
                        timeout=60)
    if answer.status_code not in (302, 303):
        raise SystemExit(f"search {page.path} answered {answer.status_code}, not a redirect to its results")
    return answer.headers["location"]


def check(base: str, cookie: str, path: str) -> int:
    return httpx.get(base + path, headers={"Cookie": cookie}, timeout=60).status_code


LUA = """
local sessions = {SESSIONS}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("idx", counter)
end
function init(args)
  local s = sessions[((idx - 1) % #sessions) + 1]
  req = wrk.format("GET", s[2], {Cookie = s[1]}, nil)
end
function request()
  return req
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"errors": %d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def drive(base: str, page: Page, sessions: list[tuple[str, str]], duration: int) -> dict[str, float]:
    """wrk with one connection per thread and one session per connection, each on its own path."""
    script = LUA.replace("{SESSIONS}", "{" + ", ".join(
        f'{{"{lua_string(c)}", "{lua_string(p)}"}}' for c, p in sessions) + "}")
    concurrency = len(sessions)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{duration}s",
                           "--timeout", "10s", "-s", handle.name, base + sessions[0][1]],
                          capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(handle.name)
    found = re.search(r"RESULT (\{.*\})", done.stdout)
    if not found:
        raise SystemExit(f"wrk gave no result for {page.path}:\n{done.stdout}\n{done.stderr}")
    r = json.loads(found.group(1))
    seconds = r["duration_us"] / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rps": r["requests"] / seconds, "p50": r["p50"] / 1000, "p95": r["p95"] / 1000, "p99": r["p99"] / 1000,
            "errors": r["errors"], "requests": r["requests"], "wrk_cpu": 100 * cpu / seconds}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--template", help="copy this template database (e.g. jitu_city_tpl), drop the copy after")
    where.add_argument("--database-url", help="benchmark this PostgreSQL database (prepared where needed)")
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY", TEMPLATE_SECRET))
    parser.add_argument("--password", default=DEMO_PASSWORD, help="the demo accounts' password")
    parser.add_argument("--concurrency", type=int, default=20, help="simultaneous users (sessions) per page")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--web-workers", type=int, default=2, help="jitu serve --workers")
    parser.add_argument("--only", default="", help="only pages whose role or label contains this text")
    parser.add_argument("--keep", action="store_true", help="with --template: keep the copy")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    if not 1 <= args.concurrency <= 200 or not 1 <= args.duration <= 120:
        raise SystemExit("--concurrency 1..200 and --duration 1..120 s (a bounded load on loopback)")

    copy = None
    url = args.database_url
    if args.template:
        copy = f"jitu_bench_{os.getpid()}_{secrets.token_hex(2)}"
        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        sql(admin, f'CREATE DATABASE "{copy}" TEMPLATE "{args.template}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{copy}"
    assert url
    var_dir = tempfile.mkdtemp(prefix="jitu-bench-var-")
    env = {**os.environ, "DATABASE_URL": url, "JITU_VAR_DIR": var_dir, "SECRET_KEY": args.secret_key,
           "JITU_LANGUAGE": "id",
           # sessions log in with the password alone: the pages are measured here, not the second factor
           "JITU_MFA_REQUIRED_ROLES": ""}
    env.pop("REDIS_URL", None)
    try:
        print(f"database {url.rsplit('/', 1)[1]}; load average {load()}", flush=True)
        facts = prepare(url, env)
        print(json.dumps(facts, default=str, indent=1), flush=True)
        [[hh]] = sql(url, "SELECT min(id) AS id FROM household")
        [[count]] = sql(url, "SELECT count(*) AS n FROM household")
        chosen = [p for p in pages(int(str(hh["id"])), max(1, int(str(count["n"])) // 50 // 2))
                  if not args.only or args.only in p.role or args.only in p.label]
        with server(env, args.web_workers) as base:
            sessions: dict[str, list[tuple[str, str]]] = {}
            for role in sorted({p.role for p in chosen}):
                sessions[role] = [login(base, ACCOUNTS[role], args.password) for _ in range(args.concurrency)]
            paths: dict[int, list[tuple[str, str]]] = {}
            for i, p in enumerate(chosen):
                paths[i] = [(cookie, target(base, cookie, token, p)) for cookie, token in sessions[p.role]]
                status = check(base, *paths[i][0])
                if status != 200:
                    raise SystemExit(f"{p.role} {paths[i][0][1]} answered {status}, not 200")
                for cookie, path in paths[i][1:2 * args.web_workers]:  # warm every worker (steady state)
                    check(base, cookie, path)
            # the warm-up views may start background work (a stale impact snapshot is recomputed by a web
            # worker: 1-2 s of PostgreSQL at city scale); let it end so that it is not charged to page one
            time.sleep(SETTLE_SECONDS)
            print(f"\n{args.concurrency} users per page, {args.duration} s each, jitu serve --workers "
                  f"{args.web_workers}; load average before {load()}\n")
            print("| role | page | req/s | p50 ms | p95 ms | p99 ms | errors | wrk CPU % |")
            print("|---|---|---:|---:|---:|---:|---:|---:|")
            for i, p in enumerate(chosen):
                r = drive(base, p, paths[i], args.duration)
                mark = "" if r["p95"] < 200 else " ✗"
                print(f"| {p.role} | {p.label} `{p.path}` | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f}{mark} | "
                      f"{r['p99']:.0f} | {int(r['errors'])} | {r['wrk_cpu']:.0f} |", flush=True)
            print(f"\nload average after {load()}")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if copy and not args.keep:
            sql("postgresql://postgres@127.0.0.1:5432/postgres", f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


if __name__ == "__main__":
    main()
