import csv
from datetime import date

from click.testing import CliRunner

from marketplace import dtks
from marketplace.identity import make_kk, make_nik
from portal.cli import cli

KEL = "32.73.03.1001"


def test_jitu_import_dtks_and_aid(db, tmp_path):
    kk = make_kk("32.73.03", date(2020, 1, 1), 3)
    path = tmp_path / "dtks.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(dtks.TEMPLATE_HEADER)
        w.writerow([kk, make_nik("32.73.03", date(1985, 3, 12), "L", 3), "Budi", "1985-03-12", "L", "kepala", "",
                    "Jl. A", "1", "2", KEL, "2", "Ya"])
        w.writerow([kk, "3273031203850009", "Anak", "2001-01-01", "L", "anak", "", "Jl. A", "1", "2", KEL, "2", "Ya"])
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "dtks", str(path)])
    assert first.exit_code == 0, first.output
    assert "Diimpor baru: 1" in first.output and "baris 3: Tanggal lahir tidak cocok dengan NIK" in first.output
    again = runner.invoke(cli, ["import", "dtks", str(path)])
    assert "Tidak berubah: 1" in again.output and "Diimpor baru: 0" in again.output
    aid = tmp_path / "aid.csv"
    aid.write_text("KODE_PROGRAM,NO_KK,JENIS_INTERVENSI,PERIODE,NILAI\nBPNT," + kk + ",pangan,2026-11,200000\n")
    result = runner.invoke(cli, ["import", "aid", str(aid)])
    assert result.exit_code == 0 and "Diimpor baru: 1" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    refused = runner.invoke(cli, ["import", "dtks", str(bad)])
    assert refused.exit_code == 2 and "Kolom wajib" in refused.output
