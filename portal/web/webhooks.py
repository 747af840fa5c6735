"""Stripe's webhook: verify the signature, apply the event once (idempotent by event id), answer fast."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, post

from marketplace.payments import SignatureInvalid
from portal.payments import make_gateway
from storage.donations import apply_payment_event

log = logging.getLogger("jitu.webhooks")


@post("/webhooks/stripe", opt={"public": True, "exclude_from_csrf": True}, status_code=200)
async def stripe_webhook(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    payload = await request.body()
    signature = request.headers.get("stripe-signature", "")
    gateway = make_gateway(request.app.state["settings"])
    if not gateway.online:
        return Response({"detail": "online payments are not configured"}, status_code=404)
    try:
        event = gateway.parse_event(payload, signature)
    except SignatureInvalid:
        log.warning("stripe webhook with an invalid signature refused")
        return Response({"detail": "invalid signature"}, status_code=400)
    outcome = await apply_payment_event(event)
    if outcome == "retry":
        # Not recorded: Stripe delivers it again later (with backoff), when the completion has told us which
        # donation the payment belongs to.
        return Response({"received": event.event_id, "outcome": outcome}, status_code=409)
    return Response({"received": event.event_id, "outcome": outcome}, status_code=200)


ROUTES = [stripe_webhook]
