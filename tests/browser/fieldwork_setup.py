"""The rows the field-work browser test starts from, written into the browser portal's own database:
``python -m tests.browser.fieldwork_setup USERNAME PASSWORD`` with the portal's environment. An LKS of its
own (so the seeded data of the other browser tests changes nothing), with three households Dinsos approved
through the real approval service: one overdue, one due this week, one due next month. Prints their
allocation ids as JSON."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from datetime import date, timedelta

import storage  # noqa: F401  (PICCOLO_CONF)
from marketplace import clock

KECAMATAN = "32.73.03"
KELURAHAN = "32.73.03.1001"
PLAN = (("Ibu Lapangan Terlambat", -2, "0812-7000-0001"), ("Bapak Lapangan Minggu Ini", None, "0812 7000 0002"),
        ("Ibu Lapangan Bulan Depan", 25, "0812 7000 0003"))


async def main(username: str, password: str) -> dict[str, int]:
    from marketplace.identity import make_kk, make_nik
    from portal.auth import hash_password
    from storage import approval
    from storage.accounts import create_account
    from storage.crypto import vault
    from storage.delivery import week_end
    from storage.tables import Allocation, Household, Lks, MatchingRound, Member, Need, Offer, ServiceRequest

    today = clock.today()
    lks = await Lks.insert(Lks(name="Yayasan Uji Lapangan", legal_type="yayasan", status="verified",
                               kecamatan_code=KECAMATAN, email="lapangan@example.org")).returning(Lks.id)
    lks_id = int(lks[0]["id"])
    period = f"{today:%Y-%m}"
    offer = await Offer.insert(Offer(lks=lks_id, title="Paket sembako lapangan", period=period, kind="pangan",
                                     capacity=10_000_000, remaining=10_000_000, status="published")
                               ).returning(Offer.id)
    rnd = await MatchingRound.insert(MatchingRound(period=period, status="proposed")).returning(MatchingRound.id)
    ids: dict[str, int] = {}
    for i, (name, days, phone) in enumerate(PLAN):
        serial = 9000 + secrets.randbelow(999)
        kk = make_kk(KECAMATAN, date(2019, 1, 17), serial)
        nik = make_nik(KECAMATAN, date(1931, 2, 3 + i), "L", serial)
        hh = await Household.insert(Household(
            kk_cipher=vault().encrypt(kk), kk_hash=vault().hash(kk), kelurahan_code=KELURAHAN,
            address=f"Gg. Lapangan {i + 1}", rt="003", rw="007", phone=phone, desil=1)).returning(Household.id)
        household = int(hh[0]["id"])
        await Member.insert(Member(household=household, nik_cipher=vault().encrypt(nik), nik_hash=vault().hash(nik),
                                   name=name, birth_date=date(1931, 2, 3 + i), sex="L", relation="kepala"))
        req = await ServiceRequest.insert(ServiceRequest(ticket_code="L" + secrets.token_hex(8).upper(),
                                                         household=household, kelurahan_code=KELURAHAN)
                                          ).returning(ServiceRequest.id)
        need = await Need.insert(Need(household=household, request=req[0]["id"], ppks=24, kind="pangan",
                                      amount=250_000, priority=80, status="matched")).returning(Need.id)
        alloc = await Allocation.insert(Allocation(
            round=rnd[0]["id"], need=need[0]["id"], offer=offer[0]["id"], lks=lks_id, amount=250_000, priority=80,
            explanation="Prioritas 80.", status="proposed")).returning(Allocation.id)
        allocation = int(alloc[0]["id"])
        await approval.approve(allocation, "browser-setup")
        due = week_end(today) if days is None else today + timedelta(days=days)
        await Allocation.update({Allocation.deliver_by: due}).where(Allocation.id == allocation)
        ids[name] = allocation
    await create_account(username=username, password_hash=hash_password(password), role="lks_staff",
                         full_name="Staf Lapangan", lks_id=lks_id, actor="browser-setup")
    return ids


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
