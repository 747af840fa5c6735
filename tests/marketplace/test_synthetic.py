"""The synthetic data generator: deterministic, structurally valid, and at Kota Bandung's figures."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

import pytest

from marketplace import regions
from marketplace.identity import check_kk, check_nik, kecamatan_digits
from marketplace.priority import priority
from marketplace.synthetic import (
    CITY_HOUSEHOLDS,
    PROGRAMS,
    Dataset,
    build_chunk,
    generate,
)
from marketplace.vocabulary import PPKS_TYPES, Kind

PERIOD = "2026-11"


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return generate("demo", 7, PERIOD)


def test_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first, again, other = generate("demo", 11, PERIOD), generate("demo", 11, PERIOD), generate("demo", 12, PERIOD)
    assert first.lks == again.lks and first.offers == again.offers
    assert list(first.chunks()) == list(again.chunks())
    assert first.lks != other.lks
    assert first.chunk(0).households != other.chunk(0).households


def test_a_chunk_built_alone_equals_the_streamed_one(demo: Dataset) -> None:
    for index in (0, 75, len(demo.plan) - 1):
        assert build_chunk("demo", 7, PERIOD, index) == demo.chunk(index)


def test_scales_and_household_numbers(demo: Dataset) -> None:
    assert demo.household_count == 2_000
    assert generate("small", 1, PERIOD).household_count == 10_000
    numbers = [h.no for chunk in demo.chunks() for h in chunk.households]
    assert numbers == list(range(1, 2_001))
    with pytest.raises(ValueError):
        generate("huge", 1, PERIOD)


def test_every_nik_and_kk_is_valid_unique_and_of_the_households_kecamatan(demo: Dataset) -> None:
    niks: set[str] = set()
    kks: set[str] = set()
    members = 0
    for chunk in demo.chunks():
        prefix = kecamatan_digits(chunk.kelurahan_code[:8])
        for household in chunk.households:
            check_kk(household.kk)
            assert household.kk.startswith(prefix)
            kks.add(household.kk)
        for member in chunk.members:
            check_nik(member.nik, member.birth_date, member.sex)
            assert member.nik.startswith(prefix)
            niks.add(member.nik)
            members += 1
    assert len(kks) == demo.household_count
    assert len(niks) == members


def test_region_codes_are_valid(demo: Dataset) -> None:
    kecamatan = {k.code for k in regions.kecamatan()}
    for chunk in demo.chunks():
        assert regions.is_kelurahan(chunk.kelurahan_code)
        assert all(h.kelurahan_code == chunk.kelurahan_code for h in chunk.households)
    for lks in demo.lks:
        assert lks.kecamatan_code in kecamatan
        assert all(a in kecamatan or regions.is_kelurahan(a) for a in lks.areas)
    for offer in demo.offers:
        assert all(a in kecamatan or regions.is_kelurahan(a) for a in offer.areas)


def test_records_are_consistent(demo: Dataset) -> None:
    kinds = {k.value for k in Kind}
    for chunk in demo.chunks():
        heads = Counter(m.household_no for m in chunk.members if m.relation == "kepala")
        assert all(heads[h.no] == 1 for h in chunk.households)
        for h in chunk.households:
            assert 1 <= h.desil <= 10 and len(h.rt) == len(h.rw) == 3
        for need in chunk.needs:
            assert need.ppks in PPKS_TYPES and need.kind in kinds
            assert need.amount > 0 and need.priority > 0
            assert need.status in {"verified", "submitted", "assessed"}
            assert (need.verified_at is not None) == (need.status == "verified")
        desil = {h.no: h.desil for h in chunk.households}
        for aid in chunk.aid:
            kind, desil_max = PROGRAMS[aid.program]
            assert aid.kind == kind and aid.amount > 0 and aid.period == PERIOD
            assert desil[aid.household_no] <= desil_max
    verified = {lks.no for lks in demo.lks if lks.status == "verified"}
    assert demo.offers and {o.lks_no for o in demo.offers} <= verified
    for offer in demo.offers:
        assert offer.kind in kinds and offer.capacity > 0 and offer.period == PERIOD
        assert (offer.unit != "" and offer.unit_value > 0) if offer.is_goods else offer.unit_value == 0


def test_programmes_are_those_of_the_reference_data() -> None:
    from storage.migrate import DEFAULT_PROGRAMS

    assert {code: (kind, desil_max) for code, _n, _b, kind, desil_max in DEFAULT_PROGRAMS} == PROGRAMS


def test_needs_carry_the_domain_priority_formula(demo: Dataset) -> None:
    chunk = demo.chunk(0)
    households = {h.no: h for h in chunk.households}
    for need in chunk.needs:
        h = households[need.household_no]
        assert need.priority == priority(desil=h.desil, extreme_poor=h.extreme_poor, ppks=need.ppks,
                                         submitted_on=need.submitted_at.date(), today=demo.reference_date)
    poorest = [n.priority for n in chunk.needs if households[n.household_no].desil == 1]
    richest = [n.priority for n in chunk.needs if households[n.household_no].desil >= 7]
    if poorest and richest:
        assert statistics.mean(poorest) > statistics.mean(richest)


# ---------------------------------------------------------------------------------------------------
# City scale: the published figures (DOMAIN.md), generated without a database.


@dataclass
class CityFigures:
    households: int = 0
    members: int = 0
    extreme_poor: int = 0
    with_aid: int = 0
    needs: int = 0
    desil: Counter[int] = field(default_factory=Counter)
    per_kelurahan: dict[str, int] = field(default_factory=dict)
    ppks: set[int] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    unique_ids: bool = True
    dataset: Dataset | None = None


@pytest.fixture(scope="module")
def city() -> CityFigures:
    dataset = generate("city", 1, PERIOD)
    figures = CityFigures(dataset=dataset)
    niks: set[int] = set()
    kks: set[int] = set()
    for chunk in dataset.chunks():
        figures.households += len(chunk.households)
        figures.members += len(chunk.members)
        figures.needs += len(chunk.needs)
        figures.extreme_poor += sum(h.extreme_poor for h in chunk.households)
        figures.with_aid += len({a.household_no for a in chunk.aid})
        figures.desil.update(h.desil for h in chunk.households)
        figures.per_kelurahan[chunk.kelurahan_code] = len(chunk.households)
        figures.ppks.update(n.ppks for n in chunk.needs)
        figures.kinds.update(n.kind for n in chunk.needs)
        niks.update(int(m.nik) for m in chunk.members)
        kks.update(int(h.kk) for h in chunk.households)
    figures.unique_ids = len(niks) == figures.members and len(kks) == figures.households
    return figures


@pytest.mark.slow
def test_city_households_extreme_poverty_and_government_aid(city: CityFigures) -> None:
    assert city.households == CITY_HOUSEHOLDS == 330_573
    assert abs(city.extreme_poor - 87_000) <= 0.03 * 87_000
    assert abs(city.with_aid - 96_000) <= 0.03 * 96_000
    assert city.unique_ids


@pytest.mark.slow
def test_city_desil_mostly_1_to_4(city: CityFigures) -> None:
    poorest = sum(city.desil[d] for d in (1, 2, 3, 4))
    assert poorest > 0.6 * city.households
    assert set(city.desil) <= set(range(1, 11))


@pytest.mark.slow
def test_city_spread_over_all_kelurahan_denser_in_the_pilots(city: CityFigures) -> None:
    assert set(city.per_kelurahan) == {k.code for k in regions.kelurahan()}
    assert all(count > 0 for count in city.per_kelurahan.values())
    average = city.households / 151
    pilot = [n for code, n in city.per_kelurahan.items() if code[:8] in regions.PILOT_KECAMATAN]
    assert statistics.mean(pilot) > 1.5 * average


@pytest.mark.slow
def test_city_needs_cover_every_ppks_type_and_kind(city: CityFigures) -> None:
    assert city.ppks == set(PPKS_TYPES)
    assert city.kinds == {k.value for k in Kind}
    assert 460_000 <= city.needs <= 520_000  # about 1.5 per household


@pytest.mark.slow
def test_city_lks_budgets_average_five_billion_and_are_skewed(city: CityFigures) -> None:
    assert city.dataset is not None
    lks = city.dataset.lks
    assert len(lks) == 300
    budgets = [x.annual_budget for x in lks]
    mean = statistics.mean(budgets)
    assert abs(mean - 5_000_000_000) <= 0.05 * 5_000_000_000
    assert statistics.median(budgets) < 0.75 * mean
    assert max(budgets) > 5 * mean
    assert sum(x.status == "verified" for x in lks) > 0.8 * len(lks)
