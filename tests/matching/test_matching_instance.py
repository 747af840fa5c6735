"""Instance validation: each broken form is refused with a message naming the entry."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from matching import Instance, InstanceError, is_eligible, parse_instance, remainders
from tests.matching.builders import aid, instance, need, offer


def valid() -> dict[str, Any]:
    return instance(
        [need("N-1", 300_000, household="KK-1"), need("N-2", 200_000), need("N-3", 100_000)],
        [offer("O-1", 5_000_000, areas=["32.73.03", "32.73.04.1001"], ppks=[24, 9], max_per_need=500_000),
         offer("O-2", 1_000)],
        [aid("KK-1", 200_000)],
        household_cap=2_000_000,
    )  # fmt: skip


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _del(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing need field", _del(("needs", 1, "amount")), "needs[1] (id \"N-2\"): missing field 'amount'"),
    ("missing need id", _del(("needs", 2, "id")), "needs[2]: missing field 'id'"),
    ("missing offer field", _del(("offers", 0, "capacity")), 'offers[0] (id "O-1"): missing field'),
    ("missing areas", _del(("offers", 1, "areas")), "offers[1] (id \"O-2\"): missing field 'areas'"),
    ("missing needs", _del(("needs",)), "missing field 'needs'"),
    ("missing offers", _del(("offers",)), "missing field 'offers'"),
    ("missing version", _del(("version",)), "missing field 'version'"),
    ("missing period", _del(("period",)), "missing field 'period'"),
    (
        "amount as string",
        _set(("needs", 2, "amount"), "100000"),
        'needs[2] (id "N-3"): amount must be a non-negative integer',
    ),
    ("amount as float", _set(("needs", 2, "amount"), 100000.0), 'needs[2] (id "N-3"): amount must be'),
    ("negative amount", _set(("needs", 1, "amount"), -1), 'needs[1] (id "N-2"): amount must be a non-negative'),
    ("amount as bool", _set(("needs", 1, "amount"), True), 'needs[1] (id "N-2"): amount'),
    ("capacity beyond int64", _set(("offers", 1, "capacity"), 2**63), 'offers[1] (id "O-2"): capacity must be'),
    ("huge priority", _set(("needs", 0, "priority"), 10**10), 'needs[0] (id "N-1"): priority must be'),
    ("negative capacity", _set(("offers", 1, "capacity"), -5), 'offers[1] (id "O-2"): capacity must be'),
    ("negative max_per_need", _set(("offers", 0, "max_per_need"), -5), 'offers[0] (id "O-1"): max_per_need'),
    ("negative aid", _set(("government_aid", 0, "amount"), -5), 'government_aid[0] (household "KK-1"): amount must be'),
    ("aid unknown kind", _set(("government_aid", 0, "kind"), "beras"), "government_aid[0]"),
    ("negative cap", _set(("household_cap",), -1), "household_cap must be a non-negative integer"),
    ("duplicate need id", _set(("needs", 2, "id"), "N-1"), 'needs[2] (id "N-1"): duplicate id'),
    ("duplicate offer id", _set(("offers", 1, "id"), "O-1"), 'offers[1] (id "O-1"): duplicate id'),
    ("unknown need kind", _set(("needs", 0, "kind"), "sembako"), "needs[0] (id \"N-1\"): unknown kind 'sembako'"),
    ("unknown offer kind", _set(("offers", 1, "kind"), "Pangan"), 'offers[1] (id "O-2"): unknown kind'),
    ("ppks zero", _set(("needs", 1, "ppks"), 0), 'needs[1] (id "N-2"): ppks must be an integer from 1 to 26'),
    ("ppks 27", _set(("needs", 1, "ppks"), 27), 'needs[1] (id "N-2"): ppks'),
    ("offer ppks 30", _set(("offers", 0, "ppks"), [24, 30]), 'offers[0] (id "O-1"): ppks entries'),
    ("offer ppks not list", _set(("offers", 0, "ppks"), 24), 'offers[0] (id "O-1"): ppks must be a list'),
    ("malformed area", _set(("offers", 0, "areas"), ["32.73.3"]), 'offers[0] (id "O-1"): malformed area code'),
    ("area of other city", _set(("offers", 0, "areas"), ["32.04.01"]), 'offers[0] (id "O-1"): malformed area'),
    ("bad kelurahan area", _set(("offers", 0, "areas"), ["32.73.03.2001"]), 'offers[0] (id "O-1"): malformed'),
    ("areas not list", _set(("offers", 0, "areas"), "32.73.03"), 'offers[0] (id "O-1"): areas must be a list'),
    (
        "need kelurahan is kecamatan",
        _set(("needs", 0, "kelurahan"), "32.73.03"),
        'needs[0] (id "N-1"): kelurahan must be a kelurahan code',
    ),
    ("priority zero", _set(("needs", 0, "priority"), 0), 'needs[0] (id "N-1"): priority must be a positive integer'),
    ("priority negative", _set(("needs", 0, "priority"), -3), 'needs[0] (id "N-1"): priority'),
    ("priority float", _set(("needs", 0, "priority"), 1.5), 'needs[0] (id "N-1"): priority'),
    ("priority bool", _set(("needs", 0, "priority"), True), 'needs[0] (id "N-1"): priority'),
    ("id not string", _set(("needs", 0, "id"), 7), "needs[0]: id must be a non-empty string"),
    ("need not object", _set(("needs", 1), "N-2"), "needs[1]: must be an object"),
    ("version 2", _set(("version",), 2), "version must be 1"),
    ("version string", _set(("version",), "1"), "version must be 1"),
    ("period month 13", _set(("period",), "2026-13"), "period must be YYYY-MM"),
    ("period slash", _set(("period",), "2026/11"), "period must be YYYY-MM"),
    ("period with day", _set(("period",), "2026-11-01"), "period must be YYYY-MM"),
    ("needs not list", _set(("needs",), {}), "needs must be a list"),
]


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_instance_is_refused_naming_the_entry(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    data = copy.deepcopy(valid())
    mutate(data)
    with pytest.raises(InstanceError) as err:
        parse_instance(data)
    assert message in str(err.value)


def test_not_an_object() -> None:
    with pytest.raises(InstanceError, match="instance must be a JSON object"):
        parse_instance([])


def test_valid_instance_round_trips() -> None:
    parsed = parse_instance(valid())
    assert isinstance(parsed, Instance)
    assert parse_instance(parsed.to_json()) == parsed
    assert parsed.offers[1].max_per_need is None
    assert parsed.household_cap == 2_000_000


def test_optional_fields() -> None:
    data = valid()
    del data["government_aid"], data["household_cap"]
    data["offers"][0]["max_per_need"] = None
    parsed = parse_instance(data)
    assert parsed.government_aid == () and parsed.household_cap is None
    assert parsed.offers[0].max_per_need is None


def test_dataclasses_are_frozen() -> None:
    parsed = parse_instance(valid())
    with pytest.raises(AttributeError):
        parsed.needs[0].amount = 1  # type: ignore[misc]


def test_exported_rules() -> None:
    parsed = parse_instance(valid())
    assert remainders(parsed) == [100_000, 200_000, 100_000]
    o1 = parsed.offers[0]
    assert is_eligible(parsed.needs[0], o1, 100_000)
    assert not is_eligible(parsed.needs[0], o1, 600_000)
