"""Synthetic Kota Bandung welfare data at the city's published figures (DOMAIN.md), deterministic by seed.

No real DTKS data is public, nor may it be: this generator makes realistic data instead. Every person is
invented (given and family names are drawn independently from lists of common Sundanese/Indonesian
names), yet every NIK and No. KK is structurally valid (``marketplace.identity``): 16 digits, the
household's kecamatan prefix, the birth date and sex encoded in the NIK, and unique.

Shape of the data:

- ``generate(scale, seed)`` returns a :class:`Dataset`. Its LKS and offers are small lists; the
  households come in one :class:`Chunk` per kelurahan (``dataset.chunks()``), so memory stays modest at
  city scale. Each chunk has its own random stream (seeded by the seed and the kelurahan code), so any
  chunk can be built alone, in any process, and always comes out the same (``dataset.chunk(i)``).
- Records refer to each other by numbers: ``household_no`` (1..N over the whole dataset) and
  ``lks_no`` (1..L). A loader maps them to database ids.
- Shares are calibrated so that the expected counts hit the published figures: 330,573 KK at city scale,
  about 87,000 in extreme poverty (P3KE), about 96,000 receiving APBN/APBD aid, about 1.5 needs per KK,
  300 LKS with yearly budgets averaging Rp 5 billion (lognormal: a few large, many small).

Priority: the domain's formula (``marketplace.priority.priority``), from desil, extreme poverty, PPKS
severity and the time a need has waited, exactly as verification computes it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from marketplace import clock, regions
from marketplace.identity import make_kk, make_nik
from marketplace.priority import priority
from marketplace.vocabulary import Kind

# --------------------------------------------------------------------------------------------------
# Scales and published figures

SCALES: dict[str, int] = {"demo": 2_000, "small": 10_000, "city": 330_573}
LKS_COUNTS: dict[str, int] = {"demo": 20, "small": 50, "city": 300}
CITY_HOUSEHOLDS = 330_573
CITY_EXTREME_POOR = 87_000
CITY_WITH_AID = 96_000
NEEDS_PER_HOUSEHOLD = 490_000 / CITY_HOUSEHOLDS
LKS_MEAN_BUDGET = 5_000_000_000
LKS_BUDGET_SIGMA = 1.1
"""Lognormal spread of LKS budgets: median ≈ mean / e^(σ²/2) ≈ 0.55 × mean."""

# Welfare decile of PPKS households: mostly desil 1–4.
DESIL_SHARES: dict[int, float] = {1: 0.25, 2: 0.22, 3: 0.18, 4: 0.13, 5: 0.09, 6: 0.06, 7: 0.04,
                                  8: 0.02, 9: 0.007, 10: 0.003}
# Relative chance, by desil, of being on the P3KE list and of receiving government aid; scaled below so
# that the expected shares equal the city's figures.
_EXTREME_WEIGHT = {1: 1.0, 2: 0.35, 3: 0.1, 4: 0.04}
_AID_WEIGHT = {1: 1.0, 2: 0.9, 3: 0.7, 4: 0.5, 5: 0.3}


def _calibrate(weights: dict[int, float], target_share: float) -> dict[int, float]:
    expected = sum(DESIL_SHARES[d] * w for d, w in weights.items())
    factor = target_share / expected
    return {d: min(1.0, weights.get(d, 0.0) * factor) for d in DESIL_SHARES}


P_EXTREME = _calibrate(_EXTREME_WEIGHT, CITY_EXTREME_POOR / CITY_HOUSEHOLDS)
P_AID = _calibrate(_AID_WEIGHT, CITY_WITH_AID / CITY_HOUSEHOLDS)

# Kecamatan with more PPKS households per kelurahan: the SLRT pilots, other dense poor kecamatan, and
# the affluent north with fewer.
KECAMATAN_DENSITY: dict[str, float] = {
    **{code: 2.2 for code in regions.PILOT_KECAMATAN},
    "32.73.05": 1.4,  # Andir
    "32.73.10": 1.4,  # Astanaanyar
    "32.73.12": 1.3,  # Batununggal
    "32.73.14": 1.4,  # Cibeunying Kidul
    "32.73.16": 1.5,  # Kiaracondong
    "32.73.17": 1.5,  # Bojongloa Kidul
    "32.73.01": 0.6,  # Sukasari
    "32.73.02": 0.6,  # Coblong
    "32.73.08": 0.6,  # Cidadap
    "32.73.09": 0.5,  # Bandung Wetan
    "32.73.19": 0.5,  # Sumur Bandung
}

# Government programmes (the same codes, kinds and desil limits as storage.migrate.DEFAULT_PROGRAMS;
# a test keeps them equal).
PROGRAMS: dict[str, tuple[str, int]] = {
    "PKH": ("tunai", 4),
    "BPNT": ("pangan", 5),
    "PBI-JK": ("kesehatan", 5),
    "PIP": ("pendidikan", 4),
    "RUTILAHU": ("perumahan", 3),
    "ATENSI": ("rehabilitasi", 4),
}
BPNT_MONTHLY = 200_000
PBI_PREMIUM = 42_000
"""BPJS Kesehatan class III premium per person per month, paid by the government for PBI-JK."""
# PKH components (monthly equivalent of the yearly amounts), at most four per family.
PKH_EARLY_CHILD = 250_000  # Rp 3.0 million a year, children 0–6 (and pregnancy)
PKH_SD, PKH_SMP, PKH_SMA = 75_000, 125_000, 166_000  # Rp 0.9 / 1.5 / 2.0 million a year
PKH_ELDERLY = PKH_DISABILITY = 200_000  # Rp 2.4 million a year
# PIP: Rp 450,000 / 750,000 / 1,800,000 a year for SD / SMP / SMA, monthly equivalent.
PIP_SD, PIP_SMP, PIP_SMA = 37_500, 62_500, 150_000
RUTILAHU_GRANT = 20_000_000
ATENSI_MONTHLY = 600_000

# --------------------------------------------------------------------------------------------------
# Names, places (all combined at random: never real people)

MALE_NAMES = (
    "Asep", "Ujang", "Dede", "Cecep", "Dadang", "Ade", "Agus", "Iwan", "Yayan", "Engkus", "Acep", "Aep",
    "Deden", "Endang", "Iman", "Jajang", "Kurnia", "Mamat", "Nana", "Oman", "Rahmat", "Ridwan", "Sutisna",
    "Ceceng", "Wawan", "Yusuf", "Budi", "Hendra", "Rudi", "Dodi", "Eko", "Ahmad", "Dadan", "Encep",
    "Herman", "Kusnadi", "Maman", "Ohim", "Tatang", "Usep", "Wahyu", "Yudi", "Entis", "Didin", "Aang",
    "Ilham", "Taufik", "Nandang", "Komar", "Odang",
)
FEMALE_NAMES = (
    "Euis", "Neneng", "Nenden", "Imas", "Iis", "Enok", "Cucu", "Popon", "Yati", "Elis", "Lilis", "Nining",
    "Ai", "Teti", "Titin", "Rina", "Siti", "Dewi", "Yuyun", "Wida", "Rika", "Tati", "Neni", "Ratna", "Kokom",
    "Entin", "Enung", "Eti", "Heni", "Iin", "Juju", "Mimin", "Nani", "Onih", "Pipin", "Rohayati", "Sri",
    "Tuti", "Uum", "Yeni", "Nurhayati", "Dedeh", "Empat", "Ika", "Lina", "Mulyati", "Nia", "Rosita",
)
CHILD_MALE_NAMES = (
    "Muhammad Rizki", "Aditya", "Rafi", "Fajar", "Raka", "Dimas", "Farhan", "Gilang", "Ilyas", "Naufal",
    "Rangga", "Bintang", "Fikri", "Haikal", "Zidan", "Arkan", "Daffa", "Alif", "Azka", "Rizal",
)
CHILD_FEMALE_NAMES = (
    "Nabila", "Aulia", "Zahra", "Putri", "Salsabila", "Alya", "Syifa", "Nadia", "Keysha", "Intan", "Citra",
    "Anisa", "Khansa", "Rahma", "Tiara", "Zaskia", "Fitri", "Nayla", "Kirana", "Amelia",
)
FAMILY_NAMES = (
    "Suryana", "Hidayat", "Permana", "Supriatna", "Sudrajat", "Kurniawan", "Setiawan", "Gunawan", "Rohman",
    "Saepudin", "Sumarna", "Hermawan", "Nugraha", "Ruhiyat", "Mulyana", "Sopandi", "Wijaya", "Rustandi",
    "Suganda", "Kusnadi", "Sobari", "Hamdani", "Sutarman", "Maulana", "Ramdani", "Firmansyah", "Hakim",
    "Syarifudin", "Komarudin", "Solihin", "Darmawan", "Hendrayana", "Juhana", "Kartika", "Lesmana",
    "Mulyadi", "Nurjaman", "Pratama", "Rosadi", "Sukmana",
)
STREETS = (
    "Jl. Sukamulya", "Gg. Mesjid", "Jl. Babakan", "Gg. Sukaasih", "Jl. Mekarsari", "Gg. Melati", "Gg. Mawar",
    "Jl. Kenanga", "Gg. Cempaka", "Jl. Bojong", "Gg. Harapan", "Jl. Sukamaju", "Gg. Sukarame", "Jl. Cibogo",
    "Gg. Sadar", "Gg. Rahayu", "Jl. Situ", "Gg. Kujang", "Jl. Leuwi", "Gg. Pabrik", "Gg. Tanjung",
    "Jl. Warung", "Gg. Lebak", "Gg. Sawah", "Jl. Pasir",
)
DISABILITIES = ("fisik", "netra", "rungu", "wicara", "intelektual", "mental", "ganda")

# --------------------------------------------------------------------------------------------------
# Needs: PPKS types, intervention kinds, amounts

# Relative frequency of the 26 PPKS types among needs (fakir miskin dominates; all types occur).
PPKS_WEIGHTS: dict[int, float] = {
    1: 2.0, 2: 4.0, 3: 0.6, 4: 1.5, 5: 1.5, 6: 1.0, 7: 1.0, 8: 8.0, 9: 6.0, 10: 0.4, 11: 1.0, 12: 1.0,
    13: 2.5, 14: 0.3, 15: 0.8, 16: 0.6, 17: 0.8, 18: 0.2, 19: 1.2, 20: 0.8, 21: 2.0, 22: 1.0, 23: 7.0,
    24: 40.0, 25: 2.0, 26: 0.05,
}
_K = Kind
# The interventions that fit each PPKS type, with relative weights.
PPKS_KINDS: dict[int, tuple[tuple[Kind, ...], tuple[float, ...]]] = {
    1: ((_K.KESEHATAN, _K.PANGAN, _K.REHABILITASI), (4, 4, 2)),
    2: ((_K.PENDIDIKAN, _K.PANGAN, _K.REHABILITASI, _K.KESEHATAN), (4, 3, 2, 1)),
    3: ((_K.REHABILITASI, _K.PENDIDIKAN), (7, 3)),
    4: ((_K.REHABILITASI, _K.PENDIDIKAN, _K.PANGAN), (4, 4, 2)),
    5: ((_K.ALAT_BANTU, _K.REHABILITASI, _K.KESEHATAN, _K.PENDIDIKAN), (4, 3, 2, 1)),
    6: ((_K.REHABILITASI, _K.KESEHATAN), (7, 3)),
    7: ((_K.REHABILITASI, _K.PENDIDIKAN, _K.KESEHATAN), (5, 3, 2)),
    8: ((_K.PANGAN, _K.KESEHATAN, _K.TUNAI, _K.ALAT_BANTU), (4, 3, 2, 1)),
    9: ((_K.ALAT_BANTU, _K.REHABILITASI, _K.KESEHATAN, _K.PEMBERDAYAAN), (4, 2, 2, 2)),
    10: ((_K.REHABILITASI, _K.PEMBERDAYAAN), (6, 4)),
    11: ((_K.PANGAN, _K.PERUMAHAN, _K.REHABILITASI), (4, 3, 3)),
    12: ((_K.REHABILITASI, _K.PANGAN, _K.PEMBERDAYAAN), (4, 3, 3)),
    13: ((_K.PEMBERDAYAAN, _K.PANGAN, _K.KESEHATAN), (4, 4, 2)),
    14: ((_K.PEMBERDAYAAN, _K.PENDIDIKAN), (5, 5)),
    15: ((_K.PEMBERDAYAAN, _K.REHABILITASI), (6, 4)),
    16: ((_K.KESEHATAN, _K.REHABILITASI, _K.PANGAN), (5, 3, 2)),
    17: ((_K.REHABILITASI, _K.KESEHATAN), (8, 2)),
    18: ((_K.REHABILITASI, _K.PEMBERDAYAAN), (6, 4)),
    19: ((_K.REHABILITASI, _K.KESEHATAN), (6, 4)),
    20: ((_K.PEMBERDAYAAN, _K.TUNAI, _K.REHABILITASI), (5, 3, 2)),
    21: ((_K.PERUMAHAN, _K.PANGAN, _K.TUNAI), (4, 4, 2)),
    22: ((_K.PANGAN, _K.TUNAI, _K.REHABILITASI), (4, 3, 3)),
    23: ((_K.PEMBERDAYAAN, _K.TUNAI, _K.PANGAN), (5, 3, 2)),
    24: ((_K.PANGAN, _K.TUNAI, _K.PEMBERDAYAAN, _K.PERUMAHAN, _K.KESEHATAN, _K.PENDIDIKAN),
         (35, 18, 15, 10, 12, 10)),
    25: ((_K.REHABILITASI, _K.PEMBERDAYAAN), (7, 3)),
    26: ((_K.PEMBERDAYAAN, _K.PANGAN, _K.PENDIDIKAN), (4, 3, 3)),
}
# Amount tiers per kind, in rupiah for the period: (share, low, high, rounding step).
AMOUNT_TIERS: dict[Kind, tuple[tuple[float, int, int, int], ...]] = {
    _K.PANGAN: ((0.7, 150_000, 400_000, 10_000), (0.3, 400_000, 900_000, 50_000)),
    _K.KESEHATAN: ((0.6, 150_000, 1_000_000, 10_000), (0.35, 1_000_000, 5_000_000, 50_000),
                   (0.05, 10_000_000, 75_000_000, 500_000)),  # e.g. surgery: handled by Dinsos itself
    _K.PENDIDIKAN: ((0.7, 250_000, 1_000_000, 10_000), (0.3, 1_000_000, 3_000_000, 50_000)),
    _K.PERUMAHAN: ((0.5, 1_000_000, 5_000_000, 100_000), (0.5, 5_000_000, 20_000_000, 500_000)),
    _K.TUNAI: ((1.0, 300_000, 1_000_000, 50_000),),
    _K.ALAT_BANTU: ((0.4, 200_000, 800_000, 10_000), (0.6, 1_500_000, 5_000_000, 50_000)),
    _K.REHABILITASI: ((0.6, 500_000, 2_000_000, 50_000), (0.4, 2_000_000, 6_000_000, 100_000)),
    _K.PEMBERDAYAAN: ((0.5, 500_000, 2_000_000, 50_000), (0.5, 2_000_000, 5_000_000, 100_000)),
}
NEED_COUNT_SHARES = ((1, 0.635), (2, 0.265), (3, 0.08), (4, 0.02))
NEED_STATUS_SHARES = (("verified", 0.85), ("assessed", 0.08), ("submitted", 0.07))
URGENT_PPKS = frozenset({1, 2, 6, 8, 11, 18, 19, 21})


# --------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    no: int
    kk: str
    kelurahan_code: str
    address: str
    rt: str
    rw: str
    phone: str
    desil: int
    extreme_poor: bool


@dataclass(frozen=True, slots=True)
class MemberRecord:
    household_no: int
    nik: str
    name: str
    birth_date: date
    sex: str  # L | P
    relation: str  # kepala | istri | suami | anak | orang_tua | lainnya
    disability: str


@dataclass(frozen=True, slots=True)
class NeedRecord:
    household_no: int
    ppks: int
    kind: str
    amount: int
    status: str
    priority: int
    submitted_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class AidRecord:
    household_no: int
    program: str
    kind: str
    period: str
    amount: int


@dataclass(frozen=True, slots=True)
class LksRecord:
    no: int
    name: str
    legal_type: str  # yayasan | perkumpulan | csr
    deed_number: str
    decree_number: str
    dinsos_reg_number: str
    address: str
    kecamatan_code: str
    contact_name: str
    phone: str
    email: str
    bank_name: str
    bank_account: str
    ppks_served: tuple[int, ...]
    areas: tuple[str, ...]
    annual_budget: int
    status: str  # verified | applied
    verified_at: datetime | None
    theme: str = "umum"
    """What it mostly does (``LKS_THEMES``); decides the kinds it offers. Not stored."""


@dataclass(frozen=True, slots=True)
class OfferRecord:
    lks_no: int
    title: str
    period: str
    kind: str
    is_goods: bool
    unit: str
    unit_value: int
    capacity: int
    """Rupiah for funds, units for goods."""
    areas: tuple[str, ...]
    ppks: tuple[int, ...]
    max_per_need: int | None
    status: str


@dataclass(slots=True)
class Chunk:
    """The households of one kelurahan, with their members, needs and government aid."""

    kelurahan_code: str
    households: list[HouseholdRecord] = field(default_factory=list)
    members: list[MemberRecord] = field(default_factory=list)
    needs: list[NeedRecord] = field(default_factory=list)
    aid: list[AidRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KelurahanPlan:
    code: str
    households: int
    first_no: int
    index_in_kecamatan: int
    """1..9: the thousands digit of the serials of NIK and No. KK issued here (keeps them unique)."""


# --------------------------------------------------------------------------------------------------
# The dataset


@dataclass(frozen=True)
class Dataset:
    scale: str
    seed: int
    period: str
    reference_date: date
    plan: tuple[KelurahanPlan, ...]
    lks: tuple[LksRecord, ...]
    offers: tuple[OfferRecord, ...]

    @property
    def household_count(self) -> int:
        return sum(k.households for k in self.plan)

    def chunk(self, index: int) -> Chunk:
        return _build_chunk(self, self.plan[index])

    def chunks(self) -> Iterator[Chunk]:
        for index in range(len(self.plan)):
            yield self.chunk(index)


def current_period(today: date | None = None) -> str:
    today = today or clock.today()
    return f"{today.year:04d}-{today.month:02d}"


def generate(scale: str | int = "demo", seed: int = 2026, period: str | None = None) -> Dataset:
    """The dataset for a scale (``demo``, ``small``, ``city`` or a number of households) and seed.

    ``period`` (``YYYY-MM``, default the current month) is the month of the offers and government aid;
    ages are counted at its first day.
    """
    if isinstance(scale, int):
        households, lks_count, name = scale, max(10, round(300 * scale / CITY_HOUSEHOLDS)), str(scale)
    elif scale in SCALES:
        households, lks_count, name = SCALES[scale], LKS_COUNTS[scale], scale
    else:
        raise ValueError(f"skala tidak dikenal: {scale!r} (demo, small, city)")
    period = period or current_period()
    reference = date(int(period[:4]), int(period[5:7]), 1)
    plan = _plan_kelurahan(households, seed)
    lks = _make_lks(lks_count, seed, reference)
    offers = _make_offers(lks, seed, period)
    return Dataset(name, seed, period, reference, plan, lks, offers)


@lru_cache(maxsize=4)
def _cached(scale: str | int, seed: int, period: str) -> Dataset:
    return generate(scale, seed, period)


def build_chunk(scale: str | int, seed: int, period: str, index: int) -> Chunk:
    """One chunk, built from the parameters alone (for worker processes)."""
    return _cached(scale, seed, period).chunk(index)


# --------------------------------------------------------------------------------------------------
# Households, spread over the kelurahan


def _plan_kelurahan(total: int, seed: int) -> tuple[KelurahanPlan, ...]:
    rng = random.Random(f"jitu-synthetic:{seed}:plan")
    kelurahan = regions.kelurahan()
    weights = [KECAMATAN_DENSITY.get(k.kecamatan_code, 1.0) * rng.uniform(0.8, 1.2) for k in kelurahan]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    plans: list[KelurahanPlan] = []
    first = 1
    seen: dict[str, int] = {}
    for region, count in zip(kelurahan, counts, strict=True):
        index = seen[region.kecamatan_code] = seen.get(region.kecamatan_code, 0) + 1
        assert index <= 9, "at most 9 kelurahan per kecamatan keep NIK serials unique"
        plans.append(KelurahanPlan(region.code, count, first, index))
        first += count
    return tuple(plans)


def _cum(weights: list[float] | tuple[float, ...]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


_DESILS = list(DESIL_SHARES)
_DESIL_CUM = _cum(list(DESIL_SHARES.values()))
_PPKS_IDS = list(PPKS_WEIGHTS)
_PPKS_CUM = _cum(list(PPKS_WEIGHTS.values()))
_KIND_CUM = {p: (kinds, _cum(weights)) for p, (kinds, weights) in PPKS_KINDS.items()}
_NEED_COUNTS = [n for n, _ in NEED_COUNT_SHARES]
_NEED_COUNT_CUM = _cum([s for _, s in NEED_COUNT_SHARES])
_STATUSES = [s for s, _ in NEED_STATUS_SHARES]
_STATUS_CUM = _cum([s for _, s in NEED_STATUS_SHARES])
_SIZES = [1, 2, 3, 4, 5, 6, 7, 8]
_SIZE_CUM = _cum([0.08, 0.15, 0.22, 0.25, 0.16, 0.09, 0.03, 0.02])


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth(rng: random.Random, reference: date, age: int) -> date:
    """A birth date at which a person is ``age`` years old on ``reference``."""
    return reference - timedelta(days=age * 365 + rng.randrange(0, 365) + age // 4)


def _amount(rng: random.Random, kind: Kind) -> int:
    tiers = AMOUNT_TIERS[kind]
    r = rng.random()
    tier = tiers[-1]
    for candidate in tiers:
        if r < candidate[0]:
            tier = candidate
            break
        r -= candidate[0]
    _share, low, high, step = tier
    return max(step, round(rng.uniform(low, high) / step) * step)


def _build_chunk(dataset: Dataset, plan: KelurahanPlan) -> Chunk:
    rng = random.Random(f"jitu-synthetic:{dataset.seed}:{plan.code}")
    reference = dataset.reference_date
    period = dataset.period
    kecamatan = plan.code[:8]
    serial_base = plan.index_in_kecamatan * 1000
    nik_counter: dict[tuple[date, str], int] = {}
    kk_counter: dict[date, int] = {}
    period_start = datetime(reference.year, reference.month, 1, tzinfo=UTC)
    chunk = Chunk(plan.code)
    rand, randrange, choice, choices = rng.random, rng.randrange, rng.choice, rng.choices
    kk_days = (reference - date(2008, 1, 1)).days

    def nik_for(birth: date, sex: str) -> str:
        key = (birth, sex)
        n = nik_counter[key] = nik_counter.get(key, 0) + 1
        assert n < 1000
        return make_nik(kecamatan, birth, sex, serial_base + n)

    for offset in range(plan.households):
        no = plan.first_no + offset
        issued = date(2008, 1, 1) + timedelta(days=randrange(kk_days))
        k = kk_counter[issued] = kk_counter.get(issued, 0) + 1
        kk = make_kk(kecamatan, issued, serial_base + k)
        desil = choices(_DESILS, cum_weights=_DESIL_CUM)[0]
        extreme = rand() < P_EXTREME[desil]
        phone = "" if rand() < 0.15 else f"08{choice('123578')}{randrange(10)}0000{randrange(10000):04d}"
        chunk.households.append(HouseholdRecord(
            no, kk, plan.code, f"{choice(STREETS)} No. {randrange(1, 200)}", f"{randrange(1, 16):03d}",
            f"{randrange(1, 13):03d}", phone, desil, extreme,
        ))

        # Members: head (a woman in a quarter of households), spouse, children, perhaps an elderly parent.
        size = choices(_SIZES, cum_weights=_SIZE_CUM)[0]
        family = choice(FAMILY_NAMES)
        head_sex = "P" if rand() < 0.25 else "L"
        head_age = min(90, 22 + int(rng.expovariate(1 / 20))) if size > 1 else 25 + randrange(66)
        people: list[tuple[str, date, str, str]] = []  # name, birth, sex, relation
        head_name = choice(MALE_NAMES if head_sex == "L" else FEMALE_NAMES)
        people.append((f"{head_name} {family}", _birth(rng, reference, head_age), head_sex, "kepala"))
        left = size - 1
        if left and head_sex == "L" and rand() < 0.85:
            age = max(18, min(90, head_age + randrange(-8, 3)))
            people.append((choice(FEMALE_NAMES), _birth(rng, reference, age), "P", "istri"))
            left -= 1
        if left and rand() < 0.12 and head_age < 60:
            sex = "P" if rand() < 0.7 else "L"
            name = choice(FEMALE_NAMES if sex == "P" else MALE_NAMES)
            people.append((name, _birth(rng, reference, head_age + 22 + randrange(15)), sex, "orang_tua"))
            left -= 1
        oldest_child = max(0, min(30, head_age - 18))
        for _ in range(left):
            if oldest_child == 0:
                sex = "P" if rand() < 0.5 else "L"
                name = choice(FEMALE_NAMES if sex == "P" else MALE_NAMES)
                people.append((f"{name} {family}", _birth(rng, reference, 18 + randrange(50)), sex, "lainnya"))
                continue
            sex = "P" if rand() < 0.5 else "L"
            given = choice(CHILD_FEMALE_NAMES if sex == "P" else CHILD_MALE_NAMES)
            people.append((f"{given} {family}", _birth(rng, reference, randrange(oldest_child + 1)), sex, "anak"))

        ages: list[int] = []
        has_disabled = disabled_child = has_elder = False
        for name, birth, sex, relation in people:
            disability = ""
            if rand() < 0.05:
                disability = choice(DISABILITIES)
            age = _age(birth, reference)
            ages.append(age)
            if disability:
                has_disabled = True
                disabled_child = disabled_child or age < 18
            has_elder = has_elder or age >= 60
            chunk.members.append(MemberRecord(no, nik_for(birth, sex), name, birth, sex, relation, disability))

        # Needs by problem.
        n_needs = choices(_NEED_COUNTS, cum_weights=_NEED_COUNT_CUM)[0]
        for _ in range(n_needs):
            r = rand()
            if has_disabled and r < 0.3:
                ppks = 5 if disabled_child else 9
            elif has_elder and r < 0.45:
                ppks = 8
            elif head_sex == "P" and r < 0.6:
                ppks = 23
            else:
                ppks = choices(_PPKS_IDS, cum_weights=_PPKS_CUM)[0]
            kinds, cum = _KIND_CUM[ppks]
            kind = choices(kinds, cum_weights=cum)[0]
            status = choices(_STATUSES, cum_weights=_STATUS_CUM)[0]
            waited = 1 + randrange(180)
            submitted = period_start - timedelta(days=waited, seconds=randrange(86_400))
            verified = None
            if status == "verified":
                verified = submitted + timedelta(days=min(waited - 1, 1 + randrange(20)), seconds=randrange(3600))
            chunk.needs.append(NeedRecord(
                no, ppks, kind.value, _amount(rng, kind), status,
                priority(desil=desil, extreme_poor=extreme, ppks=ppks, submitted_on=submitted.date(), today=reference),
                submitted, verified,
            ))

        # Government aid received this period.
        if rand() < P_AID[desil]:
            chunk.aid.extend(_aid(rng, no, desil, ages, has_disabled, has_elder, period))
    return chunk


def _aid(rng: random.Random, no: int, desil: int, ages: list[int], disabled: bool, elder: bool,
         period: str) -> list[AidRecord]:
    aid: list[AidRecord] = []
    rand = rng.random

    def give(code: str, amount: int) -> None:
        kind, desil_max = PROGRAMS[code]
        if desil <= desil_max and amount > 0:
            aid.append(AidRecord(no, code, kind, period, amount))

    school = [a for a in ages if 6 <= a <= 18]
    if rand() < 0.8:
        give("PBI-JK", PBI_PREMIUM * len(ages))
    if rand() < 0.6:
        give("BPNT", BPNT_MONTHLY)
    if rand() < 0.6:
        components = sorted(
            [PKH_EARLY_CHILD for a in ages if a <= 6]
            + [PKH_SD if a <= 12 else PKH_SMP if a <= 15 else PKH_SMA for a in school]
            + ([PKH_ELDERLY] if elder else []) + ([PKH_DISABILITY] if disabled else []),
            reverse=True,
        )[:4]
        give("PKH", sum(components))
    if school and rand() < 0.5:
        give("PIP", sum(PIP_SD if a <= 12 else PIP_SMP if a <= 15 else PIP_SMA for a in school))
    if rand() < 0.01:
        give("RUTILAHU", RUTILAHU_GRANT)
    if rand() < (0.15 if disabled else 0.02):
        give("ATENSI", ATENSI_MONTHLY)
    if not aid:
        give("PBI-JK", PBI_PREMIUM * len(ages))  # every recipient household gets at least one programme
    return aid


# --------------------------------------------------------------------------------------------------
# LKS and their offers

# (theme, name stems, PPKS served (empty: all), kinds offered)
LKS_THEMES: tuple[tuple[str, tuple[str, ...], tuple[int, ...], tuple[Kind, ...]], ...] = (
    ("anak", ("Panti Asuhan", "Kasih Anak", "Harapan Bangsa", "Bina Anak", "Rumah Singgah"),
     (1, 2, 3, 4, 6, 7), (_K.PENDIDIKAN, _K.PANGAN, _K.KESEHATAN, _K.REHABILITASI)),
    ("lansia", ("Werdha", "Sayang Lansia", "Purnama Lansia", "Sepuh Mulia"),
     (8,), (_K.PANGAN, _K.KESEHATAN, _K.TUNAI)),
    ("disabilitas", ("Difabel Mandiri", "Sahabat Disabilitas", "Cahaya Tuna Netra", "Bina Daksa"),
     (5, 9), (_K.ALAT_BANTU, _K.REHABILITASI, _K.PEMBERDAYAAN, _K.KESEHATAN)),
    ("kemiskinan", ("Peduli Dhuafa", "Berbagi Sesama", "Rumah Zakat Warga", "Al-Ikhlas", "Nurul Iman",
                    "Sedekah Sunda", "Baitul Maal"),
     (11, 12, 13, 23, 24), (_K.PANGAN, _K.TUNAI, _K.PEMBERDAYAAN, _K.PERUMAHAN)),
    ("rehabilitasi", ("Rehabilitasi Insan", "Pulih Bersama", "Jalan Terang", "Rumah Harapan"),
     (10, 15, 16, 17, 18, 19), (_K.REHABILITASI, _K.KESEHATAN, _K.PEMBERDAYAAN)),
    ("bencana", ("Siaga Peduli", "Tanggap Bencana", "Relawan Priangan"),
     (14, 20, 21, 22, 26), (_K.PANGAN, _K.PERUMAHAN, _K.KESEHATAN)),
    ("keluarga", ("Keluarga Sakinah", "Konsultasi Keluarga", "Perempuan Berdaya"),
     (6, 19, 23, 25), (_K.REHABILITASI, _K.PEMBERDAYAAN, _K.PENDIDIKAN)),
    ("umum", ("Peduli Bandung", "Sauyunan", "Silih Asih", "Gotong Royong", "Cinta Sesama"),
     (), (_K.PANGAN, _K.KESEHATAN, _K.PENDIDIKAN, _K.PERUMAHAN, _K.TUNAI)),
)
LEGAL_TYPES = (("yayasan", 0.75), ("perkumpulan", 0.17), ("csr", 0.08))
BANKS = ("Bank BJB", "BRI", "BNI", "Bank Mandiri", "BSI", "BCA")
# Goods an offer may give instead of money: (unit, unit value in rupiah).
GOODS: dict[Kind, tuple[tuple[str, int], ...]] = {
    _K.PANGAN: (("paket sembako", 250_000), ("paket gizi balita", 150_000)),
    _K.ALAT_BANTU: (("kursi roda", 2_000_000), ("alat bantu dengar", 3_000_000), ("kruk", 350_000),
                    ("kacamata", 250_000)),
    _K.PENDIDIKAN: (("paket perlengkapan sekolah", 400_000),),
    _K.KESEHATAN: (("paket kebersihan dan obat dasar", 200_000),),
}
KIND_TITLES: dict[Kind, str] = {
    _K.PANGAN: "Bantuan pangan", _K.KESEHATAN: "Bantuan biaya kesehatan", _K.PENDIDIKAN: "Bantuan pendidikan",
    _K.PERUMAHAN: "Perbaikan rumah", _K.TUNAI: "Bantuan tunai", _K.ALAT_BANTU: "Alat bantu",
    _K.REHABILITASI: "Rehabilitasi sosial", _K.PEMBERDAYAAN: "Modal dan pelatihan usaha",
}


def _make_lks(count: int, seed: int, reference: date) -> tuple[LksRecord, ...]:
    rng = random.Random(f"jitu-synthetic:{seed}:lks")
    kecamatan = [k.code for k in regions.kecamatan()]
    kec_weights = [KECAMATAN_DENSITY.get(k, 1.0) for k in kecamatan]
    kelurahan_of: dict[str, list[str]] = {}
    for region in regions.kelurahan():
        kelurahan_of.setdefault(region.kecamatan_code, []).append(region.code)
    # Budgets: lognormal, then scaled so the mean is exactly Rp 5 billion (rounded to Rp 1 million).
    mu = math.log(LKS_MEAN_BUDGET) - LKS_BUDGET_SIGMA**2 / 2
    raw = [max(100_000_000.0, rng.lognormvariate(mu, LKS_BUDGET_SIGMA)) for _ in range(count)]
    factor = LKS_MEAN_BUDGET / (sum(raw) / count)
    budgets = [max(1, round(b * factor / 1_000_000)) * 1_000_000 for b in raw]
    names: set[str] = set()
    out: list[LksRecord] = []
    for no in range(1, count + 1):
        theme, stems, ppks, _kinds = rng.choice(LKS_THEMES)
        legal = rng.choices([t for t, _ in LEGAL_TYPES], weights=[w for _, w in LEGAL_TYPES])[0]
        home = rng.choices(kecamatan, weights=kec_weights)[0]
        prefix = {"yayasan": "Yayasan", "perkumpulan": "Perkumpulan", "csr": "Program CSR"}[legal]
        name = f"{prefix} {rng.choice(stems)} {regions.name_of(home)}"
        while name in names:
            name = f"{prefix} {rng.choice(stems)} {rng.choice(FAMILY_NAMES)} {regions.name_of(home)}"
        names.add(name)
        r = rng.random()
        if r < 0.3:
            areas: tuple[str, ...] = ()  # the whole city
        elif r < 0.75:
            neighbours = rng.sample(kecamatan, rng.randrange(0, 3))
            areas = tuple(sorted({home, *neighbours}))
        else:
            local = kelurahan_of[home]
            areas = tuple(sorted(rng.sample(local, min(len(local), rng.randrange(2, 7)))))
        verified = rng.random() < 0.9
        year = rng.randrange(1995, reference.year - 1)
        slug = "".join(c for c in name.lower().replace(" ", ".") if c.isalnum() or c == ".")
        out.append(LksRecord(
            no=no, name=name, legal_type=legal,
            deed_number=f"AHU-{rng.randrange(1, 99999):07d}.AH.01.04.Tahun {year}",
            decree_number=f"AHU-{rng.randrange(1, 9999):04d}.AH.01.04/{year}",
            dinsos_reg_number=f"460/{rng.randrange(1, 999):03d}-Dinsos/{min(reference.year, year + 1)}",
            address=f"{rng.choice(STREETS)} No. {rng.randrange(1, 300)}, Kec. {regions.name_of(home)}",
            kecamatan_code=home,
            contact_name=f"{rng.choice(MALE_NAMES + FEMALE_NAMES)} {rng.choice(FAMILY_NAMES)}",
            phone=f"022{rng.randrange(2, 8)}000{rng.randrange(1000):03d}",
            email=f"{slug[:60]}@example.org",
            bank_name=rng.choice(BANKS), bank_account=f"{rng.randrange(10**9, 10**10)}",
            ppks_served=ppks, areas=areas, annual_budget=budgets[no - 1],
            status="verified" if verified else "applied",
            verified_at=datetime(reference.year, reference.month, 1, tzinfo=UTC)
            - timedelta(days=rng.randrange(30, max(31, 365 * (reference.year - year)))) if verified else None,
            theme=theme,
        ))
    return tuple(out)


def _make_offers(lks: tuple[LksRecord, ...], seed: int, period: str) -> tuple[OfferRecord, ...]:
    """For each verified LKS, 1–3 published offers for the period. Their total is the monthly budget
    (yearly / 12) times the share it puts through jitu (35–75 %; the rest pays staff, running costs and
    its own institutions)."""
    rng = random.Random(f"jitu-synthetic:{seed}:offers:{period}")
    themes = {theme: kinds for theme, _stems, _ppks, kinds in LKS_THEMES}
    out: list[OfferRecord] = []
    for org in lks:
        if org.status != "verified":
            continue
        kinds = themes[org.theme]
        chosen = rng.sample(kinds, min(len(kinds), rng.randrange(1, 4)))
        monthly = org.annual_budget // 12 * rng.uniform(0.35, 0.75)
        shares = [rng.uniform(0.5, 1.5) for _ in chosen]
        for kind, share in zip(chosen, shares, strict=True):
            value = int(monthly * share / sum(shares))
            goods = GOODS.get(kind)
            areas = org.areas
            where = "se-Kota Bandung" if not areas else (
                f"Kec. {regions.name_of(areas[0])}" if len(areas[0]) == 8 else f"Kel. {regions.name_of(areas[0])}")
            if goods and rng.random() < 0.4:
                unit, unit_value = rng.choice(goods)
                quantity = max(1, value // unit_value)
                out.append(OfferRecord(org.no, f"{unit.capitalize()} {where}", period, kind.value, True, unit,
                                       unit_value, quantity, areas, org.ppks_served, None, "published"))
                continue
            capacity = max(1_000_000, value // 100_000 * 100_000)
            max_per_need = None
            if rng.random() < 0.5:
                max_per_need = rng.choice((1_000_000, 2_000_000, 3_000_000, 5_000_000, 10_000_000))
            out.append(OfferRecord(org.no, f"{KIND_TITLES[kind]} {where}", period, kind.value, False, "", 0,
                                   capacity, areas, org.ppks_served, max_per_need, "published"))
    return tuple(out)
