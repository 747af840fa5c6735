"""The payment gateway port: Stripe online, or offline (bank transfers recorded by the LKS).

Backends live in ``portal/payments.py`` and are chosen by settings (no ``STRIPE_SECRET_KEY`` → offline).

Currency: Stripe does **not** list IDR among its zero-decimal currencies; its API takes IDR amounts in
hundredths (sen), so Rp 50.000 is sent as ``5000000``. jitu keeps whole rupiah everywhere and converts
only at this boundary (``to_minor`` / ``from_minor``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

CURRENCY = "idr"
# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal); IDR is not one of them.
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                          "vuv", "xaf", "xof", "xpf"})


def to_minor(amount: int, currency: str = CURRENCY) -> int:
    return amount if currency.lower() in ZERO_DECIMAL else amount * 100


def from_minor(amount: int, currency: str = CURRENCY) -> int:
    return amount if currency.lower() in ZERO_DECIMAL else amount // 100


class PaymentError(RuntimeError):
    """The provider could not be reached or refused the request (not the user's fault)."""


class SignatureInvalid(ValueError):
    """A webhook whose signature does not verify: refused, nothing changed."""


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    donation_id: int
    lks_id: int
    campaign_id: int | None
    amount: int
    """Whole rupiah."""
    description: str
    success_url: str
    cancel_url: str
    donor_email: str = ""


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    session_id: str
    url: str


class EventKind(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A provider event, reduced to what the ledger needs."""

    event_id: str
    type: str
    kind: EventKind
    donation_id: int | None = None
    session_id: str | None = None
    payment_intent: str | None = None
    amount: int = 0
    """Whole rupiah paid (completion)."""
    amount_refunded: int = 0
    """Whole rupiah refunded so far, cumulative (refund)."""
    extra: dict[str, str] = field(default_factory=dict)


class PaymentGateway(Protocol):
    name: str
    online: bool
    """True: the donor pays on the provider's page; False: the LKS records bank transfers it received."""

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent:
        """Verify the signature and reduce the event; raises ``SignatureInvalid``."""
        ...
