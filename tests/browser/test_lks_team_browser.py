"""On a phone-sized screen (390 x 844), an LKS admin invites a staff member by one-time link, the staff
member sets their own username and password and logs in, and the admin deactivates them: their open
session ends and they can no longer log in (issue 14 item 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in, watch_csp

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "id-ID"}
STAFF_PASSWORD = "sandi-relawan-2026"


@pytest.fixture(scope="module")
def lks_admin(portal_env, portal):
    """An LKS with its first account (which becomes its admin), as ``jitu user create`` makes it."""
    with sqlite3.connect(Path(portal_env["JITU_VAR_DIR"]) / "jitu.sqlite3") as db:
        lks_id = db.execute("INSERT INTO lks (name, legal_type, status, kecamatan_code) "
                            "VALUES ('Yayasan Tim Peramban', 'yayasan', 'verified', '32.73.03')").lastrowid
    jitu(portal_env, "user", "create", "b-lks-admin", "--role", "lks_staff", "--lks", str(lks_id),
         "--password", DEMO_PASSWORD, "--name", "Ibu Admin")
    return "b-lks-admin"


def _fits(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, page.url


def test_admin_invites_by_link_staff_joins_and_is_deactivated(browser, portal, lks_admin):
    admin_ctx, staff_ctx = browser.new_context(**PHONE), browser.new_context(**PHONE)
    admin, staff = admin_ctx.new_page(), staff_ctx.new_page()
    violations = watch_csp(admin) + watch_csp(staff)

    log_in(admin, portal, lks_admin)
    admin.click("text=Tim LKS")
    admin.wait_for_url("**/lks-saya/tim")
    _fits(admin)
    admin.fill("input[name=full_name]", "Relawan Dedi")
    admin.uncheck("input[name=rights][value=offers]")
    admin.uncheck("input[name=rights][value=ledger]")
    admin.check("input[name=rights][value=deliveries]")
    admin.click("text=Buat undangan")
    link = admin.locator("input.invite-link").input_value()
    assert "/undangan?token=" in link
    _fits(admin)

    staff.goto(link)
    assert "Yayasan Tim Peramban" in staff.locator("h1").inner_text()
    _fits(staff)
    staff.fill("input[name=full_name]", "Dedi Kurniawan")
    staff.fill("input[name=username]", "dedi.relawan")
    staff.fill("input[name=password]", STAFF_PASSWORD)
    staff.fill("input[name=password_confirm]", STAFF_PASSWORD)
    staff.click("button[type=submit]")
    assert staff.locator("h1").inner_text() == "Akun dibuat"
    staff.click("main a.button")
    staff.wait_for_url("**/masuk")
    log_in(staff, portal, "dedi.relawan", STAFF_PASSWORD)
    staff.wait_for_url("**/beranda")
    menu = staff.locator("ul.menu").inner_text()
    assert "Keluarga dampingan" in menu and "Buku kas" not in menu and "Tim LKS" not in menu
    staff.goto(link)  # the link works once only
    assert "sudah dipakai" in staff.locator("[role=alert]").inner_text()

    admin.goto(portal + "/lks-saya/tim")
    admin.click("table.team a:has-text('Dedi Kurniawan')")
    admin.wait_for_url(lambda url: "/lks-saya/tim/" in url)
    assert admin.locator("h1").inner_text() == "Dedi Kurniawan"
    _fits(admin)
    admin.click("button.danger")
    admin.wait_for_url(lambda url: url.endswith("/lks-saya/tim?e=nonaktif"))
    assert "Akun dinonaktifkan" in admin.locator("[role=status]").inner_text()
    assert "Nonaktif" in admin.locator("table.team").inner_text()

    staff.goto(portal + "/lks-saya/keluarga")
    assert "/masuk" in staff.url  # the open session ended
    staff.fill("input[name=username]", "dedi.relawan")
    staff.fill("input[name=password]", STAFF_PASSWORD)
    staff.click("button[type=submit]")
    assert "Nama pengguna atau kata sandi salah" in staff.locator("[role=alert]").inner_text()
    assert violations == []
    admin_ctx.close()
    staff_ctx.close()
