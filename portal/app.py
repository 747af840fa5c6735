"""The Litestar application, assembled in one factory from the settings."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from litestar import Litestar, MediaType, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig
from piccolo.engine import engine_finder

import storage  # noqa: F401  (PICCOLO_CONF)
from marketplace.ports import STORE_DOWN_MESSAGE, ObjectStoreUnavailable
from marketplace.settings import Settings, get_settings
from marketplace.vocabulary import KIND_LABELS, PPKS_TYPES, ROLE_LABELS, SENSITIVE_PPKS
from portal.auth import role_guard
from portal.compression import compression_config
from portal.i18n import translate, translator
from portal.security import security_headers_hook
from portal.sessions import DatabaseSessionStore, RotatingSessionConfig
from portal.web.common import MAX_ID, language_of, rupiah
from storage.counting import describe
from storage.crypto import vault
from storage.engine import POOL_OPTIONS, database_unavailable

log = logging.getLogger("jitu")
HERE = Path(__file__).parent
SESSION_SECONDS = 8 * 3600


def _route_handlers() -> list[Any]:
    from portal import web

    handlers: list[Any] = []
    for info in sorted(pkgutil.iter_modules(web.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"portal.web.{info.name}")
        handlers.extend(getattr(module, "ROUTES", []))
    return handlers


@pass_context
def _gettext(ctx: Any, text: str, **values: Any) -> str:
    result = translate(text, ctx.get("lang", "id"))
    return result.format(**values) if values else result


@pass_context
def _count_label(ctx: Any, total: int) -> str:
    """A list's row count; an estimate (``storage.counting``) says so: ``sekitar 331.000``."""
    return describe(total, ctx.get("lang", "id"))


