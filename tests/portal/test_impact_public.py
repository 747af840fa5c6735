"""The public impact report on seeded history: its figures equal independent sums over the data, small
groups are suppressed so that no published view (nor two combined) recovers them, and no public view
carries personal data."""

from __future__ import annotations

import io
import re
from collections import Counter

from openpyxl import load_workbook

from marketplace.synthetic import generate
from marketplace.vocabulary import PPKS_TYPES, SENSITIVE_PPKS
from portal.commands.seed import run_seed
from storage.impact.figures import fig_from
from storage.impact.snapshot import figures
from storage.tables import Allocation, Delivery, Household, Lks, MatchingRound, Member
from tests.marketplace.test_disclosure import attack_table

PERIOD = "2026-11"
SCALE = 900


async def _seed(seed: int = 11) -> None:
    await run_seed(SCALE, seed, period=PERIOD, workers=0)


async def _confirmed() -> list[dict]:
    return await Delivery.select(
        Delivery.allocation.lks.as_alias("lks"), Delivery.allocation.amount.as_alias("amount"),
        Delivery.allocation.round.period.as_alias("period"), Delivery.allocation.need.kind.as_alias("kind"),
        Delivery.allocation.need.household.kelurahan_code.as_alias("kelurahan"),
    ).where(Delivery.status == "confirmed")


def _check(fig, true_count: int) -> None:
    """A shown figure is exact; a hidden one is small ("< 5") or a complement (really ≥ 5)."""
    if not fig.hidden:
        assert fig.count == true_count
    elif fig.small:
        assert 0 < true_count < 5 or true_count >= 5  # small by households (several deliveries each)
    else:
        assert true_count >= 5


async def test_history_figures_equal_independent_sums(db) -> None:
    await _seed()
    assert await MatchingRound.count() == 6
    rows = await _confirmed()
    assert len(rows) > 100
    fig = await figures("public")
    assert fig["periods"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    total = fig_from(fig["lks_month"]["total"])
    assert total.count == len(rows) and total.amount == sum(r["amount"] for r in rows)

    by_kec = Counter(r["kelurahan"][:8] for r in rows)
    for code, f in fig["by_kecamatan"]["cells"].items():
        _check(fig_from(f), by_kec[code])
    by_month = Counter(r["period"] for r in rows)
    for period, f in fig["lks_month"]["col_totals"].items():
        _check(fig_from(f), by_month[period])
    by_kind = Counter(r["kind"] for r in rows)
    for kind, f in fig["by_kind"]["cells"].items():
        _check(fig_from(f), by_kind[kind])
    by_lks = Counter(str(r["lks"]) for r in rows)
    for lks_id, f in fig["lks_month"]["row_totals"].items():
        _check(fig_from(f), by_lks[lks_id])
        assert fig["track"][lks_id]["confirmed"] == f  # the LKS page shows the same figure
    latest = await MatchingRound.select(MatchingRound.id).where(MatchingRound.period == "2026-10").first()
    matched = fig_from(fig["funnel"]["stages"]["matched"])
    assert matched.hidden or matched.count == await Allocation.count().where(Allocation.round == latest["id"])


async def test_no_small_cell_can_be_recovered_from_the_published_views(db) -> None:
    """The attacker sees the LKS × month table (donors' rows, the LKS pages' totals, the monthly chart)
    and the kecamatan and kind breakdowns of the same total, and solves for every small cell."""
    await _seed(12)
    rows = await _confirmed()
    fig = await figures("public")
    t = fig["lks_month"]
    counts = Counter((str(r["lks"]), r["period"]) for r in rows)

    class Published:
        def __init__(self, j):
            self.rows, self.cols = j["rows"], j["cols"]
            self.row_totals = {k: fig_from(v) for k, v in j["row_totals"].items()}
            self.col_totals = {k: fig_from(v) for k, v in j["col_totals"].items()}
            self.total = fig_from(j["total"])
            self.cells = {tuple(k.split("|")): fig_from(v) for k, v in j["cells"].items()}

        def cell(self, r, c):
            return self.cells.get((r, c), fig_from(None))

    class Vector:
        def __init__(self, j):
            self.keys = j["keys"]
            self.cells = {k: fig_from(v) for k, v in j["cells"].items()}

        def get(self, k):
            return self.cells.get(k, fig_from(None))

    table = Published(t)
    assert any(f.small for f in table.cells.values()), "the seeded history should have small cells"
    kec_truth = Counter(r["kelurahan"][:8] for r in rows)
    kind_truth = Counter(r["kind"] for r in rows)
    views = [(Vector(fig["by_kecamatan"]), {k: kec_truth[k] for k in fig["by_kecamatan"]["keys"]}),
             (Vector(fig["by_kind"]), {k: kind_truth[k] for k in fig["by_kind"]["keys"]})]
    ranges = attack_table(dict(counts), t["rows"], t["cols"], table, extra_views=views)
    assert ranges
    for key, (lo, hi) in ranges.items():
        assert lo < hi, f"{key} recovered as {lo}"
    # and each breakdown on its own, against the same total
    for vector, truth in views:
        keys = list(truth)
        v_counts = {(k, 0): n for k, n in truth.items() if n}

        class One:
            def __init__(self, v, keys):
                self.v = v
                self.row_totals = {k: v.get(k) for k in keys}
                self.col_totals = {0: fig_from(fig["by_kind"]["total"])}
                self.total = fig_from(fig["by_kind"]["total"])

            def cell(self, r, c):
                return self.v.get(r)

        for key, (lo, hi) in attack_table(v_counts, keys, [0], One(vector, keys)).items():
            assert lo < hi, key


async def test_public_views_carry_no_personal_data(client) -> None:
    await _seed(13)
    dataset = generate(SCALE, 13, PERIOD)
    chunks = list(dataset.chunks())
    niks = {m.nik for c in chunks for m in c.members}
    kks = {h.kk for c in chunks for h in c.households}
    names = {m["name"] for m in await Member.select(Member.name)}
    addresses = {h["address"] for h in await Household.select(Household.address) if h["address"]}
    sensitive = {PPKS_TYPES[p] for p in SENSITIVE_PPKS}
    pages = ["/dampak", "/dampak/data.xlsx", "/lks", *[f"/dampak/data.csv?tabel={t}" for t in
                                                        ("bulan", "jenis", "kecamatan", "tahapan")]]
    pages += [f"/lks/{r['id']}" for r in await Lks.select(Lks.id).where(Lks.status == "verified")]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        if path.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(response.content))
            text = " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row)
        else:
            text = response.text
        numbers = set(re.findall(r"\d{16}", text))
        assert not numbers & (niks | kks), path
        assert not any(name in text for name in names), path
        assert not any(address in text for address in addresses), path
        assert not any(label in text for label in sensitive), path
        assert "delivery-photo" not in text and "<img" not in text, path  # no delivery photos (faces)
    page = (await client.get("/dampak")).text
    assert page.count("<svg") >= 3 and "style=" not in page and "<script>" not in page
