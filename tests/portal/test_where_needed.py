"""Where help is most needed now (issue 10): a round stores its marginal values; LKS staff see them on the
offer form, the public on /dampak with small household counts suppressed."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.where_needed import public_households, public_rows, ranked, staff_sentence
from storage import rounds
from storage.marginal import latest_marginal_values
from tests import roundfixtures as f
from tests.dbutil import login, make_account, make_lks


async def _round() -> None:
    h1 = await f.household("32.73.03.1001", n=1)
    h2 = await f.household("32.73.03.1003", n=2)
    h3 = await f.household("32.73.15.1001", n=3)
    await f.need(h1, "pangan", 300_000, priority=90)
    await f.need(h2, "pangan", 400_000, priority=40)
    await f.need(h3, "pendidikan", 1_000_000, priority=70)  # no LKS offers pendidikan
    owner = await f.lks("Yayasan Peduli Bandung")
    await f.offer(owner, "pangan", capacity=500_000, areas=["32.73.03"])
    await rounds.run_round(f.PERIOD, "tester")


async def test_round_stores_its_marginal_values(db: None) -> None:
    assert await latest_marginal_values() == (None, [])
    await _round()
    period, values = await latest_marginal_values()
    assert period == f.PERIOD
    by_place = {(v["kind"], v["kecamatan"]): v for v in values}
    # pendidikan in 32.73.15: nothing serves the 1 juta need of priority 70, Rp 1 juta serves it whole.
    assert by_place[("pendidikan", "32.73.15")]["value"] == pytest.approx(70)
    assert by_place[("pendidikan", "32.73.15")]["households"] == pytest.approx(1)
    # pangan in 32.73.03: the relaxation gives 200k of the 400k need; Rp 1 juta serves the other half.
    assert by_place[("pangan", "32.73.03")]["value"] == pytest.approx(20, abs=0.01)
    assert values[0]["kind"] == "pendidikan"


async def test_offer_form_shows_where_one_million_helps_most(client: Any) -> None:
    await _round()
    lks_id = await make_lks()
    await make_account("lks_staff", "staf", lks_id=lks_id)
    await login(client, "staf")
    page = await client.get("/lks-saya/penawaran/baru")
    assert page.status_code == 200
    assert "Di mana Rp 1 juta paling berarti" in page.text, page.text[page.text.find("<main"):][:1500]
    assert "pendidikan: Rp 1 juta melayani sekitar 1,0 keluarga lagi dengan prioritas 70" in page.text


async def test_public_page_shows_the_ranking_with_small_counts_suppressed(client: Any) -> None:
    page = await client.get("/dampak")
    assert page.status_code == 200 and "Belum ada ronde pencocokan." in page.text
    await _round()
    page = await client.get("/dampak")
    assert "Di mana bantuan paling dibutuhkan sekarang" in page.text
    section = page.text.split('id="needed-now"', 1)[1].split("</section>", 1)[0]
    assert "Pendidikan" in section and "&lt; 5" in section
    assert "KK-" not in section and "N-" not in section
    english = await client.get("/dampak", headers={"Accept-Language": "en"})
    assert english.status_code == 200


def test_wording_and_suppression() -> None:
    values = [
        {"kind": "pangan", "kecamatan": "32.73.01", "value": 500.0, "households": 6.4, "priority": 78.1,
         "unserved_needs": 40},
        {"kind": "tunai", "kecamatan": "32.73.02", "value": 90.0, "households": 1.2, "priority": 75.0,
         "unserved_needs": 3},
        {"kind": "tunai", "kecamatan": "32.73.03", "value": 0.0, "households": 0.0, "priority": 0.0,
         "unserved_needs": 0},
    ]  # fmt: skip
    names = {"32.73.01": "Sukasari", "32.73.02": "Coblong"}
    rows = ranked(values, names)
    assert [r.place for r in rows] == ["Sukasari", "Coblong"]  # value 0 is no place to send money
    assert staff_sentence(rows[0], "id") == (
        "di Kecamatan Sukasari, pangan: Rp 1 juta melayani sekitar 6,4 keluarga lagi dengan prioritas 78")
    assert staff_sentence(rows[0], "en") == (
        "in Kecamatan Sukasari, food: Rp 1 million serves about 6.4 more households of priority 78")
    public = public_rows(values, names, "id")
    assert public[0]["households"] == "6" and public[0]["waiting"] == "40"
    assert public[1]["households"] == "< 5" and public[1]["waiting"] == "< 5"
    assert public_households(4.6, "id") == "5" and public_households(4.4, "id") == "< 5"
