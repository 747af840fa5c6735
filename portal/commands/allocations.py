"""``jitu allocations approve|reject --round ID [filters]``: decide a whole selection of a round."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import click


def _filters(func: Any) -> Any:
    for option in reversed([
        click.option("--round", "round_id", required=True, help="Nomor ronde pencocokan"),
        click.option("--kecamatan", default="", help="Kode kecamatan, misalnya 32.73.03"),
        click.option("--lks", "lks_id", default=None, help="Id LKS"),
        click.option("--kind", default="", help="Jenis bantuan (pangan, kesehatan, tunai, …)"),
        click.option("--min-priority", default=None, help="Prioritas minimal"),
        click.option("--batch", "batch_size", type=click.IntRange(1, 10_000), default=None,
                     help="Alokasi per transaksi (bawaan: SELECTION_BATCH, 2000)"),
        click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON (untuk benchmark)"),
    ]):
        func = option(func)
    return func


def _run(action: str, round_id: str, kecamatan: str, lks_id: str | None, kind: str, min_priority: str | None,
         batch_size: int | None, as_json: bool, reason: str = "") -> None:
    from storage.decisions.selection import (
        SelectionError,
        check_selection,
        decide_selection,
        refusal_lines,
    )

    async def progress(pct: int, message: str) -> None:
        if not as_json:
            click.echo(f"[{pct:3d}%] {message}", err=True)

    started = time.perf_counter()
    try:
        sel = check_selection(round_id, kecamatan, lks_id, kind, min_priority)
        tally = asyncio.run(decide_selection(sel, action, "cli", reason=reason, progress=progress,
                                             batch_size=batch_size))
    except (SelectionError, ValueError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    seconds = time.perf_counter() - started
    result = tally.as_dict()
    result.update(round_id=sel.round_id, seconds=round(seconds, 3),
                  per_second=round(tally.decided / seconds, 1) if seconds > 0 else 0.0)
    if as_json:
        click.echo(json.dumps(result))
        return
    verb = "disetujui" if action == "approve" else "ditolak"
    click.echo(f"Ronde #{sel.round_id}: {tally.decided} alokasi {verb} (Rp{tally.amount:,}".replace(",", ".")
               + f"), {sum(tally.refused.values())} tidak lolos pemeriksaan, {tally.skipped} dilewati "
               f"(sudah diputuskan); {seconds:.1f} detik, {result['per_second']:.0f} alokasi/detik.")
    for line in refusal_lines(dict(tally.refused)):
        click.echo(f"  tidak lolos: {line}")


@click.command("approve")
@_filters
def approve_command(round_id: str, kecamatan: str, lks_id: str | None, kind: str, min_priority: str | None,
                    batch_size: int | None, as_json: bool) -> None:
    """Setujui semua usulan alokasi yang terpilih oleh saringan (setiap aturan diperiksa ulang)."""
    _run("approve", round_id, kecamatan, lks_id, kind, min_priority, batch_size, as_json)


@click.command("reject")
@_filters
@click.option("--reason", required=True, help="Alasan penolakan (paling sedikit 5 karakter)")
def reject_command(round_id: str, kecamatan: str, lks_id: str | None, kind: str, min_priority: str | None,
                   batch_size: int | None, as_json: bool, reason: str) -> None:
    """Tolak semua usulan alokasi yang terpilih oleh saringan; kebutuhannya kembali menunggu ronde berikutnya."""
    _run("reject", round_id, kecamatan, lks_id, kind, min_priority, batch_size, as_json, reason)


def register(cli: click.Group) -> None:
    from portal.cli import subgroup

    group = subgroup(cli, "allocations", "Keputusan atas usulan alokasi sebuah ronde.")
    group.add_command(approve_command)
    group.add_command(reject_command)
