"""``jitu impact refresh``: recompute the precomputed impact figures (public, donors, Dinsos) now, e.g.
from a scheduled job after a bulk change; pages also refresh them when the audit trail has moved on."""

from __future__ import annotations

import asyncio
import time

import click

from portal.cli import subgroup


def register(cli: click.Group) -> None:
    group = subgroup(cli, "impact", "Angka dampak yang dihitung lebih dulu")

    @group.command("refresh")
    def refresh_command() -> None:
        """Hitung ulang angka dampak (publik, donatur, Dinas Sosial)."""
        from storage.impact.snapshot import BUILDERS, refresh

        async def run() -> None:
            for key in BUILDERS:
                started = time.perf_counter()
                await refresh(key)
                click.echo(f"{key}: {time.perf_counter() - started:.1f} detik")

        asyncio.run(run())
