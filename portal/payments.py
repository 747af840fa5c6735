"""Payment gateway backends (``marketplace.payments.PaymentGateway``), chosen by settings: Stripe Checkout
when ``STRIPE_SECRET_KEY`` is set, otherwise offline (the LKS records bank transfers it received)."""

from __future__ import annotations

import json
from typing import Any

import stripe

from marketplace.payments import (
    CURRENCY,
    CheckoutRequest,
    CheckoutSession,
    EventKind,
    PaymentError,
    PaymentEvent,
    PaymentGateway,
    SignatureInvalid,
    from_minor,
    to_minor,
)
from marketplace.settings import Settings

_COMPLETED = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
_FAILED = {"checkout.session.async_payment_failed", "checkout.session.expired", "payment_intent.payment_failed"}


class StripeGateway:
    name = "stripe"
    online = True

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str = "") -> None:
        self.webhook_secret = webhook_secret
        addresses: Any = {"api": api_base.rstrip("/")} if api_base else None
        self.client = stripe.StripeClient(secret_key, base_addresses=addresses, max_network_retries=2)

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        metadata = {"donation_id": str(request.donation_id), "lks_id": str(request.lks_id),
                    "campaign_id": str(request.campaign_id or "")}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": CURRENCY, "unit_amount": to_minor(request.amount),
                               "product_data": {"name": request.description[:250]}},
            }],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.donation_id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if request.donor_email:
            params["customer_email"] = request.donor_email
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"jitu-donation-{request.donation_id}"},
            )
        except stripe.StripeError as exc:
            raise PaymentError(f"Stripe refused the checkout session: {exc}") from exc
        if not session.url:
            raise PaymentError("Stripe returned a checkout session without a URL")
        return CheckoutSession(session.id, session.url)

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent:
        try:
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise SignatureInvalid(str(exc)) from exc
        return reduce_event(json.loads(payload))


def _donation_id(obj: dict[str, Any]) -> int | None:
    raw = (obj.get("metadata") or {}).get("donation_id") or obj.get("client_reference_id")
    return int(raw) if raw and str(raw).isdigit() else None


def reduce_event(event: dict[str, Any]) -> PaymentEvent:
    """A Stripe event (already verified) reduced to what the ledger needs."""
    event_id, kind = str(event["id"]), str(event["type"])
    obj: dict[str, Any] = event.get("data", {}).get("object", {}) or {}
    currency = str(obj.get("currency") or CURRENCY)
    if kind in _COMPLETED:
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return PaymentEvent(event_id, kind, EventKind.IGNORED)  # async payment: wait for its outcome
        return PaymentEvent(event_id, kind, EventKind.COMPLETED, _donation_id(obj), obj.get("id"),
                            obj.get("payment_intent"), amount=from_minor(int(obj.get("amount_total") or 0), currency))
    if kind in _FAILED:
        if kind.startswith("payment_intent."):
            return PaymentEvent(event_id, kind, EventKind.FAILED, _donation_id(obj), None, obj.get("id"))
        return PaymentEvent(event_id, kind, EventKind.FAILED, _donation_id(obj), obj.get("id"),
                            obj.get("payment_intent"))
    if kind == "charge.refunded":
        return PaymentEvent(event_id, kind, EventKind.REFUNDED, _donation_id(obj), None, obj.get("payment_intent"),
                            amount_refunded=from_minor(int(obj.get("amount_refunded") or 0), currency))
    return PaymentEvent(event_id, kind, EventKind.IGNORED)


class OfflineGateway:
    """No online payment: donors transfer to the LKS's bank account, the LKS records what it received."""

    name = "offline"
    online = False

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise PaymentError("online payments are not configured (no STRIPE_SECRET_KEY)")

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent:
        raise SignatureInvalid("online payments are not configured")


def make_gateway(settings: Settings) -> PaymentGateway:
    if settings.stripe_secret_key:
        return StripeGateway(settings.stripe_secret_key, settings.stripe_webhook_secret, settings.stripe_api_base)
    return OfflineGateway()
