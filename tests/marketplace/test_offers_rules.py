"""Offer rules without a database: the form, the status machine, the funding rule."""

from __future__ import annotations

import pytest

from marketplace.offers import (
    FundsInsufficient,
    OfferError,
    OfferInvalid,
    available_funds,
    check_fund_offer,
    parse_offer,
    transition,
)

BASE = {"title": "Dana pendidikan", "period": "2026-12", "kind": "pendidikan", "offer_type": "funds",
        "amount": "Rp 5.000.000"}


def test_a_fund_offer_is_parsed_in_rupiah():
    offer = parse_offer(BASE, ["32.73.03", "32.73.03.1001"], ["24", "2"])
    assert not offer.is_goods and offer.capacity == 5_000_000 and offer.value == 5_000_000
    assert offer.ppks == [2, 24] and offer.areas == ["32.73.03", "32.73.03.1001"]


def test_a_goods_offer_counts_units():
    offer = parse_offer({**BASE, "kind": "pangan", "offer_type": "goods", "unit": "paket sembako", "quantity": "100",
                         "unit_value": "150.000", "max_per_need": "2"}, ["32.73.03"], ["24"])
    assert offer.is_goods and offer.capacity == 100 and offer.unit_value == 150_000 and offer.value == 15_000_000
    assert offer.max_per_need == 2


@pytest.mark.parametrize("changes,field", [
    ({"period": "2026-13"}, "period"), ({"period": "12-2026"}, "period"), ({"kind": "emas"}, "kind"),
    ({"amount": "5000"}, "amount"), ({"amount": "1,5 juta"}, "amount"), ({"title": ""}, "title"),
    ({"offer_type": "goods", "unit": "", "quantity": "0", "unit_value": "x"}, "quantity"),
    ({"max_per_need": "9.000.000"}, "max_per_need"),
])
def test_invalid_offers_name_the_field(changes, field):
    with pytest.raises(OfferInvalid) as exc:
        parse_offer({**BASE, **changes}, ["32.73.03"], ["24"])
    assert field in exc.value.errors


def test_areas_must_be_in_kota_bandung_and_ppks_known():
    with pytest.raises(OfferInvalid) as exc:
        parse_offer(BASE, ["32.04.01"], ["99"])
    assert {"areas", "ppks"} <= set(exc.value.errors)
    with pytest.raises(OfferInvalid):
        parse_offer(BASE, ["32.73"], ["24"])  # the city itself is not an area


def test_status_machine():
    assert transition("draft", "publish") == "published"
    assert transition("published", "close") == "closed"
    assert transition("draft", "close") == "closed"
    for status, action in (("published", "publish"), ("closed", "publish"), ("closed", "close")):
        with pytest.raises(OfferError):
            transition(status, action)


def test_funding_rule():
    assert available_funds(balance=1_000_000, annual_budget=4_000_000, committed_elsewhere=2_000_000) == 3_000_000
    check_fund_offer(3_000_000, 1_000_000, 4_000_000, 2_000_000)
    with pytest.raises(FundsInsufficient) as exc:
        check_fund_offer(3_000_001, 1_000_000, 4_000_000, 2_000_000)
    assert "Rp 3.000.001" in str(exc.value) and "Rp 3.000.000" in str(exc.value)
