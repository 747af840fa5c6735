"""``jitu match solve``, ``check`` and ``bench``: the matching model on the command line.

``solve`` reads an instance (contract matching-v1), solves it and writes the result to ``--out`` or to
standard output. An invalid instance is refused with the message naming the offending entry on
standard error, exit code 2, and nothing is written. The output file is written atomically (a
temporary file in the same folder, then a rename).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from matching import InstanceError, SolverSettings, parse_instance
from matching import bench as bench_module
from matching import solve as solve_instance
from matching.checker import check, parse_result


def _write_atomic(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("solve")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_path", metavar="RESULT.json", type=click.Path(dir_okay=False), default=None,
              help="Write the result here (default: standard output).")  # fmt: skip
@click.option("--time-limit", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Budget of the CP-SAT phase in seconds (counted in deterministic time: reproducible).")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="CP-SAT workers.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (fixed seed: same result).")
def solve_command(instance_path: str, out_path: str | None, time_limit: float, workers: int, seed: int) -> None:
    """Solve INSTANCE.json (matching-v1) and write the allocations."""
    try:
        with open(instance_path, encoding="utf-8") as fh:
            data: Any = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"error: cannot read {instance_path}: {exc}", err=True)
        sys.exit(2)
    try:
        instance = parse_instance(data)
    except InstanceError as exc:
        click.echo(f"error: invalid instance {instance_path}: {exc}", err=True)
        sys.exit(2)
    result = solve_instance(instance, SolverSettings(time_limit=time_limit, workers=workers, seed=seed))
    text = json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    if out_path is None:
        click.echo(text, nl=False)
    else:
        _write_atomic(Path(out_path), text)
    s = result.stats
    click.echo(
        f"{s.status}: objective {s.objective}, bound {s.bound}, gap {s.gap:.4%}, "
        f"{len(result.allocations)} allocations, {s.seconds:.2f} s",
        err=True,
    )
    guard = result.info.get("guard", {})
    if guard.get("violations"):
        click.echo(
            f"error: the solver's result broke the contract ({guard['violations']} violations); it was repaired "
            f"by dropping {guard['dropped']} allocation(s) before writing. First: {guard['messages'][0]}",
            err=True,
        )


@click.command("check")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(exists=True, dir_okay=False))
@click.argument("result_path", metavar="RESULT.json", type=click.Path(exists=True, dir_okay=False))
def check_command(instance_path: str, result_path: str) -> None:
    """Check RESULT.json against INSTANCE.json with the independent checker (exit 1 on any breach)."""
    try:
        with open(instance_path, encoding="utf-8") as fh:
            instance = parse_instance(json.load(fh))
        with open(result_path, encoding="utf-8") as fh:
            result = parse_result(json.load(fh))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    found = check(instance, result)
    for v in found[:100]:
        click.echo(f"{v.rule}: {v.message}")
    if found:
        click.echo(f"{len(found)} violation(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(result.allocations)} allocations, {len(result.unmatched)} unmatched, every rule holds")


@click.command("bench")
@click.option("--scale", type=click.Choice([*bench_module.SCALES, "all"]), default="all", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=0), default=10.0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
def bench_command(scale: str, seed: int, time_limit: float, workers: int) -> None:
    """Benchmark the model on generated Kota Bandung instances (each scale in its own process)."""
    scales = list(bench_module.SCALES) if scale == "all" else [scale]
    click.echo(bench_module.format_table(bench_module.run(scales, seed, time_limit, workers)))


# For registration: `jitu match solve` and `jitu match bench`.
solve = solve_command
bench = bench_command
COMMANDS = (solve_command, bench_command, check_command)
