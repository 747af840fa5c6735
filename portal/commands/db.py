"""``jitu migrate`` and ``jitu audit verify``."""

from __future__ import annotations

import asyncio
import sys

import click


@click.command("migrate")
def migrate_command() -> None:
    """Bawa basis data ke skema terbaru dan muat data rujukan (wilayah, program bansos)."""
    from storage.migrate import migrate

    asyncio.run(migrate())
    click.echo("Basis data siap.")


@click.command("verify")
def audit_verify() -> None:
    """Periksa rantai hash jejak audit; keluar dengan kode 1 bila ada baris yang diubah atau dihapus."""
    from storage.audit import verify

    report = asyncio.run(verify())
    if report.ok:
        click.echo(f"Jejak audit utuh: {report.checked} peristiwa diperiksa.")
        return
    click.echo(
        f"Jejak audit RUSAK pada peristiwa #{report.first_bad_id}: {report.problem} "
        f"({report.checked} peristiwa sebelumnya utuh).",
        err=True,
    )
    sys.exit(1)


def register(cli: click.Group) -> None:
    from portal.cli import subgroup

    cli.add_command(migrate_command)
    subgroup(cli, "audit", "Jejak audit.").add_command(audit_verify)
