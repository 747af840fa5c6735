"""``jitu retention apply``: the retention schedule of docs/dpia.md."""

from __future__ import annotations

import asyncio

import click


@click.command("apply")
def retention_apply() -> None:
    """Hapus sesi kedaluwarsa dan anonimkan keluarga yang menarik persetujuannya."""
    from storage.retention import apply_retention

    report = asyncio.run(apply_retention("cli"))
    click.echo(f"{report.sessions_deleted} sesi kedaluwarsa dihapus; "
               f"{report.households_anonymised} keluarga dianonimkan.")


def register(cli: click.Group) -> None:
    from portal.cli import subgroup

    subgroup(cli, "retention", "Jadwal retensi data pribadi.").add_command(retention_apply)
