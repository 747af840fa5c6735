from __future__ import annotations

from datetime import date

import pytest

from marketplace.delivery import (
    DeliveryError,
    DeliveryInvalid,
    allocation_status_for,
    check_may_record,
    decide,
    parse_delivery,
    photo_key,
    requester_confirms,
)

TODAY = date(2026, 11, 23)
GOOD = {"delivered_on": "2026-11-20", "what_given": "Paket sembako 10 kg", "received_by": "Ibu Siti"}


def test_parse_ok() -> None:
    data = parse_delivery(GOOD, 2, TODAY)
    assert data.delivered_on == date(2026, 11, 20) and data.received_by == "Ibu Siti"


@pytest.mark.parametrize(("change", "photos", "field"), [
    ({"delivered_on": ""}, 1, "delivered_on"),
    ({"delivered_on": "2026-12-01"}, 1, "delivered_on"),
    ({"delivered_on": "2020-01-01"}, 1, "delivered_on"),
    ({"what_given": ""}, 1, "what_given"),
    ({"received_by": "x"}, 1, "received_by"),
    ({}, 0, "photos"),
    ({}, 6, "photos"),
])
def test_parse_refuses(change: dict, photos: int, field: str) -> None:
    with pytest.raises(DeliveryInvalid) as info:
        parse_delivery({**GOOD, **change}, photos, TODAY)
    assert field in info.value.errors


def test_may_record_only_approved_once() -> None:
    check_may_record("approved", False)
    for status in ("proposed", "rejected"):
        with pytest.raises(DeliveryError, match="belum disetujui"):
            check_may_record(status, False)
    with pytest.raises(DeliveryError, match="sudah dicatat"):
        check_may_record("approved", True)
    with pytest.raises(DeliveryError, match="sudah dicatat"):
        check_may_record("delivered", False)


def test_decisions() -> None:
    assert decide("recorded", "confirm") == ("confirmed", "")
    assert decide("disputed", "confirm") == ("confirmed", "")
    assert decide("recorded", "dispute", " foto tidak jelas ") == ("disputed", "foto tidak jelas")
    with pytest.raises(DeliveryError):
        decide("recorded", "dispute", "")
    with pytest.raises(DeliveryError):
        decide("confirmed", "confirm")
    with pytest.raises(DeliveryError):
        decide("confirmed", "dispute", "alasan panjang")
    assert requester_confirms("recorded") == "confirmed"
    assert requester_confirms("disputed") == "disputed"
    assert allocation_status_for("confirmed") == "confirmed"
    assert photo_key(3, 9, "abc", 1) == "delivery/lks-3/alloc-9/abc-1.jpg"
