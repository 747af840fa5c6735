"""``jitu worker``: runs background jobs from the Redis queue (when ``REDIS_URL`` is set)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys

import click


@click.command("worker")
def worker() -> None:
    """Jalankan pekerja latar (impor, ronde pencocokan) dari antrean Redis."""
    from marketplace.settings import get_settings
    from storage.jobs import RedisQueue

    settings = get_settings()
    if not settings.redis_url:
        click.echo("REDIS_URL belum diatur: tanpa Redis, pekerjaan berjalan di dalam proses portal.", err=True)
        sys.exit(2)
    _load_handlers()
    click.echo("Pekerja siap; menunggu pekerjaan…")
    asyncio.run(RedisQueue(settings.redis_url).work())


def _load_handlers() -> None:
    """Handlers register themselves when their web modules are imported."""
    from portal import web

    for info in pkgutil.iter_modules(web.__path__):
        importlib.import_module(f"portal.web.{info.name}")


def register(cli: click.Group) -> None:
    cli.add_command(worker)
