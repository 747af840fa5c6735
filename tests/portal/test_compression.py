"""gzip of responses: pages from our own pages or typed by the person, static files, the API and CSV are
compressed (and decode to exactly what an uncompressed answer carries, headers and CSP included); a
request another site made, or one without ``Sec-Fetch-Site``, gets plain pages (BREACH); Excel, PDF and
small answers go as they are."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from portal.compression import MIN_SIZE
from tests.dbutil import login, make_account, make_lks

GZIP = {"accept-encoding": "gzip"}
OWN = {**GZIP, "sec-fetch-site": "same-origin"}


async def _raw(client: Any, path: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    """The response and its body as sent on the wire (not decoded by the client)."""
    async with client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


@pytest.mark.parametrize("site", ["same-origin", "none"])
async def test_a_page_from_our_own_pages_is_gzipped_and_unchanged_inside(client, site):
    plain, plain_body = await _raw(client, "/pengaduan", GZIP)
    zipped, zipped_body = await _raw(client, "/pengaduan", {**GZIP, "sec-fetch-site": site})
    assert zipped.status_code == 200 and zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) == len(zipped_body) < len(plain_body)
    inside = gzip.decompress(zipped_body)
    # the same page but for its CSRF token's form field (a fresh client cookie each time)
    assert inside.split(b'name="_csrf_token"')[0] == plain_body.split(b'name="_csrf_token"')[0]
    for header in ("content-security-policy", "x-frame-options", "cache-control", "content-type",
                   "x-content-type-options", "referrer-policy"):
        assert zipped.headers[header] == plain.headers[header], header


@pytest.mark.parametrize("site", ["cross-site", "same-site", None])
async def test_a_page_requested_by_another_site_or_an_unknown_browser_is_not_compressed(client, site):
    headers = {**GZIP, **({"sec-fetch-site": site} if site else {})}
    response, body = await _raw(client, "/pengaduan?cari=tebakan", headers)
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert body.startswith(b"<!doctype html") and b'name="_csrf_token"' in body


async def test_static_files_stream_compressed_whoever_asks(client):
    css = (Path(__file__).parents[2] / "portal" / "static" / "jitu.css").read_bytes()
    response, body = await _raw(client, "/static/jitu.css", GZIP)
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == css and len(body) < len(css)
    assert "content-length" not in response.headers or int(response.headers["content-length"]) == len(body)
    assert response.headers["content-security-policy"]


async def test_small_answers_and_clients_without_gzip_are_sent_plain(client):
    small, body = await _raw(client, "/api/v1/households", GZIP)  # 401, a short JSON
    assert small.status_code == 401 and len(body) < MIN_SIZE and "content-encoding" not in small.headers
    plain, body = await _raw(client, "/static/jitu.css", {"accept-encoding": "identity"})
    css = (Path(__file__).parents[2] / "portal" / "static" / "jitu.css").read_bytes()
    assert "content-encoding" not in plain.headers and body == css


async def test_csv_is_compressed_excel_and_pdf_are_not(client):
    from openpyxl import load_workbook

    plain_csv, plain_body = await _raw(client, "/dampak/data.csv?tabel=kecamatan", GZIP)
    csv, csv_body = await _raw(client, "/dampak/data.csv?tabel=kecamatan", OWN)
    assert len(plain_body) >= MIN_SIZE and csv.headers["content-encoding"] == "gzip"
    assert gzip.decompress(csv_body) == plain_body
    assert csv.headers["content-disposition"] == plain_csv.headers["content-disposition"]
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    xlsx, xlsx_body = await _raw(client, "/registri/templat/dtks.xlsx", OWN)
    assert xlsx.status_code == 200 and "content-encoding" not in xlsx.headers
    assert int(xlsx.headers["content-length"]) == len(xlsx_body)
    assert load_workbook(io.BytesIO(xlsx_body)).active.max_row >= 2

    lks_id = await make_lks()
    await make_account("lks_staff", "staf", lks_id=lks_id)
    await login(client, "staf")
    pdf, pdf_body = await _raw(client, "/lks-saya/keluarga.pdf", OWN)
    assert pdf.status_code == 200 and "content-encoding" not in pdf.headers and pdf_body.startswith(b"%PDF")
    sheet, sheet_body = await _raw(client, "/lks-saya/keluarga.xlsx", OWN)
    assert sheet.status_code == 200 and "content-encoding" not in sheet.headers
    assert load_workbook(io.BytesIO(sheet_body))


async def test_forms_still_post_with_compression_on(client):
    """Log-in (a CSRF-protected form) through compressed pages: the token in the decoded page works."""
    await make_account("donor", "donatur")
    page = await client.get("/masuk", headers=OWN)
    assert page.headers["content-encoding"] == "gzip"
    done = await client.post("/masuk", headers=OWN, follow_redirects=False, data={
        "username": "donatur", "password": "kata-sandi-uji-123", "_csrf_token": client.cookies.get("jitu_csrf")})
    assert done.status_code == 302
    home = await client.get("/beranda", headers=OWN)
    assert home.status_code == 200 and home.headers.get("content-encoding") == "gzip"
