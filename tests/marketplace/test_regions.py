from marketplace import regions


def test_thirty_kecamatan_and_151_kelurahan_with_official_codes():
    kecamatan = regions.kecamatan()
    kelurahan = regions.kelurahan()
    assert len(kecamatan) == 30
    assert len(kelurahan) == 151
    assert all(regions.KECAMATAN_RE.match(k.code) for k in kecamatan)
    assert all(regions.KELURAHAN_RE.match(k.code) for k in kelurahan)
    kecamatan_codes = {k.code for k in kecamatan}
    assert all(k.kecamatan_code in kecamatan_codes for k in kelurahan)


def test_codes_are_unique_and_named():
    codes = [r.code for r in regions.all_regions()]
    assert len(codes) == len(set(codes))
    assert regions.name_of("32.73.03.1003") == "Sukahaji"
    assert regions.is_kelurahan("32.73.03.1003")
    assert not regions.is_kelurahan("32.73.03")


def test_pilot_kecamatan_are_the_slrt_pilots():
    names = {regions.name_of(code) for code in regions.PILOT_KECAMATAN}
    assert names == {"Babakan Ciparay", "Bojongloa Kaler", "Bandung Kulon"}