_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    """Jinja's environment, with ``row.name`` on a plain ``dict`` read as the item straight away.

    Jinja tries the attribute first and takes the item only after an ``AttributeError``; list pages
    hand their rows over as dicts, so each ``r.status`` raised and caught an exception (a 50-row page
    did a thousand: a fifth of its view). A plain dict has no attributes but those of ``dict`` itself
    (no instance ``__dict__``), so for any other name the attribute lookup can only fail: going to the
    item first gives the same value, or the same undefined. ``r.items`` stays the method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _template_engine() -> JinjaTemplateEngine:
    env = PageEnvironment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # templates ship with the code: no stat() of every template file on every page
        auto_reload=False,
    )
    env.globals.update(_=_gettext, PPKS_TYPES=PPKS_TYPES, KIND_LABELS=KIND_LABELS, ROLE_LABELS=ROLE_LABELS,
                       SENSITIVE_PPKS=SENSITIVE_PPKS)
    env.filters["rupiah"] = rupiah
    env.filters["jumlah"] = _count_label
    return JinjaTemplateEngine.from_environment(env)


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith(("/api/", "/webhooks/"))


def _error_page(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[Any]:
    if not _wants_html(request):
        return Response({"status_code": status, "detail": message}, status_code=status, media_type=MediaType.JSON)
    lang = language_of(request)
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "message": message, "lang": lang, "user": None,
                 "_": translator(lang)},
        status_code=status,
    )


def _not_authorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if _wants_html(request):
        from portal.web.logins.flow import CODE_PAGE, is_pending

        if is_pending(request.scope.get("session")):
            return Redirect(path=CODE_PAGE)  # a password-checked session reaches nothing before its second step
        return Redirect(path="/masuk", query_params={"next": request.url.path})
    return _error_page(request, 401, "Belum masuk", str(exc.detail))


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    detail = str(exc.detail)
    if "CSRF" in detail:
        detail = "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."
    return _error_page(request, 403, "Akses ditolak", detail)


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    return _error_page(request, 404, "Halaman tidak ditemukan", "Alamat yang Anda buka tidak ada.")


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ValidationException) or exc.status_code < 500:
        return _error_page(request, exc.status_code, "Permintaan tidak dapat diproses", str(exc.detail))
    return _server_error(request, exc)


def _out_of_range(exc: BaseException) -> bool:
    """A number too large for the database column (SQLite OverflowError, PostgreSQL int4/int8 range)."""
    text = str(exc).lower()
    return isinstance(exc, OverflowError) or (
        type(exc).__module__.startswith("asyncpg") and ("out of range" in text or "out of int" in text)
    )


async def _bounded_path_ids(request: Request[Any, Any, Any]) -> None:
    """``before_request``: an int path id beyond any stored id (serial int4) or below 1 names nothing.

    Pages only: the JSON API declares its own bounds on path parameters and answers 400 from them."""
    if not _wants_html(request):
        return
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFoundException("Data tidak ditemukan")


# "may not": when the connection dies right after a commit, the answer is lost but the change is kept (whole)
DB_DOWN_MESSAGE = ("Basis data sedang tidak dapat dihubungi, jadi permintaan Anda mungkin belum tersimpan "
                   "(tidak ada yang tersimpan setengah). Silakan coba lagi beberapa saat lagi.")


def _unavailable(request: Request[Any, Any, Any], message: str) -> Response[Any]:
    response = _error_page(request, 503, "Layanan sedang terganggu", message)
    response.headers["Retry-After"] = "5"
    return response


def _server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, ObjectStoreUnavailable):
        log.warning("object store unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _unavailable(request, STORE_DOWN_MESSAGE)
    if database_unavailable(exc):
        # PostgreSQL restarting or unreachable: the transaction did not commit; the pool reconnects by itself
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return _unavailable(request, DB_DOWN_MESSAGE)
    if _out_of_range(exc):
        # the last line of defence: a route that forgot a bound answers 400, not 500
        log.warning("number out of range on %s %s: %s", request.method, request.url.path, exc)
        return _error_page(request, 400, "Permintaan tidak dapat diproses",
                           "Angka yang dikirim di luar batas yang diterima.")
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(
        request, 500, "Terjadi kesalahan", "Maaf, terjadi kesalahan pada sistem. Kejadian ini sudah dicatat."
    )


def create_app(settings: Settings | None = None, *, session_store: Store | None = None) -> Litestar:
    settings = settings or get_settings()
    secret = vault().active.secret  # the active key's (k0: SECRET_KEY); ``jitu keys`` rotates it
    if session_store is None and settings.redis_url:
        from litestar.stores.redis import RedisStore

        session_store = RedisStore.with_client(url=settings.redis_url, namespace="jitu-session")
    store = session_store or DatabaseSessionStore()
    session_config = RotatingSessionConfig(
        store="sessions", key="jitu_session", max_age=SESSION_SECONDS, httponly=True,
        samesite="lax", secure=settings.behind_https, renew_on_access=True,
    )
    csrf = CSRFConfig(
        secret=secret, cookie_name="jitu_csrf", header_name="x-csrftoken", cookie_samesite="lax",
        cookie_secure=settings.behind_https, cookie_httponly=False,
        exclude=["/api/v1/"],  # token-authenticated only (portal/auth.py): no cookie a forged form could ride
    )

    async def start_pool() -> None:
        engine = engine_finder()
        if settings.is_postgres and settings.db_pool and engine is not None:
            await engine.start_connection_pool(max_size=10, **POOL_OPTIONS)  # type: ignore[call-arg]

    async def close_pool() -> None:
        engine = engine_finder()
        if settings.is_postgres and settings.db_pool and engine is not None:
            try:
                # graceful close waits for every connection to come back; after the database restarted under
                # the pool that wait was seen to last forever, so shutting down is bounded
                await asyncio.wait_for(engine.close_connection_pool(), timeout=10)
            except TimeoutError:
                log.warning("connection pool did not close in 10 s; terminating its connections")
                pool = getattr(engine, "pool", None)
                if pool is not None:
                    pool.terminate()

    static = create_static_files_router(path="/static", directories=[HERE / "static"], opt={"public": True})
    handlers = _route_handlers()
    api = [h for h in handlers if isinstance(h, Router) and h.path.startswith("/api/v1")]
    # the OpenAPI document describes the API only, never the HTML pages
    pages = Router(path="/", route_handlers=[static, *[h for h in handlers if h not in api]], include_in_schema=False)
    return Litestar(
        route_handlers=[pages, *api],
        middleware=[session_config.middleware],
        stores={"sessions": store},
        csrf_config=csrf,
        compression_config=compression_config(),
        openapi_config=OpenAPIConfig(
            title="jitu API", version="1",
            description="API Dinas Sosial Kota Bandung untuk instansi rujukan dan LKS. Otentikasi: "
                        "`Authorization: Bearer <token>` (token dibuat Dinas Sosial di portal, /admin/token-api).",
            openapi_router=Router(path="/api/v1/schema", route_handlers=[], opt={"public": True},
                                  include_in_schema=False),
            security=[{"token": []}],
            components=Components(security_schemes={"token": SecurityScheme(type="http", scheme="bearer")}),
        ),
        guards=[role_guard],
        template_config=TemplateConfig(instance=_template_engine()),
        exception_handlers={
            NotAuthorizedException: _not_authorized,
            PermissionDeniedException: _forbidden,
            NotFoundException: _not_found,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        before_send=[security_headers_hook(settings)],
        before_request=_bounded_path_ids,
        on_startup=[start_pool],
        on_shutdown=[close_pool],
        debug=settings.debug,
        state={"settings": settings},  # type: ignore[arg-type]
    )
