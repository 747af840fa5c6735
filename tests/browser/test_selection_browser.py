"""Dinsos decides a whole selection in a real browser: filter the round by kecamatan, approve everything
it selects, confirm the count and the rupiah, follow the job's progress bar, read the result.

The job goes through the real SAQ queue on Redis and a real ``jitu worker`` process, started only after
the page shows the job waiting, so the test sees the progress bar of a job that has not run yet and then
the page following it to the end on its own."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import DEMO_PASSWORD, jitu, log_in, serve, watch_csp

pytestmark = pytest.mark.browser

REDIS = os.environ.get("JITU_TEST_REDIS", "redis://127.0.0.1:6379/15")


def number(text: str) -> int:
    """The first whole number in an Indonesian text ("1.234 alokasi", "Rp 12.500.000")."""
    found = re.search(r"\d[\d.]*", text)
    assert found, f"no number in {text!r}"
    return int(found.group(0).replace(".", ""))


@pytest.fixture(scope="module")
def queued_env(portal_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A portal of its own (own database and folder) whose jobs go to a queue of its own on Redis."""
    import redis

    queue = f"jitu-browser-{os.getpid()}-{secrets.token_hex(3)}"
    env = {**portal_env, "JITU_VAR_DIR": tempfile.mkdtemp(prefix="jitu-browser-queue-"), "REDIS_URL": REDIS,
           "JOB_QUEUE": queue, "JOB_HEARTBEAT": "5"}
    yield env
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"saq:*{queue}*"))
    if keys:
        client.delete(*keys)
    client.close()


@contextlib.contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    exe = Path(sys.executable).with_name("jitu")
    log = Path(env["JITU_VAR_DIR"]) / "worker.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen([str(exe), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_filter_by_kecamatan_approve_all_follow_the_bar_to_done(browser, queued_env):
    env = queued_env
    with serve(env) as portal:
        jitu(env, "seed", "--scale", "demo", "--seed", "5")
        jitu(env, "user", "create", "b-pilihan", "--role", "dinsos_admin", "--password", DEMO_PASSWORD)
        period = dt.date.today().strftime("%Y-%m")
        ran = jitu(env, "match", "run", "--period", period)
        found = re.search(r"Ronde #(\d+)", ran)
        assert found, ran
        round_id = int(found.group(1))

        page = browser.new_page()
        violations = watch_csp(page)
        log_in(page, portal, "b-pilihan")
        page.goto(f"{portal}/alokasi?round={round_id}")
        whole = number(page.inner_text("#summary-count"))
        assert whole > 0, "the round proposed nothing to decide"

        # the kecamatan with the most proposals (the summary's first row), chosen in the filter by its name
        name = page.locator("#ringkasan table").first.locator("tbody tr").first.locator("td").first.inner_text()
        page.select_option("select[name=kecamatan]", label=name.strip())
        page.click("form[action='/alokasi'] button")
        page.wait_for_url("**kecamatan=*")
        selected = number(page.inner_text("#summary-count"))
        amount = number(page.inner_text("#summary-amount"))
        assert 0 < selected < whole

        page.click("#approve-all")
        confirm = page.inner_text("#confirm-text")
        assert f"{selected:,}".replace(",", ".") in confirm and f"{amount:,}".replace(",", ".") in confirm, confirm
        page.click("#confirm-run")
        page.wait_for_url("**/alokasi/pekerjaan/*")
        page.locator("#job .progress[role=progressbar]").wait_for()  # the bar itself is empty (0 %) yet
        assert page.locator("#job .progress #bar").count() == 1
        assert "Menunggu giliran" in page.inner_text("#message")  # queued: no worker is running yet

        with worker(env):
            page.locator("#selection-done, #selection-failed").first.wait_for(timeout=240_000)
        log = (Path(env["JITU_VAR_DIR"]) / "worker.log").read_text(errors="replace")
        assert page.locator("#selection-done").is_visible(), page.content() + log
        done = page.inner_text("#selection-done")
        approved = number(page.inner_text("#done-approved"))
        refused = re.search(r"([\d.]+) tidak lolos pemeriksaan", done)
        skipped = re.search(r"([\d.]+) dilewati", done)
        assert refused and skipped, done
        assert approved > 0 and approved + number(refused.group(1)) == selected and number(skipped.group(1)) == 0

        page.click("#selection-done a.button")
        page.wait_for_url(f"**/alokasi?round={round_id}")
        page.select_option("select[name=kecamatan]", label=name.strip())
        page.select_option("select[name=status]", "approved")
        page.click("form[action='/alokasi'] button")
        page.wait_for_url("**status=approved*")
        assert number(page.inner_text("#summary-count")) == approved
        page.goto(f"{portal}/alokasi?round={round_id}")
        assert number(page.inner_text("#summary-count")) == whole - approved  # the refused stay proposed
        assert violations == []
        page.close()
