"""What every page needs: the language, the user, rendering with both, rupiah formatting."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.response import Template

from marketplace.money import rupiah  # noqa: F401  (re-exported for templates and pages)
from marketplace.settings import get_settings
from portal.auth import current_user
from portal.i18n import LANGUAGES, translator


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
    context.setdefault("_", translator(context["lang"]))
    return Template(template_name=template, context=context, status_code=status_code)


PAGE_SIZE = 50


MAX_PAGE = 100_000
MAX_ID = 2_147_483_647
"""Ids are PostgreSQL ``serial`` (int4): anything larger names nothing."""


def page_number(request: Request[Any, Any, Any], param: str = "page") -> int:
    """The page-number query parameter: 1 when absent; 400 in Indonesian when not 1..MAX_PAGE."""
    return parse_page(request.query_params.get(param))


def parse_page(raw: Any) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationException(f"Nomor halaman tidak sah: harus bilangan bulat 1 sampai {MAX_PAGE:,}."
                                  .replace(",", "."))
    return int(text)


def parse_id(raw: Any) -> int | None:
    """An id from a query string or form: None when absent, not a number, or beyond any stored id."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 1 <= int(text) <= MAX_ID:
        return None
    return int(text)


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max((total + size - 1) // size, 1)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
