"""List counts: exact up to a bound, the planner's estimate beyond it (PostgreSQL), said so on the page."""

import pytest

from storage import counting
from storage.counting import Total, count_rows, describe
from storage.tables import WebSession


async def _sessions(n: int, prefix: str = "count") -> None:
    await WebSession.insert(*[WebSession(key=f"{prefix}-{i}", value="x") for i in range(n)])


async def test_small_counts_are_exact(db):
    await _sessions(30)
    total = await count_rows(WebSession, WebSession.key.like("count-%"))
    assert total == 30 and not total.estimated
    assert await count_rows(WebSession) == 30
    assert await count_rows(WebSession, WebSession.key == "none") == 0


@pytest.mark.postgres
async def test_beyond_the_bound_postgres_gives_the_planner_estimate(db):
    await _sessions(3000)
    await WebSession.raw("ANALYZE web_session")
    total = await count_rows(WebSession, None, exact_up_to=100)
    assert total.estimated and 2000 <= total <= 4500  # from the statistics, not a scan
    assert (await count_rows(WebSession, None, exact_up_to=5000)).estimated is False


def test_an_estimate_is_rounded_and_says_so():
    assert describe(Total(330_573)) == "330.573"
    assert describe(Total(330_573), "en") == "330,573"
    assert describe(Total(330_573, estimated=True)) == "sekitar 331.000"
    assert describe(Total(330_573, estimated=True), "en") == "about 331,000"
    assert describe(Total(42, estimated=True)) == "sekitar 42"
    assert describe(7) == "7"


@pytest.mark.postgres
async def test_the_household_list_says_its_count_is_an_estimate(client, monkeypatch):
    from storage.crypto import vault
    from storage.tables import Household
    from tests.dbutil import login, make_account

    await Household.insert(*[Household(kk_cipher=vault().encrypt(f"{3273000000000000 + i}"), kk_hash=f"h{i}",
                                       kelurahan_code="32.73.03.1001", address="", desil=3) for i in range(120)])
    await Household.raw("ANALYZE household")
    monkeypatch.setattr(counting, "EXACT_UP_TO", 50)
    await make_account("dinsos_admin", "dinsos")
    await login(client, "dinsos")
    page = await client.get("/registri/keluarga")
    assert page.status_code == 200 and "sekitar " in page.text


async def test_without_an_estimate_a_count_beyond_the_bound_says_more_than(db):
    await _sessions(7)
    total = await count_rows(WebSession, WebSession.key.like("count-%"), exact_up_to=5, use_estimate=False)
    assert total == 5 and total.at_least and not total.estimated
    assert describe(total) == "lebih dari 5" and describe(total, "en") == "more than 5"
    exact = await count_rows(WebSession, WebSession.key.like("count-%"), exact_up_to=7, use_estimate=False)
    assert exact == 7 and not exact.at_least and describe(exact) == "7"


@pytest.mark.postgres
async def test_an_estimate_is_kept_a_minute_and_an_exact_count_never(db, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(counting.time, "monotonic", lambda: clock[0])
    await _sessions(300)
    await WebSession.raw("ANALYZE web_session")
    first = await count_rows(WebSession, None, exact_up_to=100)
    assert first.estimated
    await WebSession.delete().where(WebSession.key.like("count-1%"))  # 111 fewer rows
    clock[0] += counting.ESTIMATE_KEPT_SECONDS - 1
    kept = await count_rows(WebSession, None, exact_up_to=100)
    assert kept == first and kept.estimated
    assert await count_rows(WebSession, None, exact_up_to=1000) == 189  # exact: read now, whatever is kept
    await WebSession.delete().where(WebSession.key.like("count-%"))
    assert await count_rows(WebSession, None, exact_up_to=1000) == 0
    clock[0] += 2
    assert await count_rows(WebSession, None, exact_up_to=100) == 0  # the minute is over: counted again
