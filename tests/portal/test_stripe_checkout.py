"""Giving online: the Checkout Session the SDK creates (against a local fake of Stripe's API, no network)
carries the right amount, currency and metadata, and the donor is sent to its URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from marketplace.payments import CheckoutRequest, PaymentError, from_minor, to_minor
from marketplace.settings import Settings
from portal.app import create_app
from portal.payments import OfflineGateway, StripeGateway, make_gateway
from storage.tables import Campaign, Donation, LedgerEntry
from tests.dbutil import csrf, login, make_account, make_lks
from tests.portal.stripe_fake import FakeStripe, fake_stripe


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with fake_stripe() as server:
        yield server


@pytest.fixture
async def online_client(db: None, fake: FakeStripe) -> AsyncIterator[Any]:
    app = create_app(Settings(stripe_secret_key="sk_test_jitu", stripe_webhook_secret="whsec_x",
                              stripe_api_base=fake.base))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


def test_idr_is_sent_in_hundredths_because_stripe_does_not_treat_it_as_zero_decimal():
    assert to_minor(50_000) == 5_000_000 and from_minor(5_000_000) == 50_000
    assert to_minor(500, "jpy") == 500


def test_the_gateway_is_chosen_by_settings():
    assert isinstance(make_gateway(Settings(stripe_secret_key="")), OfflineGateway)
    assert isinstance(make_gateway(Settings(stripe_secret_key="sk_test_x")), StripeGateway)


async def test_the_sdk_call_carries_amount_currency_and_metadata(fake):
    gateway = StripeGateway("sk_test_jitu", "whsec_x", fake.base)
    session = await gateway.start_checkout(CheckoutRequest(
        donation_id=42, lks_id=7, campaign_id=3, amount=125_000, description="Donasi untuk Yayasan Uji",
        success_url="http://testserver.local/ok", cancel_url="http://testserver.local/batal",
        donor_email="sari@example.id"))
    assert session.session_id == "cs_test_0001" and session.url.startswith("https://checkout.stripe.test/")
    request = fake.requests[0]
    assert request.path == "/v1/checkout/sessions"
    assert request.headers["Authorization"] == "Bearer sk_test_jitu"
    assert request.headers["Idempotency-Key"] == "jitu-donation-42"
    form = request.form
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "idr"
    assert form["line_items[0][price_data][unit_amount]"] == "12500000"
    assert form["line_items[0][quantity]"] == "1"
    assert form["metadata[donation_id]"] == "42" and form["metadata[lks_id]"] == "7"
    assert form["metadata[campaign_id]"] == "3"
    assert form["payment_intent_data[metadata][donation_id]"] == "42"
    assert form["client_reference_id"] == "42" and form["customer_email"] == "sari@example.id"


async def test_a_refusal_by_stripe_becomes_a_payment_error(fake):
    fake.fail = True
    gateway = StripeGateway("sk_test_jitu", "whsec_x", fake.base)
    with pytest.raises(PaymentError):
        await gateway.start_checkout(CheckoutRequest(1, 1, None, 10_000, "x", "http://a/", "http://a/"))


async def _campaign(lks_id: int) -> tuple[int, str]:
    rows = await Campaign.insert(Campaign(lks=lks_id, slug="sembako-babakan-ciparay",
                                          title="Paket sembako untuk Babakan Ciparay", target_amount=10_000_000)
                                 ).returning(Campaign.id)
    return int(rows[0]["id"]), "sembako-babakan-ciparay"


async def test_a_donor_gives_on_a_campaign_page_and_is_redirected_to_checkout(online_client, fake):
    lks_id = await make_lks("Yayasan Peduli")
    campaign_id, slug = await _campaign(lks_id)
    page = await online_client.get(f"/kampanye/{slug}")
    assert page.status_code == 200 and "Paket sembako untuk Babakan Ciparay" in page.text
    response = await online_client.post("/donasi", data={
        "lks_id": str(lks_id), "campaign_id": str(campaign_id), "amount": "Rp 250.000", "name": "Sari",
        "email": "sari@example.id", "_csrf_token": csrf(online_client)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "https://checkout.stripe.test/c/pay/cs_test_0001"
    donation = await Donation.select().first()
    assert donation["status"] == "pending" and donation["amount"] == 250_000
    assert donation["stripe_session_id"] == "cs_test_0001" and donation["campaign"] == campaign_id
    assert fake.requests[0].form["line_items[0][price_data][unit_amount]"] == "25000000"
    assert fake.requests[0].form["metadata[donation_id]"] == str(donation["id"])
    assert await LedgerEntry.count() == 0  # nothing counts until Stripe confirms


@pytest.mark.parametrize("amount", ["9999", "abc", "10.000,50", "-50000", ""])
async def test_amounts_below_the_minimum_or_malformed_are_refused(online_client, fake, amount):
    lks_id = await make_lks()
    await online_client.get(f"/lks/{lks_id}")
    response = await online_client.post("/donasi", data={"lks_id": str(lks_id), "amount": amount, "name": "Sari",
                                                         "_csrf_token": csrf(online_client)})
    assert response.status_code == 400
    assert "Rp 10.000" in response.text or "angka rupiah" in response.text
    assert await Donation.count() == 0 and fake.requests == []


async def test_an_unverified_lks_takes_no_donations(online_client, fake):
    lks_id = await make_lks("Yayasan Belum", status="applied")
    assert (await online_client.get(f"/lks/{lks_id}")).status_code == 404
    await online_client.get("/lks")
    response = await online_client.post("/donasi", data={"lks_id": str(lks_id), "amount": "50000", "name": "Sari",
                                                         "_csrf_token": csrf(online_client)})
    assert response.status_code == 404
    assert await Donation.count() == 0


async def test_stripe_unreachable_gives_a_clean_message(db):
    app = create_app(Settings(stripe_secret_key="sk_test_jitu", stripe_webhook_secret="whsec_x",
                              stripe_api_base="http://127.0.0.1:9"))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        lks_id = await make_lks()
        await client.get(f"/lks/{lks_id}")
        response = await client.post("/donasi", data={"lks_id": str(lks_id), "amount": "50000", "name": "Sari",
                                                      "_csrf_token": csrf(client)})
    assert response.status_code == 503
    assert "tidak dapat dihubungi" in response.text
    assert (await Donation.select(Donation.status).first())["status"] == "failed"


async def test_a_logged_in_donor_sees_the_donation_as_their_own(online_client, fake):
    lks_id = await make_lks()
    await make_account("donor", "donatur")
    await login(online_client, "donatur")
    await online_client.post("/donasi", data={"lks_id": str(lks_id), "amount": "50000", "name": "Donatur",
                                              "_csrf_token": csrf(online_client)}, follow_redirects=False)
    mine = await online_client.get("/donasi-saya")
    assert "Menunggu pembayaran" in mine.text


async def test_offline_mode_shows_the_bank_account_instead_of_a_payment_form(client):
    lks_id = await make_lks()
    page = await client.get(f"/lks/{lks_id}")
    assert page.status_code == 200
    assert "Pembayaran daring belum tersedia" in page.text and 'action="/donasi"' not in page.text
