"""With the strict CSP on, no page a role reaches from its home page reports a violation in the
browser console (an inline script, style attribute or handler left behind would)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in, watch_csp

pytestmark = pytest.mark.browser
ROLES = ["dinsos_admin", "pekerja_sosial", "operator_kelurahan", "donor", "dpo"]


@pytest.fixture(scope="module")
def seeded(portal_env, portal):
    jitu(portal_env, "seed", "--scale", "demo", "--seed", "3", "--if-empty")
    for role in ROLES:
        extra = ["--kelurahan", "32.73.03.1001"] if role == "operator_kelurahan" else []
        jitu(portal_env, "user", "create", f"csp-{role}", "--role", role, "--password", DEMO_PASSWORD, *extra)
    return ROLES


@pytest.mark.parametrize("role", ROLES)
def test_pages_reached_from_home_report_no_csp_violation(browser, portal, seeded, role):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    violations = watch_csp(page)
    log_in(page, portal, f"csp-{role}")  # the second-factor pages are walked under the CSP too
    page.wait_for_url("**/beranda")
    links = page.eval_on_selector_all(
        "main a[href^='/']", "as => [...new Set(as.map(a => a.getAttribute('href')))]")
    visited = 0
    for href in links[:40]:
        page.goto(portal + href)
        page.wait_for_load_state("load")
        visited += 1
        # one step deeper: the first detail link of a list (a household, an LKS, a round...)
        deeper = page.eval_on_selector_all(
            "main table a[href^='/']", "as => as.slice(0, 1).map(a => a.getAttribute('href'))")
        for d in deeper:
            page.goto(portal + d)
            page.wait_for_load_state("load")
            visited += 1
    assert visited >= 1
    assert violations == []
    context.close()
