"""What every page needs: the language, the user, rendering with both, rupiah formatting."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from marketplace.money import rupiah  # noqa: F401  (re-exported for templates and pages)
from marketplace.settings import get_settings
from portal.auth import current_user
from portal.i18n import LANGUAGES


def language_of(request: Request[Any, Any, Any]) -> str:
    session = request.scope.get("session")
    if isinstance(session, dict) and session.get("lang") in LANGUAGES:
        return str(session["lang"])
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return str(cookie)
    return get_settings().language


async def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("user", await current_user(request))
    context.setdefault("lang", language_of(request))
    return Template(template_name=template, context=context, status_code=status_code)


PAGE_SIZE = 50


def page_number(request: Request[Any, Any, Any]) -> int:
    """The ``page`` query parameter, 1 when absent or not a positive number."""
    raw = str(request.query_params.get("page", "1"))
    return max(int(raw), 1) if raw.isdigit() else 1


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max((total + size - 1) // size, 1)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
