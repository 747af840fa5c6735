"""Demo referrals, so a new user of the office or Dinsos sees the loop at once: made through the same
services as real ones (audited, on the public timelines), only when no referral exists yet."""

from __future__ import annotations

from datetime import date, timedelta

from marketplace import clock
from marketplace.needs import DINSOS_THRESHOLD
from storage.referrals import service
from storage.tables import Need, Referral

DEMO_ACTOR = "demo-accounts"
# (office, what is needed, why, days ago sent, steps the office has taken)
_SCRIPT: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("kesehatan", "Pendaftaran PBI Jaminan Kesehatan", "Kepala keluarga sakit kronis, belum memiliki BPJS", 1, ()),
    ("kesehatan", "Pemeriksaan kesehatan lansia di puskesmas", "Lansia tinggal sendiri, sulit berjalan", 3,
     ("accept",)),
    ("kesehatan", "Aktivasi kembali kartu BPJS", "Kartu PBI nonaktif sejak pindah alamat", 12, ()),
    ("kesehatan", "Rujukan berobat rutin", "Anak dengan gizi kurang", 6, ("accept", "complete")),
    ("dukcapil", "Penerbitan KTP-el dan perbaikan KK", "Data KK tidak sesuai; tidak bisa mendaftar bansos", 2, ()),
)


async def ensure_demo_referrals(kelurahan_code: str, today: date | None = None) -> int:
    """Refer a few open needs (of this kelurahan first) to Dinkes and Disdukcapil; returns how many."""
    if await Referral.exists():
        return 0
    today = today or clock.today()
    rows = await Need.select(Need.id).where(
        Need.status.is_in(["assessed", "verified"]) & (Need.amount <= DINSOS_THRESHOLD)
        & (Need.household._.kelurahan_code == kelurahan_code)).order_by(Need.id).limit(len(_SCRIPT))
    if len(rows) < len(_SCRIPT):
        rows += await Need.select(Need.id).where(
            Need.status.is_in(["assessed", "verified"]) & (Need.amount <= DINSOS_THRESHOLD)
            & Need.id.not_in([r["id"] for r in rows] or [0])).order_by(Need.id).limit(len(_SCRIPT) - len(rows))
    staff = None
    made = 0
    for need, (office, what, why, days_ago, steps) in zip(rows, _SCRIPT, strict=False):
        rid = await service.refer_need(DEMO_ACTOR, int(need["id"]), office, what, why,
                                       today=today - timedelta(days=days_ago))
        made += 1
        if steps:
            staff = staff or await _office_user(office)
            for action in steps:
                await service.act(staff, rid, action, text="Sudah didaftarkan sebagai peserta PBI JK"
                                  if action == "complete" else "", resolution="close" if action == "complete" else "")
    return made


async def _office_user(office: str) -> service.CurrentUser:
    """The office's demo staff account when it exists, else a named stand-in for the audit trail."""
    from storage.accounts import load_user
    from storage.tables import Account

    row = await Account.select(Account.id).where(Account.office == office).order_by(Account.id).first()
    user = await load_user(int(row["id"])) if row else None
    return user or service.CurrentUser(0, f"demo-{office}", "Demo", "office_staff", None, None, "id", office)
