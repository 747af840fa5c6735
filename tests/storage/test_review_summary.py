"""/alokasi's round summary: grouped once per state of the data, however many officers ask at once."""

from __future__ import annotations

import asyncio

from storage.approval import ProposalFilter
from storage.decisions import review
from tests.storage.test_approval import build


async def test_officers_asking_at_once_share_one_grouping_of_the_round(db, monkeypatch):
    w = await build(3)
    calls = 0
    summarise = review._summarise

    async def counted(round_id, f):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # long enough for the others to arrive while it groups
        return await summarise(round_id, f)

    monkeypatch.setattr(review, "_summarise", counted)
    answers = await asyncio.gather(*(review.summary(w.round_id, ProposalFilter()) for _ in range(8)))
    assert calls == 1 and {a.count for a in answers} == {3} and not review._computing
    assert (await review.summary(w.round_id, ProposalFilter(kind="kesehatan"))).count == 0  # another key
    assert calls == 2
