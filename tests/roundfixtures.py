"""A small city in the database for round tests: verified LKS and offers, households, needs, aid."""

from __future__ import annotations

import random
from datetime import date

from storage.crypto import vault
from storage.tables import GovernmentAid, Household, Lks, Need, Offer

PERIOD = "2026-11"


async def household(kelurahan: str = "32.73.03.1001", desil: int = 1, n: int = 1) -> int:
    kk = f"327303{date(2010, 1, 1).strftime('%d%m%y')}{n:04d}"
    rows = await Household.insert(Household(kk_cipher=vault().encrypt(kk), kk_hash=vault().hash(kk),
                                            kelurahan_code=kelurahan, desil=desil)).returning(Household.id)
    return int(rows[0]["id"])


async def need(household_id: int, kind: str = "pangan", amount: int = 300_000, priority: int = 50,
               ppks: int = 24, status: str = "verified") -> int:
    rows = await Need.insert(Need(household=household_id, ppks=ppks, kind=kind, amount=amount, priority=priority,
                                  status=status)).returning(Need.id)
    return int(rows[0]["id"])


async def lks(name: str = "Yayasan Peduli", status: str = "verified") -> int:
    rows = await Lks.insert(Lks(name=name, legal_type="yayasan", status=status, kecamatan_code="32.73.03",
                                annual_budget=1_000_000_000)).returning(Lks.id)
    return int(rows[0]["id"])


async def offer(lks_id: int, kind: str = "pangan", capacity: int = 1_000_000, areas: list[str] | None = None,
                ppks: list[int] | None = None, max_per_need: int | None = None, unit_value: int = 0,
                status: str = "published", period: str = PERIOD) -> int:
    rows = await Offer.insert(Offer(lks=lks_id, title="Bantuan", period=period, kind=kind, is_goods=bool(unit_value),
                                    unit="paket" if unit_value else "", unit_value=unit_value, capacity=capacity,
                                    remaining=capacity, areas=areas or [], ppks=ppks or [], max_per_need=max_per_need,
                                    status=status)).returning(Offer.id)
    return int(rows[0]["id"])


async def aid(household_id: int, kind: str, amount: int, program: str = "BPNT", period: str = PERIOD) -> None:
    await GovernmentAid.insert(GovernmentAid(household=household_id, program=program, kind=kind, period=period,
                                             amount=amount))


async def many_needs(count: int, seed: int = 1) -> None:
    """``count`` verified needs over the pilot kecamatan and scarce offers: a model that takes a while."""
    rng = random.Random(seed)
    kelurahan = [f"32.73.03.10{i:02d}" for i in range(1, 7)] + [f"32.73.04.10{i:02d}" for i in range(1, 5)]
    households = []
    for start in range(0, count, 500):
        batch = [Household(kk_cipher="x", kk_hash=f"h{i}", kelurahan_code=rng.choice(kelurahan),
                           desil=rng.randint(1, 4)) for i in range(start, min(count, start + 500))]
        rows = await Household.insert(*batch).returning(Household.id)
        households += [r["id"] for r in rows]
    for start in range(0, count, 500):
        await Need.insert(*[Need(household=h, ppks=rng.randint(1, 26),
                                 kind=rng.choice(["pangan", "kesehatan", "tunai"]),
                                 amount=rng.randrange(100_000, 2_000_000, 50_000), priority=rng.randint(1, 100),
                                 status="verified") for h in households[start:start + 500]])
    for i in range(40):
        owner = await lks(f"LKS {i}")
        await offer(owner, kind=["pangan", "kesehatan", "tunai"][i % 3], capacity=rng.randrange(2_000_000, 20_000_000),
                    areas=[rng.choice(["32.73.03", "32.73.04"])], ppks=rng.sample(range(1, 27), 12))
