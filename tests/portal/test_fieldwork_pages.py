"""LKS field work on a phone (issue 14 item 1): the household list as cards (who, what, by when, where, a
tap to call), overdue first, the "this week" and "overdue" filters, the delivery form keeping what was
typed when the server refuses it, and the weight of every LKS page before photos."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from marketplace import clock
from storage import approval
from storage.delivery import week_end
from storage.tables import Allocation, Delivery, Household
from tests.dbutil import csrf, login, make_account
from tests.portal.test_delivery_pages import fields
from tests.storage.test_approval import add_allocation, build
from tests.storage.test_images import jpeg_with_gps

TODAY = clock.today()


class Rows(HTMLParser):
    """The household list's rows: each ``tr.household`` with its allocation id, classes, text per cell
    class, and links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "household" in (a.get("class") or "").split():
            self.rows.append({"id": int(a["data-allocation"] or 0), "class": a.get("class"), "cells": {},
                              "links": [], "labels": []})
        elif self.rows and tag == "td":
            self._cell = (a.get("class") or "").strip()
            self.rows[-1]["cells"][self._cell] = ""
            if a.get("data-label"):
                self.rows[-1]["labels"].append(a["data-label"])
        elif self.rows and tag == "a":
            self.rows[-1]["links"].append(a.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "tbody"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self.rows:
            cells = self.rows[-1]["cells"]
            cells[self._cell] = " ".join((cells[self._cell] + " " + data).split())


def rows_of(html: str) -> list[dict[str, Any]]:
    parser = Rows()
    parser.feed(html)
    return parser.rows


async def field_world() -> Any:
    """One LKS with five allocations approved by Dinsos, due on different days: two overdue (3 and 1 days
    ago), one today, one in a few days (still this week or the next Monday at the latest), one in three
    weeks, and one already delivered long ago."""
    w = await build(0, capacity=100_000_000)
    plan = [("Ani Terlambat Tiga", -3, "0812-3456-7890"), ("Budi Terlambat Satu", -1, "+62 811 222 333"),
            ("Cici Hari Ini", 0, ""), ("Dedi Minggu Ini", (week_end(TODAY) - TODAY).days, "0813 1111 2222"),
            ("Euis Bulan Depan", 21, "0814 0000 1111"), ("Fajar Sudah", -40, "0815 0000 2222")]
    for name, _, _ in plan:
        await add_allocation(w, name=name)
    for a in w.allocations:
        await approval.approve(a, "admin")
    for (_name, days, phone), alloc, household in zip(plan, w.allocations, w.households, strict=True):
        await Allocation.update({Allocation.deliver_by: TODAY + timedelta(days=days)}).where(Allocation.id == alloc)
        await Household.update({Household.phone: phone, Household.address: f"Jl. Kebon Kawung {alloc}",
                                Household.rt: "004", Household.rw: "011"}).where(Household.id == household)
    await Allocation.update({Allocation.status: "delivered"}).where(Allocation.id == w.allocations[-1])
    await make_account("lks_staff", "staf-lapangan", lks_id=w.lks_id)
    return w


async def test_each_household_card_says_who_what_by_when_where_and_how_to_call(client) -> None:
    w = await field_world()
    await login(client, "staf-lapangan")
    response = await client.get("/lks-saya/keluarga")
    assert response.status_code == 200
    assert " style=" not in response.text and "<style" not in response.text  # strict CSP: styles are static
    rows = {r["cells"]["who"].split(" NIK")[0]: r for r in rows_of(response.text)}
    assert len(rows) == 6
    ani = rows["Ani Terlambat Tiga"]
    assert ani["cells"]["what"] == "Pangan: Rp 300.000"
    assert ani["cells"]["due"] == f"{TODAY - timedelta(days=3):%d-%m-%Y} Terlambat 3 hari"
    assert ani["cells"]["where"] == f"Jl. Kebon Kawung {w.allocations[0]}, RT 004/RW 011, Babakan Ciparay"
    assert ani["cells"]["call"] == "0812-3456-7890" and "tel:081234567890" in ani["links"]
    assert "overdue" in ani["class"].split()
    assert "NIK" in ani["cells"]["who"] and "********" in ani["cells"]["who"]  # masked, never whole
    assert ani["labels"] == ["Bantuan", "Batas waktu", "Alamat", "Telepon", "Status"]  # the card's captions
    assert f"/penyaluran/{w.allocations[0]}" in ani["links"]
    assert "tel:+62811222333" in rows["Budi Terlambat Satu"]["links"]
    assert rows["Cici Hari Ini"]["cells"]["due"].endswith("Hari ini")
    assert rows["Cici Hari Ini"]["cells"]["call"] == "-"  # no number: nothing to tap
    assert not [link for link in rows["Cici Hari Ini"]["links"] if link.startswith("tel:")]
    assert "overdue" not in rows["Fajar Sudah"]["class"].split()  # delivered, though long past its date
    assert rows["Fajar Sudah"]["cells"]["status"] == "Sudah disalurkan"
    assert rows["Euis Bulan Depan"]["cells"]["due"] == f"{TODAY + timedelta(days=21):%d-%m-%Y}"

    english = await client.post("/bahasa", data={"_csrf_token": csrf(client), "lang": "en",
                                                 "next": "/lks-saya/keluarga"})
    assert english.status_code in (200, 302, 303)
    page = (await client.get("/lks-saya/keluarga")).text
    assert "3 days overdue" in page and "Deliver by" in page and "overdue first, then by due date" in page

    css = (await client.get("/static/jitu.css")).text
    cards = re.search(r"@media \(max-width:700px\) \{(.*?)\n\}", css, re.S)
    assert cards is not None, "no phone layout for the household list"
    assert "table.households tr { display:grid" in cards.group(1)
    assert "td[data-label]::before { content:attr(data-label)" in cards.group(1)


async def test_overdue_first_then_by_due_date_then_the_delivered(client) -> None:
    w = await field_world()
    await login(client, "staf-lapangan")
    order = [r["id"] for r in rows_of((await client.get("/lks-saya/keluarga")).text)]
    assert order == w.allocations  # built in exactly that order: -3, -1, today, this week, +21, delivered
    # the same order whatever the ids: the latest allocation made the most overdue
    await Allocation.update({Allocation.deliver_by: TODAY - timedelta(days=9)}).where(
        Allocation.id == w.allocations[4])
    order = [r["id"] for r in rows_of((await client.get("/lks-saya/keluarga")).text)]
    assert order == [w.allocations[4], *w.allocations[:4], w.allocations[5]]


async def test_this_week_and_overdue_filters_with_the_other_filters_kept(client) -> None:
    w = await field_world()
    await login(client, "staf-lapangan")
    week = (await client.get("/lks-saya/keluarga?due=week")).text
    assert [r["id"] for r in rows_of(week)] == w.allocations[:4]  # overdue included, next month and done not
    assert 'aria-current=page>Minggu ini' in week
    late = (await client.get("/lks-saya/keluarga?due=overdue")).text
    assert [r["id"] for r in rows_of(late)] == w.allocations[:2]
    assert "2 keluarga" in late
    assert [r["id"] for r in rows_of((await client.get("/lks-saya/keluarga?due=bogus")).text)] == w.allocations

    # the search form keeps the due filter; its words stay out of the URL; the quick links keep the rest
    response = await client.post("/lks-saya/keluarga", data={"_csrf_token": csrf(client), "q": "Terlambat",
                                                             "due": "week", "kind": "pangan"},
                                 follow_redirects=False)
    location = response.headers["location"]
    assert "due=week" in location and "kind=pangan" in location and "Terlambat" not in location
    found = await client.get(location)
    assert [r["id"] for r in rows_of(found.text)] == w.allocations[:2]
    overdue_link = re.search(r'href="(/lks-saya/keluarga\?[^"]*due=overdue[^"]*)"', found.text)
    assert overdue_link is not None and "kind=pangan" in overdue_link.group(1) and "cari=" in overdue_link.group(1)
    assert [r["id"] for r in rows_of((await client.get(overdue_link.group(1).replace("&amp;", "&"))).text)] \
        == w.allocations[:2]
    empty = (await client.get("/lks-saya/keluarga?due=overdue&kind=kesehatan")).text
    assert rows_of(empty) == [] and "Tidak ada penyaluran yang terlambat." in empty
    # the downloads follow the same filter
    xlsx = await client.get("/lks-saya/keluarga.xlsx?due=overdue")
    assert xlsx.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)] == w.allocations[:2]


