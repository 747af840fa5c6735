"""``jitu reminders send``: send today's reminders (deliveries due in three days or late, reports due or
late, Dinsos's decisions on reports), each once: running it twice sends nothing new."""

from __future__ import annotations

import asyncio

import click

from portal.cli import subgroup


def register(cli: click.Group) -> None:
    group = subgroup(cli, "reminders", "Pengingat (di portal dan surel)")

    @group.command("send")
    def send_command() -> None:
        """Kirim pengingat yang jatuh tempo hari ini (tiap pengingat hanya sekali)."""
        from marketplace.reminders import KINDS
        from storage.reminders import send_due

        tally = asyncio.run(send_due())
        for kind, label in KINDS.items():
            click.echo(f"{label}: {tally.notified[kind]} orang")
        click.echo(f"Surel terkirim: {tally.emailed}; gagal: {tally.email_failed}")
