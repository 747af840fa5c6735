"""Possible duplicates of a person being entered (a resident's request, a new household): registered
members blocked on birth date (indexed) and kelurahan, then scored by name with rapidfuzz.

The rules (what "similar", "same date" and "neighbouring" mean) are in ``marketplace/duplicates.py``.
Two index look-ups per search: the birth-date index narrows 1.2 million members to a few dozen, then
their households (by primary key) are filtered by kelurahan; the names are scored in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from marketplace.duplicates import THRESHOLD, Candidate, birth_dates, neighbours, normalise_name
from storage.tables import DuplicateDismissal, Household, Member


def name_score(a: str, b: str) -> float:
    """0..100. ``token_sort_ratio`` judges the whole names (typos, word order); ``token_set_ratio``
    forgives a missing middle name but is 100 whenever one name's words are all in the other, so it
    counts only when both names keep at least two words ("Ahmad" alone matches no "Ahmad Hidayat")."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    whole = float(fuzz.token_sort_ratio(na, nb))
    if min(len(na.split()), len(nb.split())) >= 2:
        return max(whole, float(fuzz.token_set_ratio(na, nb)))
    return whole


def rank(name: str, birth: date, kelurahan_code: str, rows: Iterable[dict[str, Any]],
         threshold: float = THRESHOLD, limit: int = 10) -> list[Candidate]:
    """The rows (id, household, name, birth_date, kelurahan_code) scoring at least ``threshold``, best first."""
    out = []
    for r in rows:
        score = name_score(name, r["name"])
        if score >= threshold:
            out.append(Candidate(int(r["id"]), int(r["household"]), r["name"], r["birth_date"],
                                 r["kelurahan_code"], round(score, 1), r["kelurahan_code"] == kelurahan_code,
                                 r["birth_date"] != birth))
    out.sort(key=lambda c: (-c.score, not c.same_kelurahan, c.swapped_date, c.member_id))
    return out[:limit]


async def blocked_rows(birth: date, kelurahan_code: str) -> list[dict[str, Any]]:
    """Members born on the date (or its day/month swap) living in the kelurahan or its kecamatan.

    Two index look-ups (birth date, then the households by primary key) rather than one join, so the
    plan does not depend on the planner's statistics: a join planned from stale statistics hashed all
    24,000 households of a kecamatan (30 ms) where the two look-ups touch a few dozen rows."""
    members = await Member.select(Member.id, Member.household, Member.name, Member.birth_date).where(
        Member.birth_date.is_in(birth_dates(birth)))
    if not members:
        return []
    near = neighbours(kelurahan_code)
    homes = {r["id"]: r["kelurahan_code"] for r in await Household.select(Household.id, Household.kelurahan_code)
             .where(Household.id.is_in(list({m["household"] for m in members}))
                    & Household.kelurahan_code.is_in(near))}
    return [{**m, "kelurahan_code": homes[m["household"]]} for m in members if m["household"] in homes]


async def find_candidates(name: str, birth: date, kelurahan_code: str, *, request_id: int | None = None,
                          threshold: float = THRESHOLD) -> list[Candidate]:
    """Candidates for the operator to link or dismiss; those already dismissed for this request are left out."""
    rows = await blocked_rows(birth, kelurahan_code)
    if request_id is not None and rows:
        dismissed = {r["member"] for r in await DuplicateDismissal.select(DuplicateDismissal.member).where(
            DuplicateDismissal.request == request_id)}
        rows = [r for r in rows if r["id"] not in dismissed]
    return rank(name, birth, kelurahan_code, rows, threshold)
