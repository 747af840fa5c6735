"""A real portal process (uvicorn, its own SQLite database) and a real headless Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("JITU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
DEMO_PASSWORD = "kata-sandi-peramban-1"
WARNING_LINE = re.compile(r":\d+: \w*Warning: ")  # how Python prints a warning: file:line: Category: message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def portal_env() -> dict[str, str]:
    var = Path(tempfile.mkdtemp(prefix="jitu-browser-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    # a short solver budget: these tests follow pages (progress bar, result), not the solver's quality,
    # and the default 50 s deterministic budget outlasts the page's wait on a loaded 2-core machine
    env.update(JITU_VAR_DIR=str(var), SECRET_KEY="browser-secret-" + "y" * 32, MATCH_TIME_LIMIT="10",
               # the portal process shows every warning (Python hides most outside __main__), so that the
               # session can fail on one: the same ignores as pyproject.toml's filterwarnings
               PYTHONWARNINGS="default,ignore::ResourceWarning,ignore:Call to deprecated setex:DeprecationWarning")
    return env


def jitu(env: dict[str, str], *args: str) -> str:
    exe = Path(sys.executable).with_name("jitu")
    result = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextlib.contextmanager
def serve(env: dict[str, str]) -> Iterator[str]:
    """``jitu serve`` on a free port with this environment (migrated first); fails the test if the portal
    process printed a warning."""
    jitu(env, "migrate")
    port = _free_port()
    exe = Path(sys.executable).with_name("jitu")
    log = Path(env["JITU_VAR_DIR"]) / "portal-stderr.log"
    with log.open("wb") as err:  # the child keeps its own descriptor
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the portal did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    warned = [line for line in log.read_text(errors="replace").splitlines() if WARNING_LINE.search(line)]
    assert not warned, "the portal process printed warnings:\n" + "\n".join(warned[:20])


@pytest.fixture(scope="session")
def portal(portal_env: dict[str, str]) -> Iterator[str]:
    with serve(portal_env) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is open,
    which would stop the asyncio tests that follow."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser-deps` (apt-get install chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


_SECRETS: dict[tuple[str, str], str] = {}
_LAST_STEP: dict[tuple[str, str], int] = {}


def _code(key: tuple[str, str]) -> str:
    """The authenticator app's code for this account now; never the step used last (the portal refuses a
    replay), so a log-in again within the same 30 s waits for the next step."""
    import pyotp

    step = max(int(time.time() // 30), _LAST_STEP.get(key, -1) + 1)
    while step > int(time.time() // 30) + 1:
        time.sleep(1)
    _LAST_STEP[key] = step
    return pyotp.TOTP(_SECRETS[key]).generate_otp(step)


def log_in(page: object, portal: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Logs in from the form, as a person would: a role that must have a second factor sets one up the
    first time (reads the key off the page into its "phone", confirms, passes the recovery codes) and
    answers the code step after that. Ends on the page log-in led to (the home page from ``/masuk``)."""
    p: Any = page
    key = (portal, username)
    if "/masuk" not in p.url:
        p.goto(portal + "/masuk")
    p.fill("input[name=username]", username)
    p.fill("input[name=password]", password)
    p.click("button[type=submit]")
    p.wait_for_url(lambda url: "/masuk" not in url or "/masuk/faktor-kedua" in url)
    if "/masuk/faktor-kedua/daftar" in p.url:
        _SECRETS[key] = p.get_attribute("#totp-secret", "data-secret")
        _LAST_STEP.pop(key, None)
        p.fill("input[name=code]", _code(key))
        p.click("button[type=submit]")
        p.locator("#recovery-codes").wait_for()
        p.click("a.button")
    elif "/masuk/faktor-kedua" in p.url:
        p.fill("input[name=code]", _code(key))
        p.click("button[type=submit]")
    p.wait_for_url(lambda url: "/masuk" not in url)


def watch_csp(page: object) -> list[str]:
    """Collects every Content-Security-Policy violation the page reports (console and DOM event)."""
    found: list[str] = []

    def on_console(message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            found.append(f"{page.url}: {text}")  # type: ignore[attr-defined]

    page.on("console", on_console)  # type: ignore[attr-defined]
    page.add_init_script(  # type: ignore[attr-defined]
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found
