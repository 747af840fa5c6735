"""Each role logs in through a real browser, on a phone-sized screen, and sees its home page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in

pytestmark = pytest.mark.browser
ROLES = ["dinsos_admin", "pekerja_sosial", "operator_kelurahan", "donor", "dpo"]


@pytest.fixture(scope="module")
def accounts(portal_env, portal):
    for role in ROLES:
        extra = ["--kelurahan", "32.73.03.1001"] if role == "operator_kelurahan" else []
        jitu(portal_env, "user", "create", f"b-{role}", "--role", role, "--password", DEMO_PASSWORD,
             "--name", f"Uji {role}", *extra)
    return ROLES


@pytest.mark.parametrize("role", ROLES)
def test_role_logs_in_and_sees_home(browser, portal, accounts, role, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.goto(portal + "/beranda")
    assert "/masuk" in page.url  # anonymous visitors are sent to log in
    log_in(page, portal, f"b-{role}")  # dinsos_admin and dpo set up their second factor here
    page.wait_for_url("**/beranda")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    page.screenshot(path=str(tmp_path / f"home-{role}.png"), full_page=True)
    if role == "dinsos_admin":
        page.screenshot(path="/tmp/jitu-home-dinsos.png", full_page=True)
    # nothing personal is kept in browser storage (OWASP ASVS V8.2)
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    page.click("text=Keluar")
    page.wait_for_url("**/masuk")
    context.close()


def test_wrong_password_shows_a_message_in_indonesian(browser, portal, accounts):
    page = browser.new_page()
    page.goto(portal + "/masuk")
    page.fill("input[name=username]", "b-donor")
    page.fill("input[name=password]", "salah-sekali")
    page.click("button[type=submit]")
    assert "Nama pengguna atau kata sandi salah" in page.locator("[role=alert]").inner_text()
    page.close()


def test_language_switch_to_english(browser, portal):
    page = browser.new_page()
    page.goto(portal + "/masuk")
    page.click("text=English")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Log in"
    page.close()