async def test_the_form_comes_back_with_everything_typed_when_the_server_refuses_it(client) -> None:
    w = await field_world()
    alloc = w.allocations[0]
    await login(client, "staf-lapangan")
    form = (await client.get(f"/penyaluran/{alloc}")).text
    assert 'id="delivery-form"' in form and "/static/delivery-photos.js" in form
    assert 'href="tel:081234567890"' in form and "Terlambat 3 hari" in form
    typed = {"_csrf_token": csrf(client), "delivered_on": (TODAY - timedelta(days=1)).isoformat(),
             "what_given": 'Beras 10 kg & minyak "Bimoli" 2 L <segel>', "received_by": "Ibu Siti O'Neil"}

    # a photo the server refuses: the text fields come back, escaped, with the reason
    response = await client.post(f"/penyaluran/{alloc}", data=typed,
                                 files=[("photos", ("a.jpg", b"bukan gambar sama sekali", "image/jpeg"))])
    assert response.status_code == 400
    text = response.text
    assert "Beras 10 kg &amp; minyak &#34;Bimoli&#34; 2 L &lt;segel&gt;</textarea>" in text
    assert 'value="Ibu Siti O&#39;Neil"' in text
    assert f'value="{typed["delivered_on"]}"' in text
    assert 'data-error="form"' in text and "bukan foto" in text
    assert "foto perlu dipilih lagi" in text

    # a field the server refuses: the message next to it, the other fields kept
    future = {**typed, "delivered_on": (TODAY + timedelta(days=2)).isoformat(), "received_by": "X"}
    response = await client.post(f"/penyaluran/{alloc}", data=future,
                                 files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 400
    assert 'data-error="delivered_on"' in response.text and "masa depan" in response.text
    assert 'data-error="received_by"' in response.text
    assert "Beras 10 kg &amp; minyak" in response.text and 'value="X"' in response.text
    assert await Delivery.count() == 0

    # corrected, it is recorded
    done = await client.post(f"/penyaluran/{alloc}", data=fields(csrf(client)),
                             files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))], follow_redirects=False)
    assert done.status_code in (302, 303) and "tercatat=1" in done.headers["location"]
    assert await Delivery.count() == 1


