"""The SDK client as the Stripe backend configures it, against localstripe (a local Stripe API, run as a
subprocess; no network). localstripe has no Checkout Sessions: creating one fails cleanly as a
``PaymentError``, which is why the Checkout call itself is tested against ``stripe_fake``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from marketplace.payments import CheckoutRequest, PaymentError, to_minor
from portal.payments import StripeGateway


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_configured_client_talks_to_the_local_api(localstripe):
    gateway = StripeGateway("sk_test_jitu", "whsec_x", localstripe)
    intent = await gateway.client.v1.payment_intents.create_async(params={
        "amount": to_minor(75_000), "currency": "idr", "metadata": {"donation_id": "9"}})
    assert intent.amount == 7_500_000 and intent.currency == "idr"
    assert intent.metadata["donation_id"] == "9"


async def test_checkout_sessions_are_not_in_localstripe_and_fail_cleanly(localstripe):
    gateway = StripeGateway("sk_test_jitu", "whsec_x", localstripe)
    with pytest.raises(PaymentError):
        await gateway.start_checkout(CheckoutRequest(1, 1, None, 10_000, "Donasi", "http://a/ok", "http://a/no"))
