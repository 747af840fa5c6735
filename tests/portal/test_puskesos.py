"""The Puskesos view: a household of the operator's kelurahan at a glance; other kelurahan (and guessed
ids) are 404; every opening is access-logged."""

from datetime import UTC, datetime

from marketplace.puskesos import Programme, recent_periods, still_eligible
from storage import registry
from storage.referrals import service as referrals
from storage.tables import Allocation, Complaint, DataAccess, GovernmentAid, Household, Need
from tests.dbutil import login, make_account
from tests.storage.test_approval import KEL, add_allocation, build, make_household


async def world():
    w = await build(0, lks_name="Yayasan Peduli Babakan")
    hh, _ = await make_household(KEL, "Siti Aminah")
    await Household.update({Household.desil: 2}).where(Household.id == hh)
    alloc = await add_allocation(w, household=hh, need_status="approved")
    await Allocation.update({Allocation.status: "approved"}).where(Allocation.id == alloc)
    now = registry.current_period()
    await GovernmentAid.insert(GovernmentAid(household=hh, program="PKH", kind="tunai", period=now, amount=750_000),
                               GovernmentAid(household=hh, program="BPNT", kind="pangan", period="2020-01",
                                             amount=200_000))
    open_need = await Need.insert(Need(household=hh, ppks=9, kind="alat_bantu", amount=1_500_000,
                                       status="assessed")).returning(Need.id)
    referred = await Need.insert(Need(household=hh, ppks=24, kind="kesehatan", amount=900_000,
                                      status="assessed")).returning(Need.id)
    await referrals.refer_need("uji", int(referred[0]["id"]), "kesehatan", "Berobat rutin", "Butuh BPJS PBI")
    await Complaint.insert(Complaint(ticket_code="JITU-PQRSTUVWXY", category="tidak_diterima",
                                     description="x" * 30, household=hh, created_at=datetime.now(UTC)))
    return hh, int(open_need[0]["id"])


async def test_operator_sees_their_household_at_a_glance(client):
    hh, need_id = await world()
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    page = await client.get(f"/puskesos/keluarga/{hh}")
    assert page.status_code == 200, page.text
    text = page.text
    gov = text[text.index('id="government-aid"'):text.index('id="lks-aid"')]
    assert "PKH" in gov and "2020-01" in gov and "BPNT" in gov
    lks = text[text.index('id="lks-aid"'):text.index('id="open-needs"')]
    assert "Yayasan Peduli Babakan" in lks and "2026-11" in lks
    needs = text[text.index('id="open-needs"'):text.index('id="referrals"')]
    assert f"#{need_id}" in needs and "Dirujuk" in needs
    refs = text[text.index('id="referrals"'):text.index('id="complaints"')]
    assert "Dinkes" in refs
    assert "JITU-PQRSTUVWXY" in text[text.index('id="complaints"'):text.index('id="eligible"')]
    eligible = text[text.index('id="eligible"'):]
    assert "PKH" not in eligible and "BPNT" in eligible  # BPNT last received long ago
    assert await DataAccess.count().where((DataAccess.household_id == hh)
                                          & (DataAccess.purpose == "puskesos: ringkasan keluarga")) == 1


async def test_other_kelurahan_and_guessed_ids_are_not_found(client):
    hh, _ = await world()
    await make_account("operator_kelurahan", "far", kelurahan_code="32.73.03.1002")
    await login(client, "far")
    for path in (f"/puskesos/keluarga/{hh}", "/puskesos/keluarga/99999", "/puskesos/keluarga/99999999999",
                 "/puskesos/keluarga/0"):
        assert (await client.get(path)).status_code in (400, 404), path
    assert await DataAccess.count() == 0
    await make_account("lks_staff", "lks")
    await login(client, "lks")
    assert (await client.get(f"/puskesos/keluarga/{hh}")).status_code == 403


def test_eligibility_rule():
    assert recent_periods("2026-02") == ["2026-02", "2026-01", "2025-12"]
    progs = [Programme("PKH", "PKH", "tunai", 4, True), Programme("PIP", "PIP", "pendidikan", 2, True),
             Programme("OLD", "Old", "tunai", 10, False)]
    assert [p.code for p in still_eligible(3, progs, set())] == ["PKH"]
    assert [p.code for p in still_eligible(1, progs, {"PKH"})] == ["PIP"]
