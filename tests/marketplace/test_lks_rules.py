"""LKS registration rules without a database: the form, the documents' magic bytes, verification."""

from __future__ import annotations

import pytest

from marketplace.lks import (
    ApplicationInvalid,
    LksError,
    decide,
    may_publish,
    parse_application,
    parse_money,
    sniff_document,
)

FORM = {"name": "Yayasan Peduli", "legal_type": "csr", "deed_number": "AKTA-1", "decree_number": "AHU-1",
        "address": "Jl. Soekarno-Hatta", "kecamatan_code": "32.73.03", "contact_name": "Ibu Sari",
        "phone": "+62 22 1234567", "email": "a@b.id", "bank_name": "BJB", "bank_account": "00123-456",
        "annual_budget": "Rp 1.000.000", "username": "Peduli", "password_confirm": "kata-sandi-123"}


def test_a_complete_application():
    app = parse_application(FORM, ["24", "8"], ["32.73.03.1001"], "kata-sandi-123")
    assert app.ppks_served == [8, 24] and app.annual_budget == 1_000_000 and app.username == "peduli"


def test_every_problem_is_reported_at_once():
    with pytest.raises(ApplicationInvalid) as exc:
        parse_application({**FORM, "legal_type": "pt", "kecamatan_code": "32.04.01", "email": "x"}, [], [], "pendek")
    assert {"legal_type", "kecamatan_code", "email", "ppks", "areas", "password"} <= set(exc.value.errors)


@pytest.mark.parametrize("data,kind", [
    (b"%PDF-1.7 ...", "application/pdf"), (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xe0....", "image/jpeg"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
])
def test_documents_are_recognised_by_content(data, kind):
    assert sniff_document(data)[0] == kind


@pytest.mark.parametrize("data", [b"", b"MZ\x90\x00", b"<html>", b"GIF89a"])
def test_other_content_is_refused(data):
    with pytest.raises(LksError):
        sniff_document(data)


def test_size_limit():
    with pytest.raises(LksError, match="10 MB"):
        sniff_document(b"%PDF-" + b"0" * (10 * 1024 * 1024))


def test_verification_machine():
    assert decide("applied", "verify") == ("verified", "")
    assert decide("verified", "reject", "Izin dicabut") == ("rejected", "Izin dicabut")
    assert decide("rejected", "verify")[0] == "verified"
    with pytest.raises(LksError):
        decide("applied", "reject", "")
    with pytest.raises(LksError):
        decide("verified", "verify")
    may_publish("verified")
    for status in ("applied", "rejected"):
        with pytest.raises(LksError):
            may_publish(status)


def test_money():
    assert parse_money("Rp 1.250.000") == 1_250_000 and parse_money("1250000") == 1_250_000
    assert parse_money("1,5") is None and parse_money("-5") is None and parse_money("") is None
