"""Security headers (ASVS 14.4) on every response: every route of the live route table, called by an
anonymous visitor and by each role (so pages, redirects to log-in, 403s, 400s and 404s are all seen),
plus static files, stored files, unknown paths and wrong methods. And no template holds inline script
or style, which the strict CSP would block."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from marketplace.settings import Settings
from portal.security import content_security_policy
from tests.dbutil import csrf, login, make_account
from tests.portal.test_guards import ALL, _call, _concrete, _handlers

TEMPLATES = Path(__file__).parents[2] / "portal" / "templates"


def assert_security_headers(response: Any, where: str) -> None:
    h = response.headers
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    scripts = directives.get("script-src", directives.get("default-src"))
    styles = directives.get("style-src", directives.get("default-src"))
    assert scripts is not None and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert styles is not None, where
    if "sandbox" not in directives:  # stored files are sandboxed: no script can run in them at all
        assert "'unsafe-inline'" not in styles, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") in ("no-referrer", "same-origin", "strict-origin"), where
    assert "camera=()" in h.get("permissions-policy", ""), where


def _routes() -> list[tuple[str, str]]:
    return [(m, _concrete(p)) for m, p, _h in _handlers()]


async def _walk(client: Any) -> list[str]:
    missing = []
    for method, path in _routes():
        response = await _call(client, method, path)
        try:
            assert_security_headers(response, f"{method} {path} -> {response.status_code}")
        except AssertionError as exc:
            missing.append(str(exc).splitlines()[0])
    return missing


async def test_anonymous_responses_carry_the_headers_on_every_route(client):
    await client.get("/masuk")
    assert await _walk(client) == []


@pytest.mark.parametrize("role", ALL)
async def test_each_roles_responses_carry_the_headers_on_every_route(client, role):
    await make_account(role, f"sh-{role}")
    await login(client, f"sh-{role}")
    csrf(client)
    assert await _walk(client) == []


async def test_errors_static_files_and_wrong_methods_carry_them_too(client):
    for response, where in [
        (await client.get("/tidak-ada-sama-sekali"), "404"),
        (await client.delete("/masuk"), "405"),
        (await client.get("/static/jitu.css"), "static"),
        (await client.get("/static/tidak-ada.js"), "static 404"),
        (await client.get("/berkas/uji/x.jpg?e=1&s=0"), "stored file, bad link"),
        (await client.post("/masuk", data={}), "CSRF refusal"),
        (await client.get("/beranda", follow_redirects=False), "redirect to log-in"),
    ]:
        assert_security_headers(response, where)
    page = await client.get("/masuk")
    assert page.headers["cache-control"] == "no-store"
    static = await client.get("/static/jitu.css")
    assert static.headers.get("cache-control") != "no-store"


def test_csp_allows_only_our_own_scripts_and_styles():
    csp = content_security_policy(Settings())
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "object-src 'none'" in csp
    minio = content_security_policy(Settings(OBJECT_STORE="minio", MINIO_ENDPOINT="s3.example:9000"))
    assert "img-src 'self' data: blob: http://s3.example:9000" in minio


def test_hsts_only_when_behind_https(monkeypatch):
    from portal.security import security_headers

    assert "Strict-Transport-Security" not in security_headers(Settings())
    monkeypatch.setenv("JITU_BEHIND_HTTPS", "true")
    on = Settings()
    assert on.behind_https and security_headers(on)["Strict-Transport-Security"].startswith("max-age=31536000")


async def test_secure_cookies_when_behind_https(db, monkeypatch):
    from litestar.testing import AsyncTestClient

    from portal.app import create_app

    monkeypatch.setenv("JITU_BEHIND_HTTPS", "true")
    await make_account("donor", "sec-donor")
    async with AsyncTestClient(app=create_app(Settings()), base_url="https://testserver.local") as https:
        await login(https, "sec-donor")
        response = await https.get("/beranda")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("Secure" in c for c in cookies)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []
