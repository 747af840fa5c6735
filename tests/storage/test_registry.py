import csv
from datetime import date

import pytest

from marketplace import dtks
from marketplace.identity import make_kk, make_nik
from marketplace.needs import NeedError
from storage import registry
from storage.accounts import load_user
from storage.registry_import import import_aid, import_dtks
from storage.tables import AuditEvent, GovernmentAid, Household, Member, Need, NeedEvent
from tests.dbutil import make_account

KEL = "32.73.03.1001"


def kk(n):
    return make_kk("32.73.03", date(2020, 1, 1), n)


def nik(n, sex="L", birth=date(1985, 3, 12)):
    return make_nik("32.73.03", birth, sex, n)


def member_row(k, n, name, desil="2", address="Jl. A", sex="L", birth="1985-03-12", rel="kepala"):
    return [kk(k), nik(n, sex, date.fromisoformat(birth)), name, birth, sex, rel, "", address, "1", "2", KEL,
            desil, "Tidak"]


def write(path, rows, header=None):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header or dtks.TEMPLATE_HEADER)
        w.writerows(rows)
    return path


ROWS = [member_row(1, 1, "Budi Santoso"), member_row(1, 2, "Siti", sex="P", birth="1987-08-15", rel="istri"),
        member_row(2, 3, "Asep"), ["123", "1", "", "", "", "", "", "", "", "", KEL, "2", ""]]


async def test_import_then_reimport_changes_nothing(db, tmp_path):
    path = write(tmp_path / "dtks.csv", ROWS)
    report = await import_dtks(path, "tester")
    assert (report.imported, report.updated, report.unchanged, report.members) == (2, 0, 0, 3)
    assert [(r.row, "No. KK" in r.reason) for r in report.rejected] == [(5, True)]
    before = await Household.select().order_by(Household.id)
    again = await import_dtks(path, "tester")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 2)
    assert await Household.select().order_by(Household.id) == before
    assert await Member.count() == 3
    audits = await AuditEvent.select().where(AuditEvent.action == "registry.import_dtks")
    assert len(audits) == 2 and "Budi" not in str(audits) and kk(1) not in str(audits)


async def test_changed_row_counts_as_updated(db, tmp_path):
    await import_dtks(write(tmp_path / "a.csv", ROWS[:3]), "t")
    changed = [member_row(1, 1, "Budi Santoso", desil="3"),
               member_row(1, 2, "Siti", desil="3", sex="P", birth="1987-08-15", rel="istri"), member_row(2, 3, "Asep")]
    report = await import_dtks(write(tmp_path / "b.csv", changed), "t")
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 1)
    assert (await Household.select(Household.desil).where(Household.id == 1).first())["desil"] == 3


async def test_nik_already_in_other_household_in_database(db, tmp_path):
    await import_dtks(write(tmp_path / "a.csv", ROWS[:1]), "t")
    report = await import_dtks(write(tmp_path / "b.csv", [member_row(5, 1, "Budi Santoso")]), "t")
    assert report.rejected[0].row == 2 and "KK lain di basis data" in report.rejected[0].reason
    assert await Household.count() == 1


