from __future__ import annotations

from storage.tables import Delivery
from tests.storage.test_approval import build


async def test_impact_is_public_aggregated_and_translated(client) -> None:
    from datetime import date

    from storage import approval

    w = await build(3)
    for a in w.allocations:
        await approval.approve(a, "admin")
    for i, a in enumerate(w.allocations):
        await Delivery.insert(Delivery(allocation=a, delivered_on=date(2026, 11, 20), what_given="Sembako",
                                       received_by="Ibu Rahasia", status="confirmed" if i < 2 else "recorded"))
    page = await client.get("/dampak")
    assert page.status_code == 200
    # two confirmed deliveries: fewer than 5 households, so every figure of them reads "< 5"
    assert "&lt; 5" in page.text and "Rp 600.000" not in page.text and "Pangan" in page.text
    assert "Rahasia" not in page.text and "Budi" not in page.text and "Jl. Uji" not in page.text
    await client.post("/bahasa", data={"lang": "en", "next": "/dampak", "_csrf_token": client.cookies.get("jitu_csrf")})
    english = await client.get("/dampak")
    assert "Aid impact" in english.text and "By kecamatan" in english.text and "By month" in english.text
