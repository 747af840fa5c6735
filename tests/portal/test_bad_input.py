"""Bad input never crashes (ASVS 5.1.3, 5.1.4, 13.2.x): every route of the live route table, for an
anonymous visitor and for each role, gets huge and negative numbers and random strings in its path ids
and its query parameters; the answer is never a server error. First a fixed sweep of known-nasty values
over every route and every parameter the route's module reads, then Hypothesis draws more at random."""

from __future__ import annotations

import asyncio
import inspect
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.handlers import HTTPRouteHandler

from portal.app import create_app
from tests.dbutil import login, make_account
from tests.portal.test_guards import ALL

HUGE = ["99999999999999999999", "999999999999999999999", str(2**31), str(2**63), "-1", "0", "-99999999999999999999",
        "1e999", "NaN", "１２３", "0x10", " 7 ", "", "%00", "'; DROP TABLE account; --", "<script>x</script>",
        "../../etc/passwd", "x" * 1500]
COMMON = ("hal", "page", "cari")
SEGMENT = re.compile(r"\{(\w+):(\w+)\}")


@cache
def _routes() -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """(method, path template, roles, query parameter names the handler's module reads)."""
    found = []
    app = create_app()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            source = inspect.getsource(inspect.getmodule(handler.fn))  # type: ignore[arg-type]
            names = set(re.findall(r"\.get\(\"(\w+)\"", source)) | set(COMMON)
            names |= {n for n in handler.parsed_fn_signature.parameters
                      if n not in ("request", "data", "state", "scope", "socket", "headers", "cookies")}
            names -= {m.group(1) for m in SEGMENT.finditer(route.path)}
            allowed = ("*",) if handler.opt.get("public") else tuple(handler.opt.get("roles", ()))
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path, allowed, tuple(sorted(names))))
    return found


def _fill(path: str, value: str) -> str:
    return SEGMENT.sub(lambda m: value if m.group(2) != "path" else f"a/{value}", path)


async def _send(client: Any, method: str, path: str, query: dict[str, str]) -> Any:
    token = client.cookies.get("jitu_csrf") or ""
    if method == "GET":
        return await client.get(path, params=query, follow_redirects=False)
    return await client.request(method, path, params=query, data={"_csrf_token": token},
                                headers={"x-csrftoken": token}, follow_redirects=False)


async def _as(client: Any, role: str | None) -> None:
    if role is None:
        await client.get("/masuk")
        return
    await make_account(role, f"bad-{role}")
    await login(client, f"bad-{role}")


def _mine(role: str | None) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """Routes this role may open (the others answer the guard's 403 before any parsing)."""
    return [r for r in _routes() if "*" in r[2] or (role is not None and role in r[2])]


ROLES: list[str | None] = [None, *ALL]


@pytest.mark.parametrize("role", ROLES)
async def test_nasty_values_in_every_path_id_and_query_parameter_never_crash(client, role):
    await _as(client, role)
    errors = []
    for method, template, _roles, names in _mine(role):
        cases = []
        if SEGMENT.search(template):
            cases += [(_fill(template, v), {}) for v in (HUGE[1], "-1", "x" * 300)]
        ids = _fill(template, "1")
        for i, name in enumerate(names):
            if method == "GET":
                cases.append((ids, {name: HUGE[i % len(HUGE)]}))
        if method == "GET":
            cases += [(ids, {n: value for n in names}) for value in (HUGE[0], HUGE[14])]
        for path, query in cases:
            response = await _send(client, method, path, query)
            if response.status_code >= 500:
                errors.append(f"{method} {path} {query} -> {response.status_code}")
    assert errors == []


@pytest.mark.parametrize("role", ROLES)
async def test_random_path_ids_and_query_values_never_crash(client, role):
    await _as(client, role)
    routes = _mine(role)
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    value = st.one_of(st.integers().map(str), st.integers(min_value=2**31 - 2).map(str),
                      st.text(max_size=60), st.sampled_from(HUGE))

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(route=st.sampled_from(routes), segment=value, data=st.data())
    def check(route: tuple[str, str, tuple[str, ...], tuple[str, ...]], segment: str, data: Any) -> None:
        method, template, _roles, names = route
        safe = re.sub(r"[/?#%\x00-\x20\x7f]", "", segment) or "0"
        query = data.draw(st.dictionaries(st.sampled_from(names), value, max_size=4)) if method == "GET" else {}
        path = _fill(template, safe)
        response = asyncio.run_coroutine_threadsafe(_send(client, method, path, query), loop).result(timeout=120)
        if response.status_code >= 500:
            errors.append(f"{method} {path} {query} -> {response.status_code}")
        assert response.status_code < 500, errors[-1]

    await asyncio.to_thread(check)
    assert errors == []


async def test_the_issues_examples_answer_400_or_404_in_indonesian(client):
    await make_account("dinsos_admin", "bad-admin")
    await login(client, "bad-admin")
    listing = await client.get("/registri/keluarga?hal=99999999999999999999")
    assert listing.status_code == 400 and "Nomor halaman" in listing.text
    detail = await client.get("/registri/keluarga/999999999999999999999")
    assert detail.status_code == 404 and "tidak ditemukan" in detail.text
    negative = await client.get("/registri/keluarga/-1")
    assert negative.status_code == 404