# --- the weight of the LKS's pages ------------------------------------------------------------------

LIMIT = 100 * 1024


async def test_every_lks_page_weighs_under_100_kb_before_photos(client, capsys) -> None:
    """HTML + CSS + JS of each page the LKS staff reaches from the menu, the delivery form and a recorded
    delivery, with a full page of 50 household cards. Printed as figures (``pytest -s``)."""
    from portal.app import create_app
    from portal.web import menu

    w = await field_world()
    for i in range(60):
        await add_allocation(w, name=f"Keluarga Penimbang Nomor {i:02d} Binti Abdurrahman")
    for a in w.allocations[6:]:
        await approval.approve(a, "admin")
    await login(client, "staf-lapangan")
    recorded = await client.post(f"/penyaluran/{w.allocations[1]}", data=fields(csrf(client)),
                                 files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))], follow_redirects=False)
    assert recorded.status_code in (302, 303)
    create_app()  # every feature's menu entries
    paths = ["/beranda", *[p for p, _ in menu.for_role("lks_staff")], f"/penyaluran/{w.allocations[0]}",
             f"/penyaluran/{w.allocations[1]}", "/lks-saya/keluarga?due=week"]
    assets: dict[str, int] = {}
    figures = []
    for path in dict.fromkeys(paths):
        response = await client.get(path)
        assert response.status_code == 200, path
        html = len(response.content)
        refs = re.findall(r'<(?:link rel="stylesheet" href|script src)="(/static/[^"]+)"', response.text)
        for ref in refs:
            if ref not in assets:
                asset = await client.get(ref)
                assert asset.status_code == 200, ref
                assets[ref] = len(asset.content)
        total = html + sum(assets[r] for r in refs)
        figures.append((path, html, total - html, total))
    with capsys.disabled():
        print("\nLKS page weights (bytes, uncompressed: HTML + CSS + JS, before photos):")
        for path, html, static, total in figures:
            print(f"  {path:<36} html {html:>7,}  css+js {static:>6,}  total {total:>7,}")
    cards = next(f for f in figures if f[0] == "/lks-saya/keluarga")
    assert cards[1] > 50 * 300, "the household list should hold a full page of 50 cards here"
    heavy = [f for f in figures if f[3] >= LIMIT]
    assert not heavy, f"pages of 100 KB or more: {heavy}"
