"""Searches by name, NIK or No. KK without personal data in any URL (ASVS 8.3.1).

The search form posts its words; they are kept in the server-side session under a short-lived random
id, and the browser is sent to ``?cari=<id>`` with only the non-personal filters and the page number.
Pagination, exports and the back button work from that id; access logs and the browser history see
only the id. The personal fields are never read from a query string, so a hand-typed ``?q=name`` does
nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect

PARAM = "cari"
LIFETIME = 30 * 60
KEPT = 10
MAX_LENGTH = 100


def remember(request: Request[Any, Any, Any], criteria: Mapping[str, str]) -> str | None:
    """Stores the personal search words in the session; None when there are none."""
    words = {k: str(v).strip()[:MAX_LENGTH] for k, v in criteria.items() if str(v or "").strip()}
    if not words:
        return None
    now = time.time()
    saved = {k: v for k, v in dict(request.session.get("searches") or {}).items()
             if isinstance(v, dict) and now - float(v.get("t", 0)) < LIFETIME}
    token = secrets.token_urlsafe(9)
    saved[token] = {"t": now, "c": words}
    request.session["searches"] = dict(sorted(saved.items(), key=lambda kv: kv[1]["t"])[-KEPT:])
    return token


def recall(request: Request[Any, Any, Any], token: str | None) -> dict[str, str]:
    """The words of a remembered search, or nothing if the id is unknown or expired."""
    if not token:
        return {}
    session = request.scope.get("session")
    saved = session.get("searches") if isinstance(session, dict) else None
    entry = saved.get(str(token)[:32]) if isinstance(saved, dict) else None
    if not isinstance(entry, dict) or time.time() - float(entry.get("t", 0)) >= LIFETIME:
        return {}
    return {str(k): str(v) for k, v in dict(entry.get("c") or {}).items()}


def params(request: Request[Any, Any, Any], personal: Iterable[str]) -> dict[str, str]:
    """The page's filters: the query string without personal fields, plus the remembered search."""
    hidden = set(personal)
    found = {k: str(v) for k, v in request.query_params.items() if k not in hidden and k != PARAM}
    found.update({k: v for k, v in recall(request, request.query_params.get(PARAM)).items() if k in hidden})
    return found


def query_string(request: Request[Any, Any, Any], filters: Mapping[str, Any]) -> str:
    """The non-personal filters and the current search id, encoded for the pager and export links."""
    token = request.query_params.get(PARAM)
    values = {k: v for k, v in filters.items() if v not in (None, "")}
    if token and recall(request, token):
        values[PARAM] = token
    return urlencode(values)


async def redirect(request: Request[Any, Any, Any], path: str, personal: Iterable[str],
                   keep: Iterable[str]) -> Redirect:
    """The POST half of a search form: remember the personal words, go to the list by GET."""
    form = await request.form()
    token = remember(request, {k: str(form.get(k, "") or "") for k in personal})
    query = {k: str(form.get(k, "") or "")[:MAX_LENGTH] for k in keep if form.get(k)}
    if token:
        query[PARAM] = token
    return Redirect(path=path + ("?" + urlencode(query) if query else ""), status_code=303)
