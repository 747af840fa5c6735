"""Publishing a fund offer: never more than the ledger balance plus the declared own budget minus what the
LKS's other open fund offers still commit."""

from __future__ import annotations

from typing import Any

from storage.tables import Lks, Offer
from tests.dbutil import csrf, login, make_account, make_lks


async def _offer(client: Any, **fields: Any) -> int:
    await client.get("/lks-saya/penawaran/baru")
    data = {"title": "Dana", "period": "2026-12", "kind": "tunai", "offer_type": "funds", "areas": ["32.73.03"],
            "ppks": ["24"], "_csrf_token": csrf(client), **fields}
    response = await client.post("/lks-saya/penawaran/baru", data=data, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def _publish(client: Any, offer_id: int) -> Any:
    return await client.post(f"/lks-saya/penawaran/{offer_id}/terbitkan", data={"_csrf_token": csrf(client)},
                             follow_redirects=False)


async def test_fund_offers_stay_within_balance_plus_own_budget(client):
    lks_id = await make_lks()
    await Lks.update({Lks.annual_budget: 1_000_000}).where(Lks.id == lks_id)
    await make_account("lks_staff", "staf", lks_id=lks_id)
    await login(client, "staf")
    # Rp 500.000 in the ledger, from a recorded transfer
    await client.get("/lks-saya/donasi/transfer")
    await client.post("/lks-saya/donasi/transfer", data={
        "donor_name": "Pak Ahmad", "amount": "500000", "received_on": "2026-11-20", "_csrf_token": csrf(client)},
        files={"proof": ("b.pdf", b"%PDF-1.4", "application/pdf")})
    first = await _offer(client, amount="1.000.000")
    assert (await _publish(client, first)).status_code in (302, 303)
    second = await _offer(client, amount="600.000")
    refused = await _publish(client, second)
    assert refused.status_code == 400 and "melebihi dana yang tersedia" in refused.text
    assert (await Offer.select(Offer.status).where(Offer.id == second).first())["status"] == "draft"
    exact = await _offer(client, amount="500.000")
    assert (await _publish(client, exact)).status_code in (302, 303)
    # closing an open offer frees what it committed
    await client.post(f"/lks-saya/penawaran/{first}/tutup", data={"_csrf_token": csrf(client)})
    assert (await _publish(client, second)).status_code in (302, 303)
    # goods offers are counted in units and are not limited by the fund ledger
    goods = await _offer(client, offer_type="goods", kind="pangan", unit="paket sembako", quantity="1000",
                         unit_value="150000")
    assert (await _publish(client, goods)).status_code in (302, 303)
    # the ledger page shows the same figures
    kas = await client.get("/lks-saya/buku-kas")
    assert "Rp 500.000" in kas.text and "Rp 1.100.000" in kas.text
