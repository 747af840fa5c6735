from datetime import UTC, date, datetime, timedelta

from storage.crypto import vault
from storage.retention import apply_retention
from storage.tables import AuditEvent, Household, Member, WebSession


async def _household(kk: str, nik: str, consent_withdrawn: bool) -> int:
    v = vault()
    rows = await Household.insert(Household(
        kk_cipher=v.encrypt(kk), kk_hash=v.hash(kk), kelurahan_code="32.73.03.1001", address="Jl. Uji 1",
        desil=2, legal_basis="consent", consent_given_at=datetime.now(UTC),
        consent_withdrawn_at=datetime.now(UTC) if consent_withdrawn else None,
    )).returning(Household.id)
    hid = rows[0]["id"]
    await Member.insert(Member(household=hid, nik_cipher=v.encrypt(nik), nik_hash=v.hash(nik), name="Siti Aminah",
                               birth_date=date(1985, 3, 12), sex="P", relation="kepala"))
    return hid


async def test_withdrawn_consent_is_anonymised_and_others_kept(db):
    gone = await _household("3273031201100001", "3273035203850001", True)
    kept = await _household("3273031201100002", "3273035203850002", False)
    await WebSession.insert(WebSession(key="old", value="{}", expires_at=datetime.now(UTC) - timedelta(hours=1)))
    report = await apply_retention()
    assert (report.sessions_deleted, report.households_anonymised) == (1, 1)
    gone_member = await Member.select().where(Member.household == gone).first()
    assert gone_member["name"] == "(dianonimkan)" and gone_member["nik_cipher"] == ""
    assert (await Household.select(Household.address).where(Household.id == gone).first())["address"] == ""
    kept_member = await Member.select().where(Member.household == kept).first()
    assert vault().decrypt(kept_member["nik_cipher"]) == "3273035203850002"
    assert await AuditEvent.exists().where(AuditEvent.action == "household.anonymise")
    again = await apply_retention()
    assert again.households_anonymised == 0
