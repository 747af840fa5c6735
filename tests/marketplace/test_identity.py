from datetime import date

import pytest

from marketplace.identity import IdentityError, check_kk, check_nik, lookup_hash, make_kk, make_nik, mask


def test_generated_nik_carries_region_birth_date_and_sex():
    nik = make_nik("32.73.03", date(1985, 3, 12), "P", 7)
    assert nik == "3273035203850007"
    assert check_nik(nik, date(1985, 3, 12), "P") == nik


@pytest.mark.parametrize(("nik", "message"), [
    ("327303120385000", "16 digit"),
    ("32730312038500AB", "16 digit"),
    ("3171031203850001", "Kota Bandung"),
    ("3273033203850001", "Tanggal lahir"),
])
def test_bad_nik_is_refused_with_a_reason(nik, message):
    with pytest.raises(IdentityError, match=message):
        check_nik(nik)


def test_birth_date_must_match():
    with pytest.raises(IdentityError, match="tidak cocok"):
        check_nik("3273031203850001", date(1985, 3, 13))
    with pytest.raises(IdentityError, match="Jenis kelamin"):
        check_nik("3273031203850001", date(1985, 3, 12), "P")


def test_kk_structure():
    kk = make_kk("32.73.15", date(2010, 1, 5), 12)
    assert check_kk(kk) == kk
    with pytest.raises(IdentityError):
        check_kk("1234")


def test_mask_and_keyed_hash():
    assert mask("3273031203850001") == "3273********0001"
    assert lookup_hash("3273031203850001", b"a") != lookup_hash("3273031203850001", b"b")
    assert len(lookup_hash("3273031203850001", b"a")) == 64
