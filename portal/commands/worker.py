"""``jitu worker``: runs background jobs from the SAQ queue on Redis (when ``REDIS_URL`` is set)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys

import click


@click.command("worker")
def worker() -> None:
    """Jalankan pekerja latar (impor, ronde pencocokan, keputusan massal, rotasi kunci) dari antrean Redis."""
    from marketplace.settings import get_settings
    from storage import jobs

    settings = get_settings()
    if not settings.redis_url:
        click.echo("REDIS_URL belum diatur: tanpa Redis, pekerjaan berjalan di dalam proses portal.", err=True)
        sys.exit(2)
    from croniter import croniter

    for name, value, example in (("ROUND_SCHEDULE", settings.round_schedule, "'0 1 1 * *', tanggal 1 pukul 01.00"),
                                 ("REMINDER_SCHEDULE", settings.reminder_schedule, "'0 1 * * *', tiap hari 01.00")):
        if value and not croniter.is_valid(value):
            click.echo(f"{name} '{value}' bukan ekspresi cron yang sah (contoh: {example} UTC).", err=True)
            sys.exit(2)
    load_handlers()
    schedule = f"; ronde otomatis terjadwal '{settings.round_schedule}' (UTC)" if settings.round_schedule else ""
    if settings.reminder_schedule:
        schedule += f"; pengingat terjadwal '{settings.reminder_schedule}' (UTC)"
    click.echo(f"Pekerja siap pada antrean '{settings.job_queue}'{schedule}; menunggu pekerjaan…")
    asyncio.run(jobs.work())


def load_handlers() -> None:
    """Handlers register themselves when their modules are imported (web modules import the storage ones)."""
    from portal import web

    for info in pkgutil.iter_modules(web.__path__):
        importlib.import_module(f"portal.web.{info.name}")
    importlib.import_module("storage.keys")  # key rotation: started from the command line only


def register(cli: click.Group) -> None:
    cli.add_command(worker)
