"""``jitu match …``: solve a contract file (``solve``), benchmark the model (``bench``), and run a
matching round from the database (``run``)."""

from __future__ import annotations

import asyncio
import sys

import click


@click.command("run")
@click.option("--period", required=True, help="Periode TTTT-BB, misalnya 2026-11")
def run_command(period: str) -> None:
    """Jalankan ronde pencocokan untuk satu periode dan simpan usulan alokasinya."""
    from storage.rounds import RoundError, run_round

    async def progress(pct: int, message: str) -> None:
        click.echo(f"[{pct:3d}%] {message}", err=True)

    try:
        summary = asyncio.run(run_round(period, "cli", None, progress))
    except RoundError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    gap = (summary.bound - summary.objective) / summary.bound if summary.bound else 0.0
    click.echo(f"Ronde #{summary.round_id} ({period}): {summary.status}, {summary.matched} kebutuhan diusulkan, "
               f"{summary.unmatched} tidak terpenuhi; objektif {summary.objective}, batas {summary.bound}, "
               f"celah {gap:.4%}; {summary.replaced} usulan lama diganti.")


def register(cli: click.Group) -> None:
    from portal.cli import subgroup
    from portal.commands.match_solve import bench_command, check_command, solve_command

    group = subgroup(cli, "match", "Model pencocokan dan ronde bulanan.")
    group.add_command(solve_command)
    group.add_command(check_command)
    group.add_command(bench_command)
    group.add_command(run_command)
