"""``need.kelurahan_code`` is kept by the database equal to its household's (migration 2026-12-06T23:00):
on insert, when the need moves to another household, when the household moves, and against direct writes."""

from __future__ import annotations

from storage.tables import Household, Need

A, B = "32.73.03.1001", "32.73.03.1002"


async def _household(code: str, key: str) -> int:
    [hh] = await Household.insert(Household(kk_cipher="x", kk_hash=key, kelurahan_code=code))
    return int(hh["id"])


async def _kelurahan(need_id: int) -> str:
    row = await Need.select(Need.kelurahan_code).where(Need.id == need_id).first()
    return str(row["kelurahan_code"])


async def test_the_need_follows_its_household(db: None) -> None:
    first, second = await _household(A, "k-1"), await _household(B, "k-2")
    [need] = await Need.insert(Need(household=first, ppks=23, kind="pangan", amount=1_000))
    [other] = await Need.insert(Need(household=first, ppks=23, kind="pangan", amount=2_000))
    assert await _kelurahan(need["id"]) == A and await _kelurahan(other["id"]) == A
    await Need.update({Need.household: second}).where(Need.id == need["id"])  # moved to another household
    assert await _kelurahan(need["id"]) == B and await _kelurahan(other["id"]) == A
    await Household.update({Household.kelurahan_code: B}).where(Household.id == first)  # the family moved
    assert await _kelurahan(other["id"]) == B
    await Need.update({Need.kelurahan_code: A}).where(Need.id == other["id"])  # nobody can set it apart
    assert await _kelurahan(other["id"]) == B
    await Need.update({Need.status: "assessed"}).where(Need.id == other["id"])
    assert await _kelurahan(other["id"]) == B


async def test_a_bulk_insert_gets_each_household_kelurahan(db: None) -> None:
    homes = [await _household(A if i % 2 else B, f"b-{i}") for i in range(6)]
    await Need.insert(*[Need(household=h, ppks=23, kind="pangan", amount=1_000) for h in homes])
    rows = await Need.select(Need.household, Need.kelurahan_code).order_by(Need.id)
    assert [r["kelurahan_code"] for r in rows] == [A if i % 2 else B for i in range(6)]
