"""A Dinsos officer starts a matching round in a real browser and follows its progress bar to the result."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in, serve, watch_csp

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def round_env(portal_env: dict[str, str]) -> dict[str, str]:
    """A database of its own: the shared portal's may hold another test's few needs, none verified, and then
    the demo seed (``--if-empty``) adds nothing and there is no round to start."""
    return {**portal_env, "JITU_VAR_DIR": tempfile.mkdtemp(prefix="jitu-browser-round-")}


@pytest.fixture(scope="module")
def round_portal(round_env: dict[str, str]) -> Iterator[str]:
    with serve(round_env) as base:
        yield base


def test_round_progress_bar_leads_to_the_result(browser, round_portal, round_env):
    portal, portal_env = round_portal, round_env
    jitu(portal_env, "seed", "--scale", "demo", "--seed", "3", "--if-empty")
    jitu(portal_env, "user", "create", "b-ronde", "--role", "dinsos_admin", "--password", DEMO_PASSWORD)
    page = browser.new_page()
    violations = watch_csp(page)
    log_in(page, portal, "b-ronde")
    page.wait_for_url("**/beranda")
    page.goto(portal + "/ronde")
    page.click("form[action=\"/ronde\"] button")
    assert page.locator("p.alert").count() == 0, "the round did not start: " + page.locator("p.alert").inner_text()
    link = page.locator("#result-link")
    # the job ends either way: done shows the link, failed marks the message as an alert. A generous wait:
    # in CI the solve shares two cores with the other test worker
    page.locator("#result-link:visible, #message.alert").first.wait_for(timeout=300_000)
    assert link.is_visible(), "the round's job failed: " + page.locator("#message").inner_text()
    assert page.locator("#bar").evaluate("b => b.style.width") == "100%"
    link.click()
    page.wait_for_url("**/ronde/*")
    assert "Kebutuhan yang tidak terpenuhi" in page.content()
    assert violations == []  # the progress bar works under the strict CSP
    page.close()
