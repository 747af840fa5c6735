"""Every route declares who may use it, and refuses everyone else: the wrong role gets 403 from the
guard, an anonymous visitor is sent to log in (pages) or gets 401 (API). This walks the real route
table, so a route added later is checked without touching this file."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler

from marketplace.vocabulary import Role
from portal.app import create_app
from portal.auth import API_PREFIX
from tests.dbutil import csrf, login, make_account

GUARD_REFUSAL = "Anda tidak berhak membuka halaman ini"
ALL = [r.value for r in Role]


def _handlers() -> list[tuple[str, str, HTTPRouteHandler]]:
    app = create_app()
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                found.append((method, route.path, handler))
    return found


def _concrete(path: str) -> str:
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    path = re.sub(r"\{[^}:]+:path\}", "a/b.jpg", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_declares_who_may_use_it():
    undeclared = [
        f"{method} {path}" for method, path, handler in _handlers()
        if not handler.opt.get("public") and not handler.opt.get("roles")
    ]
    assert undeclared == []


def _restricted() -> list[tuple[str, str, list[str]]]:
    return [(m, _concrete(p), list(h.opt["roles"])) for m, p, h in _handlers() if not h.opt.get("public")]


async def _call(client: Any, method: str, path: str) -> Any:
    token = client.cookies.get("jitu_csrf")
    if method == "GET":
        return await client.get(path, follow_redirects=False)
    return await client.request(method, path, data={"_csrf_token": token or ""},
                                headers={"x-csrftoken": token or ""}, follow_redirects=False)


async def test_anonymous_visitors_are_refused_everywhere_restricted(client):
    await client.get("/masuk")
    refused = []
    for method, path, _roles in _restricted():
        response = await _call(client, method, path)
        if path.startswith("/api/"):
            ok = response.status_code == 401
        else:
            ok = response.status_code == 302 and response.headers["location"].startswith("/masuk")
        if not ok:
            refused.append(f"{method} {path} -> {response.status_code}")
    assert refused == []


@pytest.mark.parametrize("role", ALL)
async def test_each_role_is_refused_where_it_does_not_belong(client, role):
    await make_account(role, f"u-{role}")
    await login(client, f"u-{role}")
    csrf(client)
    leaks = []
    for method, path, roles in _restricted():
        if path.startswith(API_PREFIX):  # the API takes tokens only: a logged-in session is a stranger there
            response = await _call(client, method, path)
            if response.status_code != 401:
                leaks.append(f"{method} {path} -> {response.status_code} (session on the API)")
            continue
        if role in roles:
            continue
        response = await _call(client, method, path)
        if response.status_code != 403 or (path.startswith("/api/") is False and GUARD_REFUSAL not in response.text):
            leaks.append(f"{method} {path} -> {response.status_code}")
    assert leaks == []


@pytest.mark.parametrize("role", ["office_staff", "lks_staff"])
async def test_api_tokens_are_refused_where_they_do_not_belong_and_let_in_where_they_do(client, role):
    """The API walked the same way, with a real token of each kind: the wrong kind gets 403 from the same
    guard; the right kind passes the guard (whatever the route then answers, never 401/403/5xx)."""
    from storage.accounts import load_user
    from storage.api.tokens import create_token
    from tests.dbutil import make_lks

    admin = await load_user(await make_account("dinsos_admin", "admin-tokens"))
    owner = {"office_code": "kesehatan"} if role == "office_staff" else {"lks_id": await make_lks()}
    _, token = await create_token(admin, f"token {role}", **owner)
    api = [(m, p, r) for m, p, r in _restricted() if p.startswith(API_PREFIX)]
    assert {"/api/v1/referrals", "/api/v1/households"} <= {p for _, p, _ in api}
    wrong = []
    for method, path, roles in api:
        response = await client.request(method, path, json={}, headers={"Authorization": f"Bearer {token}"})
        if role in roles:
            if response.status_code in (401, 403) or response.status_code >= 500:
                wrong.append(f"{method} {path} -> {response.status_code} (should pass the guard)")
        elif response.status_code != 403:
            wrong.append(f"{method} {path} -> {response.status_code}")
    assert wrong == []