async def test_xlsx_and_dtsen(db, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(dtks.DTSEN_HEADER)
    sheet.append([kk(7), nik(7), "Ujang", "12-03-1985", "1", "1", "-", "Jl. B", "3", "4", "3273031001", "1", "1"])
    book.save(tmp_path / "dtsen.xlsx")
    report = await import_dtks(tmp_path / "dtsen.xlsx", "t")
    assert report.layout == "dtsen" and report.imported == 1 and not report.rejected
    assert (await Household.select(Household.source).first())["source"] == "dtsen"


async def test_aid_import(db, tmp_path):
    await import_dtks(write(tmp_path / "a.csv", ROWS[:3]), "t")
    aid = [["PKH", kk(1), "tunai", "2026-11", "750000"], ["XXX", kk(1), "tunai", "2026-11", "1"],
           ["PKH", kk(9), "tunai", "2026-11", "1"]]
    path = write(tmp_path / "aid.csv", aid, dtks.AID_TEMPLATE_HEADER)
    report = await import_aid(path, "t")
    assert report.imported == 1 and sorted(r.row for r in report.rejected) == [3, 4]
    assert (await import_aid(path, "t")).unchanged == 1
    assert await GovernmentAid.count() == 1


async def _household_with_need(tmp_path, kind="tunai", amount=1_000_000):
    await import_dtks(write(tmp_path / "a.csv", ROWS[:3]), "t")
    uid = await make_account("pekerja_sosial", "peksos")
    user = await load_user(uid)
    need_id, ticket = await registry.record_assessment(user, 1, registry.NeedInput([24, 8], kind, amount, "catatan"))
    return user, need_id, ticket


async def test_assessment_transitions_and_priority(db, tmp_path):
    _user, need_id, ticket = await _household_with_need(tmp_path)
    need = await Need.select().where(Need.id == need_id).first()
    assert need["status"] == "assessed" and need["ppks"] == 8 and "Fakir miskin" in need["notes"]
    with pytest.raises(NeedError, match="tidak diperbolehkan"):
        await registry.transition_need(need_id, "approved", "matching")
    admin = await load_user(await make_account("dinsos_admin", "admin"))
    await registry.transition_need(need_id, "verified", admin)
    need = await Need.select().where(Need.id == need_id).first()
    assert need["status"] == "verified" and need["priority"] > 0 and need["verified_by"] == admin.id
    for status in ("matched", "approved", "delivered", "confirmed"):
        await registry.transition_need(need_id, status, "system", note="uji")
    events = await NeedEvent.select(NeedEvent.to_status).where(NeedEvent.need == need_id).order_by(NeedEvent.id)
    assert [e["to_status"] for e in events] == ["submitted", "assessed", "verified", "matched", "approved",
                                                "delivered", "confirmed"]
    assert await AuditEvent.count().where(AuditEvent.action == "need.confirmed") == 1
    timeline = await registry.track(ticket.lower())
    assert timeline and timeline[0].status == "confirmed" and len(timeline[0].events) == 7


async def test_second_open_need_refused_and_duplication_flag(db, tmp_path):
    user, need_id, _ = await _household_with_need(tmp_path)
    with pytest.raises(NeedError, match="sudah memiliki"):
        await registry.record_assessment(user, 1, registry.NeedInput([24], "tunai", 5))
    await GovernmentAid.insert(GovernmentAid(household=1, program="PKH", kind="tunai",
                                             period=registry.current_period(), amount=750_000))
    need = await Need.select().where(Need.id == need_id).first()
    cover = await registry.coverage_of(need)
    assert cover.duplicated and cover.remainder == 250_000 and "PKH" in cover.explain()


async def test_evidence_checked_by_content(db, tmp_path):
    user, _need_id, _ = await _household_with_need(tmp_path)
    with pytest.raises(NeedError, match="bukan PDF"):
        await registry.record_assessment(user, 1, registry.NeedInput([24], "pangan", 5),
                                         [("x.pdf", b"MZ not a pdf")])
    assert await Need.count() == 1
    await registry.record_assessment(user, 1, registry.NeedInput([24], "pangan", 5), [("x.pdf", b"%PDF-1.4 ...")])
    assert await Need.count() == 2


async def test_request_for_household_not_in_dtks(db):
    op = await load_user(await make_account("operator_kelurahan", "op"))
    applicant = registry.Applicant(kk(42), nik(42), "Pemohon Baru", date(1985, 3, 12), "L", KEL, "Jl. C")
    need_id, ticket = await registry.register_request(op, applicant, registry.NeedInput([24], "pangan", 300_000))
    hh = await Household.select().first()
    assert hh["source"] == "request" and ticket.startswith("JITU-")
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "submitted"


async def test_rate_limit(db, rate_window_held):
    assert all([await registry.allow_lookup("10.0.0.1", limit=3) for _ in range(3)])
    assert not await registry.allow_lookup("10.0.0.1", limit=3)
    assert await registry.allow_lookup("10.0.0.2", limit=3)


@pytest.mark.postgres
async def test_no_plain_nik_or_kk_in_database(db, tmp_path):
    await _household_with_need(tmp_path)
    plain = [nik(1), nik(2), nik(3), kk(1), kk(2)]
    tables = ["household", "member", "audit_event", "need", "need_event", "service_request", "data_access"]
    rows = await Household.raw(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = ANY({}) AND data_type IN ('text', 'character varying', 'json', 'jsonb')", tables)
    assert rows
    for r in rows:
        for value in plain:
            hits = await Household.raw(
                f'SELECT count(*) AS n FROM "{r["table_name"]}" WHERE "{r["column_name"]}"::text LIKE {{}}',
                f"%{value}%")
            assert hits[0]["n"] == 0, (r, value)


@pytest.mark.postgres
async def test_simultaneous_tracking_lookups_are_all_counted(db, rate_window_held):
    import asyncio

    from storage.registry import TRACK_LIMIT, allow_lookup

    answers = await asyncio.gather(*(allow_lookup("203.0.113.9") for _ in range(TRACK_LIMIT + 5)))
    assert answers.count(True) == TRACK_LIMIT and answers.count(False) == 5


async def test_a_name_search_pages_and_bounds_its_count_from_one_walk_of_the_matches(db, tmp_path, monkeypatch):
    # 9 households with a "Siti" (one in two of the 18), a page of 2, counted up to 5: pages 1-2 come from the
    # bounded list of matches, page 3 (past the bound) from its own query; all in household order
    rows = []
    for k in range(1, 19):
        rows.append(member_row(k, 100 + k, "Budi Santoso"))
        if k % 2:
            rows.append(member_row(k, 200 + k, f"Siti Aminah {k}", sex="P", birth="1987-08-15", rel="istri"))
    await import_dtks(write(tmp_path / "dtks.csv", rows), "t")
    monkeypatch.setattr(registry, "PAGE_SIZE", 2)
    monkeypatch.setattr(registry, "NAME_COUNT_UP_TO", 5)
    admin = await load_user(await make_account("dinsos_admin", "dinsos"))
    expected = [r["household"] for r in await Member.select(Member.household).where(
        Member.name.like("Siti%")).order_by(Member.household)]
    assert len(expected) == 9
    pages = []
    for page in range(1, 7):
        found, total = await registry.search_households(admin, name="siti", page=page)
        assert int(total) == 5 and total.at_least  # "lebih dari 5"
        assert all(r["head"] == "Budi Santoso" for r in found)
        pages.append([r["id"] for r in found])
    assert [i for p in pages for i in p] == expected and [len(p) for p in pages] == [2, 2, 2, 2, 1, 0]
    monkeypatch.setattr(registry, "NAME_COUNT_UP_TO", 9)  # exactly the bound: counted, every page from the list
    found, total = await registry.search_households(admin, name="SITI", page=5)
    assert (int(total), total.at_least, [r["id"] for r in found]) == (9, False, expected[8:])
    found, total = await registry.search_households(admin, name="Aminah 1", page=1)  # 1, 11, 13, 15, 17
    assert (int(total), total.at_least, len(found)) == (5, False, 2)
    found, total = await registry.search_households(admin, name="nobody", page=1)
    assert (int(total), found) == (0, [])


@pytest.mark.postgres
async def test_a_name_search_on_postgresql_folds_case_like_ilike_and_has_its_indexes(db, tmp_path):
    # lower(name) LIKE lower(pattern), as ILIKE does, beyond ASCII too; the indexes it reads (migration
    # 2026-12-04T19:20) with the statistics target the planner's estimate of a part of a name needs
    rows = [member_row(1, 1, "Élise Ŋoma"), member_row(2, 2, "Budi Santoso"), member_row(3, 3, "ÉLISE Ruth")]
    await import_dtks(write(tmp_path / "dtks.csv", rows), "t")
    admin = await load_user(await make_account("dinsos_admin", "dinsos"))
    found, total = await registry.search_households(admin, name="éLIse")
    assert (int(total), [r["head"] for r in found]) == (2, ["Élise Ŋoma", "ÉLISE Ruth"])
    found, _ = await registry.search_households(admin, name="ŋOMA")
    assert [r["head"] for r in found] == ["Élise Ŋoma"]
    stats = await Member.raw(
        "SELECT c.relname, a.attstattarget FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname IN ('member_household_name_folded', 'member_name_folded_trgm') AND a.attname = 'lower'")
    assert sorted((r["relname"], r["attstattarget"]) for r in stats) == [
        ("member_household_name_folded", 1000), ("member_name_folded_trgm", 1000)]


@pytest.mark.postgres
async def test_deep_pages_of_the_whole_list_start_at_anchors_that_follow_every_change(db, tmp_path, monkeypatch):
    from storage import positions

    # anchors every 3 households, a page of 2: every page from the anchors is the page the offset gives,
    # and adding or removing a household (a statement of the ORM, an import) invalidates them at once
    await import_dtks(write(tmp_path / "dtks.csv", [member_row(k, k, f"Warga {k}") for k in range(1, 15)]), "t")
    monkeypatch.setattr(positions, "STEP", 3)
    monkeypatch.setattr(positions, "REBUILD_EVERY", 0.0)
    monkeypatch.setattr(registry, "PAGE_SIZE", 2)
    positions.forget()
    admin = await load_user(await make_account("dinsos_admin", "dinsos"))

    async def offset_pages() -> list[list[int]]:
        ids = [r["id"] for r in await Household.select(Household.id).order_by(Household.id)]
        return [ids[i * 2:i * 2 + 2] for i in range(9)]

    async def listed_pages() -> list[list[int]]:
        return [[r["id"] for r in (await registry.search_households(admin, page=p))[0]] for p in range(1, 10)]

    assert await positions.household_page_ids(3, 2) is not None  # built and used
    assert await listed_pages() == await offset_pages()
    assert await positions.household_page_ids(4, 2) == (await offset_pages())[2]
    ids = [r["id"] for r in await Household.select(Household.id).order_by(Household.id)]
    await Household.delete().where(Household.id == ids[1])  # every later position moves up by one
    assert await positions.household_page_ids(4, 2) is None  # the change is seen: not the old anchors
    assert await positions.household_page_ids(4, 2) == [ids[5], ids[6]]  # rebuilt
    assert await listed_pages() == await offset_pages()
    await import_dtks(write(tmp_path / "more.csv", [member_row(20, 20, "Warga Baru")]), "t")
    assert await positions.household_page_ids(12, 2) is None
    assert await listed_pages() == await offset_pages()
    positions.forget()


async def test_deep_pages_of_short_lists_and_sqlite(db, engine_name, tmp_path):
    """SQLite never keeps anchors (None: the caller pages by offset); on PostgreSQL an empty list has none,
    and a page past the end of a short list is empty, as an offset would give."""
    from storage import positions

    positions.forget()
    assert await positions.household_page_ids(5000, 50) is None
    await import_dtks(write(tmp_path / "dtks.csv", [member_row(i, i, f"Warga {i}") for i in range(1, 6)]), "t")
    positions.forget()
    beyond = await positions.household_page_ids(positions.STEP, 50)
    assert beyond is None if engine_name == "sqlite" else beyond == []
    positions.forget()
