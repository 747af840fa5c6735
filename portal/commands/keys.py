"""``jitu keys rotate | resume | status | retire``: rotate the key that encrypts NIK/No. KK, keys their
lookup hashes and the audit chain (``storage/keys.py``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from portal.cli import subgroup


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


async def _follow(job_id: int, wait: bool) -> None:
    """Print the job's progress until it ends (always without Redis: the job runs in this process)."""
    from marketplace.settings import get_settings
    from storage.tables import Job

    if not wait and get_settings().redis_url:
        click.echo(f"Pekerjaan #{job_id} ada di antrean; ikuti dengan `jitu keys status`.")
        return
    shown = ""
    while True:
        row = await Job.select(Job.status, Job.progress, Job.message).where(Job.id == job_id).first()
        if row is None:
            _fail(f"Pekerjaan #{job_id} tidak ditemukan.")
            return
        line = f"{row['progress']:3d}%  {row['message']}"
        if line != shown:
            click.echo(line)
            shown = line
        if row["status"] == "done":
            click.echo("Rotasi selesai: semua data di bawah kunci baru. Kunci lama dapat dipensiunkan "
                       "dengan `jitu keys retire`.")
            return
        if row["status"] == "failed":
            _fail(f"Rotasi berhenti: {row['message']}\nLanjutkan dengan `jitu keys resume` setelah masalahnya "
                  "diperbaiki; tidak ada yang setengah tertulis.")
            return
        await asyncio.sleep(0.5)


def _run(step: Callable[[], Awaitable[Any]]) -> Any:
    from storage.crypto import KeyRingError
    from storage.keys import RotationError

    try:
        return asyncio.run(step())  # type: ignore[arg-type]
    except (RotationError, KeyRingError) as exc:
        _fail(str(exc))


def register(cli: click.Group) -> None:
    group = subgroup(cli, "keys", "Kunci enkripsi NIK/No. KK dan rantai audit: rotasi.")

    @group.command("rotate")
    @click.option("--batch", default=2000, show_default=True, type=click.IntRange(10, 50_000),
                  help="Baris per transaksi")
    @click.option("--wait/--no-wait", default=True, help="Tunggu sampai selesai (tanpa Redis selalu menunggu)")
    def rotate_command(batch: int, wait: bool) -> None:
        """Tambah kunci baru dan pindahkan semua data ke bawahnya (pekerjaan latar yang dapat dilanjutkan)."""
        from storage.keys import start_rotation

        async def step() -> None:
            rotation_id, job_id = await start_rotation("cli", batch)
            from storage.crypto import vault

            click.echo(f"Kunci baru {vault().active_id} aktif; rotasi #{rotation_id}, pekerjaan #{job_id}.")
            await _follow(job_id, wait)

        _run(step)

    @group.command("resume")
    @click.option("--batch", default=2000, show_default=True, type=click.IntRange(10, 50_000),
                  help="Baris per transaksi")
    @click.option("--wait/--no-wait", default=True, help="Tunggu sampai selesai (tanpa Redis selalu menunggu)")
    def resume_command(batch: int, wait: bool) -> None:
        """Lanjutkan rotasi yang terhenti (proses mati, batas waktu) dari transaksi terakhirnya."""
        from storage.keys import resume_rotation

        async def step() -> None:
            rotation_id, job_id = await resume_rotation("cli", batch)
            click.echo(f"Rotasi #{rotation_id} dilanjutkan: pekerjaan #{job_id}.")
            await _follow(job_id, wait)

        _run(step)

    @group.command("status")
    def status_command() -> None:
        """Kunci yang dapat dibaca, kunci aktif, dan kemajuan rotasi per tabel."""
        from storage.keys import status

        info = _run(status)
        click.echo(f"Kunci aktif: {info['active']}; dapat dibaca: {', '.join(info['readable'])} ({info['file']})")
        rotation = info["rotation"]
        if rotation:
            job = rotation["job"] or {}
            line = f"Rotasi #{rotation['id']} ke {rotation['target']}: {rotation['status']}"
            if job:
                line += f"; pekerjaan #{job['id']} {job['status']} {job['progress']}% {job['message']}"
            if rotation["message"]:
                line += f"\n  pesan: {rotation['message']}"
            click.echo(line)
        for table, (done, total) in info["tables"].items():
            click.echo(f"  {table:<16} {done:>9} / {total:<9} di bawah {info['active']}")
        if len(info["readable"]) > 1 and rotation and rotation["status"] == "done":
            click.echo("Siap dipensiunkan: `jitu keys retire`.")

    @group.command("retire")
    def retire_command() -> None:
        """Buang kunci lama, hanya bila tidak ada lagi data di bawahnya."""
        from storage.keys import retire_old_keys

        dropped = _run(lambda: retire_old_keys("cli"))
        if not dropped:
            click.echo("Tidak ada kunci lama untuk dipensiunkan.")
            return
        hint = " SECRET_KEY lama tidak dipakai lagi: hapus dari lingkungan." if "k0" in dropped else ""
        click.echo(f"Kunci {', '.join(dropped)} dipensiunkan dan dihapus dari berkas kunci.{hint}")
