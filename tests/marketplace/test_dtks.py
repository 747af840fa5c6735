from datetime import date

import pytest

from marketplace import dtks
from marketplace.identity import make_kk, make_nik

KEL = "32.73.03.1001"
KK = make_kk("32.73.03", date(2020, 1, 1), 1)
KK2 = make_kk("32.73.03", date(2020, 1, 1), 2)
NIK1 = make_nik("32.73.03", date(1985, 3, 12), "L", 1)
NIK2 = make_nik("32.73.03", date(1987, 8, 15), "P", 2)


def row(**over):
    base = {"NO_KK": KK, "NIK": NIK1, "NAMA": "Budi", "TGL_LAHIR": "1985-03-12", "JENIS_KELAMIN": "L",
            "HUB_KELUARGA": "kepala", "DISABILITAS": "", "ALAMAT": "Jl. A", "RT": "1", "RW": "2",
            "KODE_KELURAHAN": KEL, "DESIL": "2", "MISKIN_EKSTREM": "Ya"}
    base.update(over)
    return [base[h] for h in dtks.TEMPLATE_HEADER]


def run(*rows):
    return dtks.validate_rows(dtks.TEMPLATE_HEADER, rows)


def test_good_rows_make_one_household():
    v = run(row(), row(NIK=NIK2, NAMA="Siti", TGL_LAHIR="15-08-1987", JENIS_KELAMIN="P", HUB_KELUARGA="istri"))
    assert not v.rejections
    [h] = v.take()
    assert h.household.rt == "001" and h.household.extreme_poor and h.household.desil == 2
    assert [m.nik for m in h.members] == [NIK1, NIK2]


@pytest.mark.parametrize(("over", "reason"), [
    ({"NIK": "123"}, "NIK harus 16 digit"),
    ({"NIK": "3204031203850001"}, "3273"),
    ({"NO_KK": "12345"}, "No. KK harus 16 digit"),
    ({"NO_KK": "3204030101200001"}, "3273"),
    ({"TGL_LAHIR": "1985-03-13"}, "Tanggal lahir tidak cocok"),
    ({"TGL_LAHIR": "kemarin"}, "Tanggal lahir tidak dikenali"),
    ({"JENIS_KELAMIN": "P"}, "Jenis kelamin tidak cocok"),
    ({"JENIS_KELAMIN": "X"}, "Jenis kelamin tidak dikenali"),
    ({"KODE_KELURAHAN": "32.73.99.1999"}, "Kode kelurahan tidak dikenal"),
    ({"DESIL": "11"}, "Desil harus antara 1 dan 10"),
    ({"DESIL": "0"}, "Desil harus antara 1 dan 10"),
    ({"DESIL": "x"}, "Desil harus angka"),
    ({"NAMA": ""}, "Nama anggota"),
    ({"HUB_KELUARGA": "tetangga"}, "Hubungan"),
    ({"MISKIN_EKSTREM": "mungkin"}, "miskin ekstrem"),
])
def test_each_rule_rejects_a_bad_row(over, reason):
    v = run(row(NIK=NIK2, NAMA="Siti", TGL_LAHIR="1987-08-15", JENIS_KELAMIN="P"), row(**over))
    assert [r.row for r in v.rejections] == [3]
    assert reason in v.rejections[0].reason


def test_duplicate_nik_within_file_same_and_other_kk():
    v = run(row(), row(), row(NO_KK=KK2))
    assert [(r.row, "NIK ganda" in r.reason) for r in v.rejections] == [(3, True), (4, True)]
    assert "KK lain" in v.rejections[1].reason


def test_household_columns_must_agree():
    v = run(row(), row(NIK=NIK2, TGL_LAHIR="1987-08-15", JENIS_KELAMIN="P", DESIL="5"))
    assert v.rejections[0].row == 3 and "berbeda dengan baris 2" in v.rejections[0].reason


def test_dtsen_layout_detected_and_mapped():
    header = ["nomor_kk", "nik", "nama_lengkap", "tanggal_lahir", "jenis_kelamin", "status_hubungan_keluarga",
              "kode_desa_kelurahan", "alamat_domisili", "rt", "rw", "peringkat_desil", "status_p3ke"]
    rows = [[KK, NIK1, "Budi", "12/03/1985", "1", "1", "3273031001", "Jl. A", "1", "2", "3", "0"],
            [KK, NIK2, "Siti", "15/08/1987", "2", "2", "3273031001", "Jl. A", "1", "2", "3", "0"]]
    v = dtks.validate_rows(header, rows)
    assert v.layout.name == "dtsen" and not v.rejections
    [h] = v.take()
    assert h.household.kelurahan_code == KEL and not h.household.extreme_poor
    assert [(m.sex, m.relation) for m in h.members] == [("L", "kepala"), ("P", "pasangan")]


def test_unknown_header_refused():
    with pytest.raises(dtks.LayoutError, match="Kolom wajib"):
        dtks.detect_layout(["a", "b"])


def test_aid_rows():
    cols = dtks.aid_columns(dtks.AID_TEMPLATE_HEADER)
    aid = dtks.parse_aid(["pkh", KK, "tunai", "2026-11", "750.000"], cols, 2, ["tunai"])
    assert (aid.program, aid.amount) == ("PKH", 750000)
    for bad, msg in [(["PKH", KK, "x", "2026-11", "1"], "Jenis"), (["PKH", KK, "tunai", "11-2026", "1"], "Periode"),
                     (["PKH", KK, "tunai", "2026-11", "-5"], "lebih dari 0"), (["PKH", "1", "tunai", "2026-11", "1"],
                                                                               "No. KK")]:
        with pytest.raises(dtks.RowError, match=msg):
            dtks.parse_aid(bad, cols, 2, ["tunai"])
