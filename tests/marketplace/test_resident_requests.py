from datetime import date

import pytest

from marketplace import resident_requests as rr
from marketplace.duplicates import birth_dates, neighbours, normalise_name

TODAY = date(2026, 12, 2)
GOOD = {"name": "Siti  Aminah", "birth_date": "1990-05-01", "sex": "p", "kelurahan": "32.73.03.1001",
        "address": "Jl. Mawar 1", "description": "Butuh bantuan pangan.", "consent": "1",
        "consent_version": rr.CONSENT_VERSION}


def test_a_good_request_is_cleaned():
    r = rr.parse_request(GOOD, TODAY)
    assert r.name == "Siti Aminah" and r.sex == "P" and r.ppks is None and r.kind == "" and r.nik == ""


@pytest.mark.parametrize(("field", "value", "key"), [
    ("consent", "", "consent"), ("consent_version", "old", "consent"), ("phone", "12ab", "phone"),
    ("ppks", "99", "ppks"), ("kind", "mobil", "kind"), ("rt", "1234", "rt"), ("nik", "3273030101900001", "nik"),
    ("birth_date", "1990-13-01", "birth_date"), ("description", "pendek", "description"),
])
def test_each_bad_field_has_its_message(field, value, key):
    with pytest.raises(rr.RequestInvalid) as exc:
        rr.parse_request({**GOOD, field: value}, TODAY)
    assert key in exc.value.errors


def test_status_machine():
    assert rr.check_transition("received", "declined", " luar kota ") == "luar kota"
    with pytest.raises(rr.RequestError):
        rr.check_transition("received", "declined", "")
    with pytest.raises(rr.RequestError):
        rr.check_transition("withdrawn", "validated")
    with pytest.raises(rr.RequestError):
        rr.check_transition("validated", "validated")
    rr.check_transition("validated", "withdrawn")


def test_name_variants_normalise_to_one_spelling():
    assert normalise_name("Moh. Rizki") == normalise_name("Muhamad Rizki") == normalise_name("MUHAMMAD rizki")
    assert normalise_name("M. Rizki") == "muhammad rizki"
    assert normalise_name("Achmad Sitti") == "ahmad siti"


def test_birth_dates_include_the_swap_when_it_exists():
    assert birth_dates(date(1985, 3, 7)) == [date(1985, 3, 7), date(1985, 7, 3)]
    assert birth_dates(date(1985, 3, 3)) == [date(1985, 3, 3)]
    assert birth_dates(date(1985, 3, 25)) == [date(1985, 3, 25)]


def test_neighbours_are_the_kelurahan_of_the_same_kecamatan():
    near = neighbours("32.73.03.1001")
    assert "32.73.03.1001" in near and "32.73.03.1006" in near and all(c.startswith("32.73.03.") for c in near)
