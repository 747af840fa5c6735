"""A resident's request followed in a real browser on a phone-sized screen: the public form, the
kelurahan operator's validation, the social worker's referral to Dinkes, the office accepting and
completing it, and the resident's tracking page saying so in plain words (no personal data there)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from marketplace.identity import make_kk, make_nik
from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
KELURAHAN = "32.73.03.1001"
BIRTH = date(1984, 7, 9)
NIK = make_nik("32.73.03", BIRTH, "P", 41)
KK = make_kk("32.73.03", date(2020, 2, 2), 41)
NAME = "Ibu Ratna Ujiwati"
"""A name no seeded person carries (the synthetic names hold no "Ujiwati"), to find this test's rows by."""


@pytest.fixture(scope="module")
def staff(portal_env, portal):
    for name, role, extra in (("r-operator", "operator_kelurahan", ["--kelurahan", KELURAHAN]),
                              ("r-peksos", "pekerja_sosial", []),
                              ("r-dinkes", "office_staff", ["--office", "kesehatan"])):
        jitu(portal_env, "user", "create", name, "--role", role, "--password", DEMO_PASSWORD, *extra)


def _login(page, portal, username):
    page.goto(portal + "/masuk")
    log_in(page, portal, username)
    page.wait_for_url("**/beranda")


def _logout(page):
    page.click("text=Keluar")
    page.wait_for_url("**/masuk")


def _width(page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def test_resident_request_to_completed_referral_on_the_tracking_page(browser, portal, staff, tmp_path):
    """The browser portal is shared with the other browser tests (seeded demo data, their requests and
    referrals), so every step finds this test's own rows by what only they carry: the applicant's name on
    the desk, the household the validation opened, the referral the social worker sent. Never "the first
    row"."""
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # the resident, on their phone
    page.goto(portal + "/permohonan")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=birth_date]", BIRTH.isoformat())
    page.select_option("select[name=sex]", "P")
    page.fill("input[name=nik]", NIK)
    page.select_option("select[name=kelurahan]", KELURAHAN)
    page.fill("input[name=address]", "Jl. Anggrek 12")
    page.select_option("select[name=kind]", "kesehatan")
    page.fill("textarea[name=description]", "Suami sakit jantung, kami belum punya BPJS")
    page.check("input[name=consent]")
    assert _width(page) <= PHONE["width"]
    page.click("form button:has-text('Kirim')")
    ticket = page.locator("#ticket").inner_text().strip()
    assert re.fullmatch(r"JITU-[0-9A-Z]{10}", ticket)

    # the kelurahan operator finds it on the desk by the applicant's name and validates it: a new household
    _login(page, portal, "r-operator")
    page.goto(portal + "/puskesos/permohonan")
    row = page.locator("tr", has_text=NAME)
    assert row.count() == 1, "the request is not on the desk exactly once"
    row.locator("a").click()
    page.wait_for_url(re.compile(r".*/puskesos/permohonan/\d+$"))
    assert page.locator("#applicant-name").inner_text().strip() == NAME
    form = page.locator("#register-household")
    form.locator("input[name=kk]").fill(KK)
    form.locator("input[name=nik]").fill(NIK)
    form.locator("input[name=amount]").fill("750000")
    if form.locator("select[name=ppks]").count():
        form.locator("select[name=ppks]").select_option("24")
    form.locator("button").click()
    page.wait_for_selector("text=Permohonan divalidasi")
    household = page.locator("a:has-text('Buka keluarga')").get_attribute("href") or ""
    household_id = re.fullmatch(r"/puskesos/keluarga/(\d+)", household).group(1)
    _logout(page)

    # the social worker opens that household and refers its need to Dinkes (the office's default data)
    _login(page, portal, "r-peksos")
    page.goto(f"{portal}/registri/keluarga/{household_id}")
    assert page.locator("text=Rujuk ke instansi").count() == 1
    page.click("text=Rujuk ke instansi")
    page.select_option("select[name=office]", "kesehatan")
    page.fill("textarea[name=what_needed]", "Pendaftaran PBI Jaminan Kesehatan")
    page.fill("textarea[name=reason]", "Kepala keluarga sakit jantung, tanpa BPJS")
    page.click("button:has-text('Kirim rujukan')")
    page.wait_for_url(re.compile(r".*/rujukan/\d+$"))
    referral_path = "/rujukan/" + page.url.rsplit("/", 1)[1]
    _logout(page)

    # Dinkes finds that referral among the ones waiting for it, accepts and completes it
    _login(page, portal, "r-dinkes")
    page.goto(portal + "/rujukan?status=sent")
    page.click(f"a[href='{referral_path}']")
    page.wait_for_url("**" + referral_path)
    assert NAME in page.content() and "Jl. Anggrek" not in page.content()
    assert _width(page) <= PHONE["width"]
    page.click("button:has-text('Terima rujukan')")
    page.wait_for_selector("textarea[name=text]")
    page.locator("form:has(input[value=complete]) textarea[name=text]").fill("Terdaftar sebagai peserta PBI JK")
    page.locator("form:has(input[value=complete]) select[name=resolution]").select_option("close")
    page.click("button:has-text('Selesaikan rujukan')")
    page.wait_for_selector("text=Selesai ditangani")
    _logout(page)

    # the resident follows it with the ticket
    page.goto(portal + "/lacak")
    page.fill("input[name=ticket]", ticket)
    page.click("form[action='/lacak'] button")
    body = page.locator("main").inner_text()
    assert "Selesai ditangani Dinkes; kebutuhan Anda dinyatakan selesai" in body
    assert "Rujukan diterima Dinkes" in body
    for secret in (NAME, "Ratna", NIK, KK, "Anggrek", "Terdaftar sebagai peserta"):
        assert secret not in body
    assert _width(page) <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "lacak-rujukan.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e]
    context.close()
