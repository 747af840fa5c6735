"""``jitu seed`` (synthetic Bandung data) and ``jitu demo-accounts`` (one log-in per role for a demo)."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

import click

from marketplace.vocabulary import Role

DEMO_PASSWORD = "jitu-demo-2026"  # noqa: S105  (the published password of the demo accounts only)
DEMO_KELURAHAN = "32.73.03.1001"  # in Babakan Ciparay, an SLRT pilot kecamatan
# (username, role, full name)
DEMO_ACCOUNTS: tuple[tuple[str, Role, str], ...] = (
    ("dinsos", Role.DINSOS_ADMIN, "Admin Dinsos (demo)"),
    ("peksos", Role.PEKERJA_SOSIAL, "Pekerja Sosial (demo)"),
    ("operator", Role.OPERATOR_KELURAHAN, "Operator Kelurahan (demo)"),
    ("lks", Role.LKS_STAFF, "Staf LKS (demo)"),
    ("donatur", Role.DONOR, "Donatur (demo)"),
    ("dpo", Role.DPO, "Pejabat Pelindungan Data (demo)"),
    ("dinkes", Role.OFFICE_STAFF, "Staf Dinas Kesehatan (demo)"),
)
DEMO_OFFICE = "kesehatan"


async def run_seed(scale: str, seed: int, *, if_empty: bool = False, period: str | None = None,
                   workers: int | None = None, progress: Any = None, history: bool = True) -> Any:
    """Generate and load a dataset, then (``history``) six past periods of rounds, deliveries and
    donations (``storage/impact/history.py``); ``None`` when ``if_empty`` and households already exist."""
    from marketplace.synthetic import generate
    from storage.bulk import analyze, has_households, load_dataset

    if if_empty and await has_households():
        return None
    dataset = generate(scale, seed, period)
    report = await load_dataset(dataset, progress=progress, workers=workers)
    if history:
        from storage.impact.history import seed_history
        from storage.impact.snapshot import refresh_all

        started = time.perf_counter()
        try:
            report.history = await seed_history(seed, dataset.period)
        except Exception as exc:  # the dataset stays (its own transaction); the history wrote nothing
            raise HistoryFailed(f"{type(exc).__name__}: {exc}") from exc
        report.history_seconds = time.perf_counter() - started
        await refresh_all()
    await analyze()
    return report


class HistoryFailed(RuntimeError):
    """The dataset was loaded but its six months of history were not (nothing of the history is kept)."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    created: bool
    note: str = ""


