"""``jitu serve``: the portal under uvicorn."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default=None, help="Alamat (bawaan: HOST atau 127.0.0.1)")
@click.option("--port", default=None, type=int, help="Port (bawaan: PORT atau 8000)")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), envvar="WEB_WORKERS",
              help="Jumlah proses portal (produksi: 2 s.d. 2 × jumlah inti); sesi ada di basis data atau "
                   "Redis, jadi semua proses melayani pengguna yang sama")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Jalankan portal web."""
    import uvicorn

    from marketplace.settings import get_settings

    settings = get_settings()
    uvicorn.run("portal.asgi:app", host=host or settings.host, port=port or settings.port, workers=workers,
                proxy_headers=True, log_level="info")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
