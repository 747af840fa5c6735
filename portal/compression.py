"""gzip of responses (Litestar's ``CompressionMiddleware``, at least ``MIN_SIZE`` bytes), with two limits.

**Only where compression leaks nothing (BREACH).** A compressed page's length says how well an
attacker's text reflected into it (a search term in the query string) compresses against a secret on the
same page (the CSRF token of every form, a NIK for Dinsos). The attack needs many requests made by the
victim's browser from the attacker's page. Browsers name where a request comes from (``Sec-Fetch-Site``):
pages are compressed only for requests from our own pages (``same-origin``) or typed by the person
(``none``), never for a request another site made, nor when the header is missing (an old browser: sent
plain, as before). Static files hold no secret and are always compressed; the API authenticates by a
bearer token a browser never attaches by itself, so its JSON is compressed too.

**Not what is compressed already.** Excel files are zip archives, PDFs and images are compressed
inside: they go as they are (no CPU spent for nothing), as does anything a route encoded itself.
Everything else (HTML, CSV, JSON, CSS, JS), streamed or not, is compressed by Litestar's middleware,
which drops ``Content-Length`` for a streamed body and adds ``Vary: Accept-Encoding``. Headers (the CSP
among them) are left alone: the security-header hook runs on the response either way.
"""

from __future__ import annotations

from typing import cast

from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Receive, Scope, Send

from portal.auth import API_PREFIX

MIN_SIZE = 500
LEVEL = 6
"""zlib's default: nearly level 9's size for far less CPU on a small machine."""
OWN_REQUEST = {"same-origin", "none"}
ALWAYS = ("/static/", API_PREFIX)
INCOMPRESSIBLE = {
    "application/pdf", "application/zip", "application/gzip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def may_compress(scope: Scope) -> bool:
    """Whether this request's answer may be compressed at all (see the module's first point)."""
    path = str(scope.get("path", ""))
    if path.startswith(ALWAYS):
        return True
    return Headers.from_scope(scope).get("sec-fetch-site", "").lower() in OWN_REQUEST


def compressible(start: Message) -> bool:
    """Whether a response (its ``http.response.start``) is worth compressing."""
    headers = Headers(cast("list[tuple[bytes, bytes]]", start.get("headers", [])))
    if "content-encoding" in headers:
        return False
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media not in INCOMPRESSIBLE and not media.startswith(("image/", "audio/", "video/"))


class JituCompression(CompressionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = Headers.from_scope(scope).get("accept-encoding", "")
        if CompressionEncoding.GZIP not in accept or not may_compress(scope):
            await self.app(scope, receive, send)
            return
        gzipped = self.create_compression_send_wrapper(send=send, compression_encoding=CompressionEncoding.GZIP,
                                                       scope=scope)
        chosen = send

        async def choose(message: Message) -> None:
            nonlocal chosen
            if message["type"] == "http.response.start":
                chosen = gzipped if compressible(message) else send
            await chosen(message)

        await self.app(scope, receive, choose)


def compression_config() -> CompressionConfig:
    return CompressionConfig(backend="gzip", minimum_size=MIN_SIZE, gzip_compress_level=LEVEL,
                             middleware_class=JituCompression)
