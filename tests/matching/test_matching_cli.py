"""The `solve` click command: file output, stdout, refusal of invalid instances."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from portal.commands.match_solve import bench_command, solve_command
from tests.matching.builders import aid, instance, need, offer
from tests.matching.checker import check_result


def _instance() -> dict[str, Any]:
    return instance(
        [need("N-1", 300_000, household="KK-1", priority=80), need("N-2", 200_000, priority=5)],
        [offer("O-1", 250_000)],
        [aid("KK-1", 200_000)],
        household_cap=2_000_000,
    )


def _write(tmp_path: Path, data: Any, name: str = "instance.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_solve_writes_the_result_file(tmp_path: Path) -> None:
    data = _instance()
    src, out = _write(tmp_path, data), tmp_path / "result.json"
    res = CliRunner().invoke(solve_command, [str(src), "--out", str(out), "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert check_result(data, result) == 80  # N-1's remainder 100k; N-2 (200k) no longer fits
    assert result["stats"]["status"] == "OPTIMAL"
    assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance.json", "result.json"]  # no temp file left


def test_solve_prints_to_stdout_without_out(tmp_path: Path) -> None:
    data = _instance()
    res = CliRunner().invoke(solve_command, [str(_write(tmp_path, data)), "--workers", "1", "--seed", "3"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    check_result(data, result)
    assert "OPTIMAL" in res.stderr


def test_invalid_instance_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    data = _instance()
    data["needs"][1]["amount"] = -5
    src, out = _write(tmp_path, data), tmp_path / "result.json"
    res = CliRunner().invoke(solve_command, [str(src), "--out", str(out)])
    assert res.exit_code == 2
    assert 'needs[1] (id "N-2"): amount must be a non-negative integer' in res.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance.json"]
    assert res.stdout == ""


def test_invalid_instance_keeps_an_existing_result_file(tmp_path: Path) -> None:
    data = _instance()
    data["offers"][0]["areas"] = ["32.73.3"]
    src, out = _write(tmp_path, data), tmp_path / "result.json"
    out.write_text("previous", encoding="utf-8")
    res = CliRunner().invoke(solve_command, [str(src), "--out", str(out)])
    assert res.exit_code == 2
    assert 'offers[0] (id "O-1"): malformed area code' in res.stderr
    assert out.read_text(encoding="utf-8") == "previous"


def test_unreadable_json_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "broken.json"
    src.write_text("{not json", encoding="utf-8")
    res = CliRunner().invoke(solve_command, [str(src)])
    assert res.exit_code == 2
    assert "cannot read" in res.stderr


def test_commands_are_named_for_registration() -> None:
    assert solve_command.name == "solve"
    assert bench_command.name == "bench"


def test_check_command_accepts_a_good_result_and_lists_breaches(tmp_path: Path) -> None:
    from portal.commands.match_solve import check_command

    data = _instance()
    src, out = _write(tmp_path, data), tmp_path / "result.json"
    assert CliRunner().invoke(solve_command, [str(src), "--out", str(out)]).exit_code == 0
    res = CliRunner().invoke(check_command, [str(src), str(out)])
    assert res.exit_code == 0 and res.stdout.startswith("ok:"), res.output
    result = json.loads(out.read_text(encoding="utf-8"))
    result["allocations"].append({"need": "N-2", "offer": "O-1", "amount": 200_000})
    result["unmatched"] = [u for u in result["unmatched"] if u["need"] != "N-2"]
    bad = _write(tmp_path, result, "bad.json")
    res = CliRunner().invoke(check_command, [str(src), str(bad)])
    assert res.exit_code == 1
    assert "capacity: offer O-1 allocated 300000 against a capacity of 250000" in res.stdout
    res = CliRunner().invoke(check_command, [str(src), str(_write(tmp_path, {"version": 1}, "form.json"))])
    assert res.exit_code == 2 and "form" in res.output