async def ensure_demo_accounts(password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """One account per role; existing usernames are left as they are."""
    from portal.auth import hash_password
    from storage.accounts import create_account, find_by_username
    from storage.tables import Lks

    result: list[DemoAccount] = []
    password_hash: str | None = None
    for username, role, full_name in DEMO_ACCOUNTS:
        if await find_by_username(username):
            result.append(DemoAccount(username, role.value, False, "sudah ada"))
            continue
        lks_id = None
        kelurahan = DEMO_KELURAHAN if role == Role.OPERATOR_KELURAHAN else None
        office = DEMO_OFFICE if role == Role.OFFICE_STAFF else None
        if role == Role.LKS_STAFF:
            row = await Lks.select(Lks.id).where(Lks.status == "verified").order_by(Lks.id).first()
            if row is None:
                result.append(DemoAccount(username, role.value, False,
                                          "dilewati: belum ada LKS terverifikasi (jalankan jitu seed)"))
                continue
            lks_id = int(row["id"])
        password_hash = password_hash or hash_password(password)
        account_id = await create_account(username=username, password_hash=password_hash, role=role.value,
                                          full_name=full_name, lks_id=lks_id, kelurahan_code=kelurahan,
                                          office_code=office, actor="demo-accounts")
        if role == Role.DONOR:
            await _give_seeded_gifts(account_id)
        result.append(DemoAccount(username, role.value, True))
    return result


async def _give_seeded_gifts(account_id: int) -> None:
    """The demo donor sees the gifts the seeded history made in its name (``DEMO_DONOR_EMAIL``)."""
    from storage.impact.history import DEMO_DONOR_EMAIL
    from storage.tables import Donor

    await Donor.update({Donor.account: account_id}).where(
        (Donor.email == DEMO_DONOR_EMAIL) & Donor.account.is_null())


def _n(number: int) -> str:
    """``330573`` → ``330.573`` (Indonesian thousands separator)."""
    return f"{number:,}".replace(",", ".")


class _Progress:
    """Prints the loading progress: one updating line on a terminal, every 10 % otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.last_step = -1
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        share = done * 100 // max(1, total)
        text = f"Memuat data: {_n(done)} / {_n(total)} KK ({share} %), {time.perf_counter() - self.started:.0f} dtk"
        if self.tty:
            click.echo("\r" + text, nl=done >= total)
        elif share // 10 != self.last_step:
            self.last_step = share // 10
            click.echo(text)


@click.command("seed")
@click.option("--scale", type=click.Choice(["demo", "small", "city"]), default="demo", show_default=True,
              help="demo ≈ 2.000 KK, small ≈ 10.000 KK, city = 330.573 KK (angka Kota Bandung)")
@click.option("--seed", "seed", type=int, default=2026, show_default=True,
              help="Benih acak (benih sama, data sama)")
@click.option("--if-empty", is_flag=True, help="Tidak melakukan apa pun bila sudah ada data rumah tangga")
@click.option("--period", default=None, help="Periode penawaran dan bansos (YYYY-MM); bawaan: bulan ini")
@click.option("--workers", type=int, default=None, help="Jumlah proses penyiap data (0: tanpa proses tambahan)")
@click.option("--without-history", is_flag=True, help="Tanpa riwayat enam bulan (ronde, penyaluran, donasi)")
def seed_command(scale: str, seed: int, if_empty: bool, period: str | None, workers: int | None,
                 without_history: bool) -> None:
    """Isi basis data dengan data sintetis Kota Bandung (bukan data orang sungguhan)."""
    started = time.perf_counter()
    try:
        report = asyncio.run(run_seed(scale, seed, if_empty=if_empty, period=period, workers=workers,
                                      progress=_Progress(), history=not without_history))
    except HistoryFailed as exc:
        click.echo(f"Data sintetis dimuat, tetapi riwayat enam bulan gagal dan tidak disimpan: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # nothing was written: the load is one transaction
        unique = "unique" in str(exc).lower() or "duplicate" in str(exc).lower()
        reason = ("NIK atau No. KK yang sama sudah ada (data dengan benih ini sudah dimuat?)" if unique
                  else f"{type(exc).__name__}: {exc}")
        click.echo(f"Gagal memuat data sintetis; tidak ada yang disimpan. {reason}", err=True)
        sys.exit(1)
    if report is None:
        click.echo("Data rumah tangga sudah ada; data sintetis tidak dimuat (--if-empty).")
        return
    c = report.counts
    click.echo(
        f"Data sintetis ({scale}, benih {seed}) dimuat dalam {time.perf_counter() - started:.1f} detik: "
        f"{_n(c['household'])} KK, {_n(c['member'])} anggota keluarga, {_n(c['need'])} kebutuhan, "
        f"{_n(c['government_aid'])} bansos, {_n(c['lks'])} LKS, {_n(c['offer'])} penawaran."
    )
    if report.history:
        h = report.history
        click.echo(f"Riwayat enam bulan dalam {report.history_seconds:.1f} detik: {_n(h['matching_round'])} ronde, "
                   f"{_n(h['allocation'])} alokasi, {_n(h['delivery'])} penyaluran, {_n(h['donation'])} donasi, "
                   f"{_n(h['lks_report'])} laporan LKS.")


@click.command("demo-accounts")
def demo_accounts_command() -> None:
    """Buat satu akun demo per peran (akun yang sudah ada dibiarkan)."""
    from storage.referrals.demo import ensure_demo_referrals

    async def both() -> tuple[list[DemoAccount], int]:
        return await ensure_demo_accounts(), await ensure_demo_referrals(DEMO_KELURAHAN)

    accounts, referred = asyncio.run(both())
    from marketplace.settings import get_settings

    settings = get_settings()
    login_url = f"http://{settings.host}:{settings.port}/masuk"
    click.echo(f"Akun demo (kata sandi {DEMO_PASSWORD}), masuk di {login_url}:")
    for account in accounts:
        status = "dibuat" if account.created else account.note
        click.echo(f"  {account.role:<20} {account.username:<10} {DEMO_PASSWORD}  {login_url}  ({status})")
    if referred:
        click.echo(f"Rujukan demo: {referred} kebutuhan dirujuk ke instansi (lihat /rujukan).")
    if settings.mfa_required_roles:
        click.echo("Peran " + ", ".join(sorted(settings.mfa_required_roles)) + " wajib memasang faktor kedua "
                   "(aplikasi autentikator) saat pertama masuk. `make demo` mematikan kewajiban ini "
                   "(JITU_MFA_REQUIRED_ROLES kosong).")


def register(cli: click.Group) -> None:
    cli.add_command(seed_command)
    cli.add_command(demo_accounts_command)
