"""``jitu import dtks FILE`` and ``jitu import aid FILE``: registry imports from the command line."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import click


def _print_report(report: object, started: float) -> None:
    from storage.registry_import import ImportReport

    assert isinstance(report, ImportReport)
    click.echo(f"Tata letak: {report.layout}; {report.rows} baris dibaca dalam {time.perf_counter() - started:.1f} s")
    click.echo(f"Diimpor baru: {report.imported}")
    click.echo(f"Diperbarui: {report.updated}")
    click.echo(f"Tidak berubah: {report.unchanged}")
    click.echo(f"Ditolak: {len(report.rejected)} baris")
    for rejection in sorted(report.rejected, key=lambda r: r.row)[:200]:
        click.echo(f"  baris {rejection.row}: {rejection.reason}")
    if len(report.rejected) > 200:
        click.echo(f"  … dan {len(report.rejected) - 200} baris lain")


async def _progress(percent: int, message: str) -> None:
    click.echo(f"[{percent:3d}%] {message}", err=True)


def _run(kind: str, file: Path) -> None:
    from marketplace.dtks import LayoutError
    from storage.registry_import import import_aid, import_dtks

    started = time.perf_counter()
    func = import_dtks if kind == "dtks" else import_aid
    try:
        report = asyncio.run(func(file, "cli", _progress))
    except LayoutError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    _print_report(report, started)


@click.command("dtks")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_dtks_command(file: Path) -> None:
    """Impor ekspor DTKS atau DTSEN (CSV atau XLSX)."""
    _run("dtks", file)


@click.command("aid")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_aid_command(file: Path) -> None:
    """Impor daftar bantuan pemerintah (CSV atau XLSX)."""
    _run("aid", file)


def register(cli: click.Group) -> None:
    from portal.cli import subgroup

    group = subgroup(cli, "import", "Impor data.")
    group.add_command(import_dtks_command)
    group.add_command(import_aid_command)
