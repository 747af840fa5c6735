"""The duplicate finder against the database: blocked on birth date and kecamatan, scored by name; the
measurement that docs/duplicates.md reports runs on a small population."""

from datetime import date

from storage.duplicates import find_candidates, name_score
from storage.duplicates.measure import measure
from tests.portal.test_resident_requests import registered

BORN = date(1979, 4, 9)


async def test_variants_are_found_and_strangers_are_not(db):
    same = await registered("Mochamad Yusuf Hidayat", BORN, "32.73.03.1003", 1)
    await registered("Mochamad Yusuf Hidayat", BORN, "32.73.04.1001", 2)  # another kecamatan
    await registered("Dedi Kurniawan", BORN, "32.73.03.1001", 3)  # same date and kelurahan, another name
    await registered("Mochamad Yusuf Hidayat", date(1979, 4, 10), "32.73.03.1001", 4)  # another date
    for name, born in (("Muhammad Yusuf Hidayat", BORN), ("Moh. Yusup Hidayat", BORN), ("M. Yusuf Hidayat", BORN),
                       ("Mochamad Hidayat", BORN), ("Mochamad Yusuf Hidayat", date(1979, 9, 4)),
                       ("Mochamad Yusuf Hidayta", date(1979, 9, 4))):
        found = await find_candidates(name, born, "32.73.03.1001")
        assert [c.household_id for c in found] == [same], name
    assert await find_candidates("Asep Sunandar", BORN, "32.73.03.1001") == []


def test_a_single_shared_given_name_is_not_a_match():
    assert name_score("Ahmad", "Ahmad Hidayat") < 85
    assert name_score("Siti Aminah", "Siti Nurhaliza") < 85
    assert name_score("Ahmad Rizki Hidayat", "Ahmad Hidayat") == 100


async def test_measurement_on_a_small_population(db):
    names = ["Muhammad Rizki Pratama", "Siti Aminah", "Dedi Kurniawan", "Asep Saepudin", "Nur Hidayati",
             "Budi Santoso", "Euis Komalasari", "Ujang Suherman", "Rina Marlina", "Agus Setiawan"]
    for i, name in enumerate(names):
        await registered(name, date(1970 + i, 3, 7 + i), "32.73.03.1001", 100 + i)
    res = await measure(10, seed=3, thresholds=(85.0,))
    assert res.by_kind[85.0]["exact"].recall == 1.0 and res.by_kind[85.0]["swapped_date"].recall == 1.0
    assert res.by_kind[85.0]["muhammad"].queries == 1
    assert res.negatives == 10 and res.precision(85.0) == 1.0 and len(res.latencies_ms) > 40
