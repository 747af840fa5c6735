"""An LKS staff member on a phone (390 x 844) finds this week's deliveries among the household cards and
records one with three 12-megapixel photos: the browser shrinks them before sending, so the whole upload is
under 1 MB; a first attempt that loses its connection keeps everything typed and chosen. Screenshots in
``test-artifacts/browser/`` (``JITU_ARTIFACTS`` moves them); figures printed (``pytest -s``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.conftest import DEMO_PASSWORD, log_in, watch_csp

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("JITU_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
MB = 1024 * 1024


def _camera_photo(path: Path, seed: int) -> None:
    """A 4000 x 3000 (12-megapixel) JPEG as a phone camera writes it: a scene of smooth light with sensor
    noise, at high quality, so it is several megabytes."""
    noise = Image.effect_noise((4000, 3000), 28 + seed)
    light = Image.linear_gradient("L").resize((4000, 3000))
    shade = light.transpose(Image.Transpose.ROTATE_90).resize((4000, 3000))
    image = Image.merge("RGB", (Image.blend(light, noise, 0.35), Image.blend(shade, noise, 0.3),
                                Image.blend(light, shade, 0.5)))
    image.save(path, "JPEG", quality=92)


def _width(page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def _weight(page, url: str) -> int:
    """Bytes of HTML + CSS + JS the browser received for one page load (the portal sends them
    uncompressed, so these are the bytes on the wire, headers aside)."""
    seen: list = []

    def received(response) -> None:
        seen.append(response)

    page.on("response", received)
    page.goto(url)
    page.wait_for_load_state("load")
    page.remove_listener("response", received)
    return sum(len(r.body()) for r in seen if r.request.resource_type in ("document", "stylesheet", "script"))


@pytest.fixture(scope="module")
def field(portal, portal_env) -> dict[str, int]:
    """This module's LKS, its staff account ``b-lapangan`` and three approved households."""
    result = subprocess.run([sys.executable, "-m", "tests.browser.fieldwork_setup", "b-lapangan", DEMO_PASSWORD],
                            env=portal_env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_staff_finds_this_weeks_deliveries_and_records_one_with_three_photos(browser, portal, field, tmp_path):
    ids = field
    late, week, later = (ids["Ibu Lapangan Terlambat"], ids["Bapak Lapangan Minggu Ini"],
                         ids["Ibu Lapangan Bulan Depan"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    violations = watch_csp(page)
    log_in(page, portal, "b-lapangan")
    page.wait_for_url("**/beranda")

    # the household list: cards, not a table running off the screen
    page.click("a[href='/lks-saya/keluarga']")
    page.wait_for_url("**/lks-saya/keluarga")
    cards = page.locator("tr.household")
    assert cards.count() == 3
    assert cards.first.evaluate("e => getComputedStyle(e).display") == "grid"
    assert page.locator("table.households thead").bounding_box()["height"] <= 1  # for screen readers only
    assert _width(page) <= 392
    assert [int(c.get_attribute("data-allocation")) for c in cards.all()] == [late, week, later]  # overdue first
    assert "Terlambat 2 hari" in cards.first.inner_text()
    box = cards.first.bounding_box()
    assert box["width"] <= 390 and box["height"] < 844  # a card fits the screen
    page.screenshot(path=str(ARTIFACTS / "keluarga-phone.png"), full_page=True)

    # this week's deliveries: the overdue one and the one due by Sunday, not next month's
    page.click("nav.due-tabs a:has-text('Minggu ini')")
    page.wait_for_url("**due=week**")
    assert [int(c.get_attribute("data-allocation")) for c in cards.all()] == [late, week]
    card = page.locator(f"tr.household[data-allocation='{week}']")
    assert card.locator("a.tel").get_attribute("href") == "tel:081270000002"
    assert "Bapak Lapangan Minggu Ini" in card.inner_text() and "Gg. Lapangan 2, RT 003/RW 007" in card.inner_text()
    page.screenshot(path=str(ARTIFACTS / "keluarga-minggu-ini-phone.png"), full_page=True)
    card.locator("a:has-text('Catat penyaluran')").click()
    page.wait_for_url(f"**/penyaluran/{week}")
    assert _width(page) <= 392

    photos = []
    for i in range(3):
        path = tmp_path / f"IMG_2026120{i + 1}.jpg"
        _camera_photo(path, i)
        photos.append(path)
    originals = sum(p.stat().st_size for p in photos)
    assert originals > 3 * MB  # camera-sized: without shrinking, these alone are well over 1 MB

    page.fill("textarea[name=what_given]", "Paket sembako: beras 10 kg, minyak 2 L, gula 1 kg")
    page.fill("input[name=received_by]", "Bapak Lapangan")
    page.set_input_files("input[name=photos]", [str(p) for p in photos])

    # first attempt: the connection drops mid-upload; nothing is lost. The route sees each request's real
    # body (the "request" event leaves a large multipart body out)
    bodies: list[int] = []

    def upload(route):
        if route.request.method != "POST":
            route.continue_()
            return
        bodies.append(len(route.request.post_data_buffer or b""))
        if len(bodies) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**/penyaluran/{week}", upload)
    page.click("button:has-text('Simpan penyaluran')")
    page.locator("#upload-error p.alert").wait_for(timeout=60_000)
    assert "koneksi terputus" in page.locator("#upload-error").inner_text()
    assert page.input_value("textarea[name=what_given]").startswith("Paket sembako: beras 10 kg")
    assert page.input_value("input[name=received_by]") == "Bapak Lapangan"
    assert page.locator("input[name=photos]").evaluate("i => i.files.length") == 3
    assert page.locator("#photo-progress li").count() == 3  # one line per photo
    assert page.locator("#photo-progress progress").count() == 3
    page.screenshot(path=str(ARTIFACTS / "penyaluran-gagal-kirim-phone.png"), full_page=True)

    # again: recorded, with the three photos, and the upload well under 1 MB
    page.click("button:has-text('Simpan penyaluran')")
    page.wait_for_url("**tercatat=1**", timeout=120_000)
    assert page.get_by_text("Penyaluran tercatat").is_visible()
    shown = page.locator("img.photo")
    assert shown.count() == 3
    assert all(w <= 1600 for w in shown.evaluate_all("imgs => imgs.map(i => Math.max(i.naturalWidth, "
                                                     "i.naturalHeight))"))
    page.unroute(f"**/penyaluran/{week}")
    assert len(bodies) == 2
    print(f"\nthree 12-megapixel photos: originals {originals:,} bytes; upload request bodies {bodies[0]:,} "
          f"(dropped) and {bodies[1]:,} bytes (recorded)")
    assert 3 * 20_000 < bodies[1] < MB, f"the upload was {bodies[1]:,} bytes"
    page.screenshot(path=str(ARTIFACTS / "penyaluran-tercatat-phone.png"), full_page=True)

    # what the LKS's pages weigh on the wire, before photos
    context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit
    weights = {path: _weight(page, portal + path) for path in
               ("/beranda", "/lks-saya/keluarga", "/lks-saya/keluarga?due=week", f"/penyaluran/{later}")}
    print("received (HTML + CSS + JS, first visit): " + ", ".join(f"{p} {n:,} B" for p, n in weights.items()))
    assert all(n < 100 * 1024 for n in weights.values()), weights
    assert violations == []
    context.close()


def test_the_form_works_without_javascript(browser, portal, field):
    """No script: the form posts as a plain form; a refusal comes back with what was typed."""
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    log_in(page, portal, "b-lapangan")
    page.goto(portal + "/lks-saya/keluarga?due=overdue")
    href = page.locator("tr.household a:has-text('Catat penyaluran')").first.get_attribute("href")
    assert href == f"/penyaluran/{field['Ibu Lapangan Terlambat']}"
    page.goto(portal + href)
    page.fill("textarea[name=what_given]", "Beras 5 kg")
    page.fill("input[name=received_by]", "Ibu Lapangan")
    page.set_input_files("input[name=photos]", {"name": "bukan.jpg", "mimeType": "image/jpeg",
                                                "buffer": b"ini bukan foto"})
    page.click("button:has-text('Simpan penyaluran')")
    page.wait_for_load_state("load")
    assert page.locator("p.alert[data-error=form]").is_visible()
    assert page.input_value("textarea[name=what_given]") == "Beras 5 kg"
    assert page.input_value("input[name=received_by]") == "Ibu Lapangan"
    context.close()
