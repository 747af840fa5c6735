"""``jitu backup DIR`` and ``jitu restore DIR`` (``storage/backup.py``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Cadangkan basis data (pg_dump atau salinan SQLite) dan semua objek ke FOLDER (baru atau kosong),
    dengan manifest jumlah baris dan checksum."""
    from marketplace.settings import get_settings
    from storage.backup import BackupError, backup
    from storage.objects import make_object_store

    settings = get_settings()
    try:
        summary = asyncio.run(backup(folder, settings, make_object_store(settings)))
    except BackupError as exc:
        click.echo(f"Pencadangan gagal: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Cadangan {summary.engine} di {summary.folder}: {len(summary.tables)} tabel, {summary.rows} baris "
               f"({summary.audit_events} peristiwa audit), {summary.objects} objek ({summary.object_bytes} bita).")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Pulihkan cadangan dari FOLDER ke basis data KOSONG (ditolak bila sudah ada tabel), lalu periksa
    jumlah baris, objek, dan rantai audit."""
    from marketplace.settings import get_settings
    from storage.audit import verify
    from storage.backup import BackupError, restore
    from storage.objects import make_object_store

    settings = get_settings()
    try:
        summary = asyncio.run(restore(folder, settings, make_object_store(settings)))
    except BackupError as exc:
        click.echo(f"Pemulihan gagal: {exc}", err=True)
        sys.exit(1)
    report = asyncio.run(verify())
    if not report.ok:
        click.echo(f"Data dipulihkan, tetapi jejak audit RUSAK pada peristiwa #{report.first_bad_id}: "
                   f"{report.problem}. Apakah SECRET_KEY sama dengan milik instalasi yang dicadangkan?", err=True)
        sys.exit(1)
    click.echo(f"Dipulihkan dari {summary.folder}: {len(summary.tables)} tabel, {summary.rows} baris, "
               f"{summary.objects} objek; jumlah baris cocok dengan manifest; jejak audit utuh "
               f"({report.checked} peristiwa).")


def register(cli: click.Group) -> None:
    cli.add_command(backup_command)
    cli.add_command(restore_command)
