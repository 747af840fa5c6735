"""Kota Bandung's 30 kecamatan and 151 kelurahan with their Kemendagri codes (shipped with the package)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

KOTA_CODE = "32.73"
KECAMATAN_RE = re.compile(r"^32\.73\.\d{2}$")
KELURAHAN_RE = re.compile(r"^32\.73\.\d{2}\.1\d{3}$")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str  # "kota" | "kecamatan" | "kelurahan"

    @property
    def kecamatan_code(self) -> str:
        return self.code[:8]


@lru_cache(maxsize=1)
def all_regions() -> tuple[Region, ...]:
    text = resources.files("marketplace").joinpath("data/bandung_wilayah.csv").read_text("utf-8")
    return tuple(Region(r["kode"], r["nama"], r["tingkat"]) for r in csv.DictReader(text.splitlines()))


def kecamatan() -> list[Region]:
    return [r for r in all_regions() if r.level == "kecamatan"]


def kelurahan() -> list[Region]:
    return [r for r in all_regions() if r.level == "kelurahan"]


@lru_cache(maxsize=1)
def by_code() -> dict[str, Region]:
    return {r.code: r for r in all_regions()}


def is_kelurahan(code: str) -> bool:
    return code in by_code() and by_code()[code].level == "kelurahan"


def name_of(code: str) -> str:
    region = by_code().get(code)
    return region.name if region else code


# The SLRT pilot kecamatan, chosen by the city for their high poverty.
PILOT_KECAMATAN = ("32.73.03", "32.73.04", "32.73.15")  # Babakan Ciparay, Bojongloa Kaler, Bandung Kulon
