"""The public impact page and the Dinsos command center on a phone-sized screen, in a real Chromium, on
the seeded history. Screenshots are kept as test artifacts in ``test-artifacts/browser/`` (git-ignored;
``JITU_ARTIFACTS`` moves them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in, watch_csp

pytestmark = pytest.mark.browser

ARTIFACTS = Path(os.environ.get("JITU_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "browser"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _fits_the_screen(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 392)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)""")
    assert width <= 392, f"the page is {width}px wide on a 390px screen: {wide}"


def test_impact_page_and_command_center_on_a_phone(browser, portal, portal_env):
    jitu(portal_env, "seed", "--scale", "demo", "--seed", "3", "--if-empty")
    jitu(portal_env, "user", "create", "b-komando", "--role", "dinsos_admin", "--password", DEMO_PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    violations = watch_csp(page)

    page.goto(portal + "/dampak")
    charts = page.locator("svg.chart")
    assert charts.count() >= 4  # by month, tile map, by kind, funnel
    assert charts.first.bounding_box()["width"] <= 390
    assert page.locator("svg.chart rect").count() > 30
    assert "Coblong" in page.content() or "Coblong" in page.locator("svg.chart title").all_inner_texts().__str__()
    _fits_the_screen(page)
    page.locator("details summary").first.click()  # the numbers behind the first chart
    assert page.locator("details table").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "dampak-phone.png"), full_page=True)

    page.goto(portal + "/masuk")
    log_in(page, portal, "b-komando")
    page.wait_for_url("**/beranda")
    page.goto(portal + "/pusat-komando")
    assert page.locator("svg.chart").count() >= 1
    assert page.get_by_text("LKS dengan penyaluran terlambat").is_visible()
    _fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "pusat-komando-phone.png"), full_page=True)
    page.locator("a[href^='/pusat-komando/kecamatan/']").first.click()
    page.wait_for_url("**/pusat-komando/kecamatan/*")
    assert page.get_by_text("Cakupan per kelurahan").is_visible()
    _fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "pusat-komando-kecamatan-phone.png"), full_page=True)
    assert violations == []
    context.close()
    for name in ("dampak-phone.png", "pusat-komando-phone.png", "pusat-komando-kecamatan-phone.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
