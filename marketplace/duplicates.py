"""Possible duplicates: is a person being entered already registered? The pure rules.

A registered member is a candidate when all three hold:
- the birth date is the same, or the same with day and month swapped (a common entry slip when one
  form writes DD-MM and another MM-DD);
- the kelurahan is the same or a neighbour. We have no boundary geometry, so "neighbouring" is
  defined as *in the same kecamatan* (every Bandung kelurahan lies in exactly one of 30 kecamatan,
  3 to 8 kelurahan each); people who moved across a kecamatan border are not found;
- the names are similar: after normalising the spellings of common given names (Muhamad, Muhammad,
  Moh., Mochamad ... are one name; so are Siti/Sitti, Abd./Abdul, Nur/Nurul), the rapidfuzz score is
  at least ``THRESHOLD``. The scoring uses rapidfuzz, so it lives in ``storage/duplicates`` (this
  layer stays stdlib-only); the score is the best of a whole-name comparison (typos, word order) and a
  subset comparison (one name lacks a middle name the other has), so a missing middle name does not
  sink a match; a single shared given name alone is not enough (see ``name_score``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from marketplace.regions import all_regions

THRESHOLD = 85.0
"""Measured with ``scripts/bench_duplicates.py`` (docs/duplicates.md)."""
MAX_CANDIDATES = 10

_VARIANTS: dict[str, str] = {}
for _canonical, _spellings in {
    "muhammad": ("muhamad", "muhammad", "muhamat", "muhammat", "mohammad", "mohamad", "mohamed", "mohammed",
                 "moh", "moch", "mochamad", "mochammad", "mochamat", "muh", "muhd", "mhd", "mhmd", "md"),
    "abdul": ("abd", "abdul", "abdoel"),
    "siti": ("siti", "sitti", "st"),
    "nur": ("nur", "nurul", "noor", "nor"),
    "ahmad": ("ahmad", "achmad", "akhmad", "ahmat", "achmat"),
    "yusuf": ("yusuf", "yusup", "yoesoef"),
}.items():
    for _s in _spellings:
        _VARIANTS[_s] = _canonical
_NON_LETTERS = re.compile(r"[^a-z ]+")


def normalise_name(name: str) -> str:
    """Lower case, accents and punctuation off ("Moh." → "moh"), then one spelling per given name."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = _NON_LETTERS.sub(" ", text.replace("'", ""))
    tokens = [_VARIANTS.get(t, t) for t in text.split()]
    if tokens and tokens[0] == "m" and len(tokens) > 1:  # "M. Rizki": an initial M is Muhammad here
        tokens[0] = "muhammad"
    return " ".join(tokens)


def birth_dates(day: date) -> list[date]:
    """The date and, when it exists and differs, the date with day and month swapped."""
    out = [day]
    if day.day <= 12 and day.day != day.month:
        out.append(date(day.year, day.day, day.month))  # a day 1..12 is always a valid day of any month
    return out


def neighbours(kelurahan_code: str) -> list[str]:
    """The kelurahan itself and the others of its kecamatan (the documented proxy for adjacency)."""
    kecamatan = kelurahan_code[:8]
    return sorted(r.code for r in all_regions() if r.level == "kelurahan" and r.code[:8] == kecamatan)


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: int
    household_id: int
    name: str
    birth_date: date
    kelurahan_code: str
    score: float
    same_kelurahan: bool
    swapped_date: bool
