"""Security headers on every response the app sends: pages, JSON, redirects, errors and files.

Added in a ``before_send`` hook rather than a middleware, because Litestar answers unknown paths and
wrong methods before any middleware runs; the hook sees every ``http.response.start``. A header a route
set itself (the stricter policy of stored files) is kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from marketplace.settings import Settings

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
))
STRIPE_CHECKOUT = "https://checkout.stripe.com"


def content_security_policy(settings: Settings) -> str:
    """No inline script or style anywhere: scripts and styles come from our own ``/static`` files.

    Images may also come from the S3 server (signed photo links when ``OBJECT_STORE=minio``) and from
    ``blob:`` (the delivery form shrinks photos in the phone). Forms may lead on to Stripe Checkout.
    """
    img = ["'self'", "data:", "blob:"]
    if settings.object_store == "minio":
        scheme = "https" if settings.minio_secure else "http"
        img.append(f"{scheme}://{settings.minio_endpoint}")
    forms = ["'self'", STRIPE_CHECKOUT]
    if settings.stripe_api_base:
        parts = urlsplit(settings.stripe_api_base)
        forms.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {' '.join(img)}",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
        f"form-action {' '.join(forms)}", "frame-ancestors 'none'",
    ])


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.behind_https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def security_headers_hook(settings: Settings) -> Any:
    """A ``before_send`` hook adding the headers (and ``no-store`` on everything but static files)."""
    headers = list(security_headers(settings).items())

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        out = MutableScopeHeaders.from_message(message)
        for name, value in headers:
            if name not in out:
                out[name] = value
        if "Cache-Control" not in out and not str(scope.get("path", "")).startswith("/static/"):
            # pages carry personal data: never kept by a shared cache or the browser's disk cache
            out["Cache-Control"] = "no-store"

    return add_headers
