from __future__ import annotations

import time
from datetime import timedelta

from storage.objects import make_object_store


async def test_signed_link_serves_with_safe_headers(client) -> None:
    store = make_object_store()
    store.put("uji/berkas/a.html", b"<script>alert(1)</script>", "text/html")
    url = store.download_url("uji/berkas/a.html", timedelta(minutes=1))
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["content-disposition"] == "attachment"  # never rendered as a page


async def test_refuses_bad_expired_or_missing(client) -> None:
    store = make_object_store()
    store.put("uji/berkas/b.jpg", b"x", "image/jpeg")
    assert (await client.get("/berkas/uji/berkas/b.jpg")).status_code == 403
    assert (await client.get("/berkas/uji/berkas/b.jpg?e=abc&s=x")).status_code == 403
    past = int(time.time()) - 10
    assert (await client.get(f"/berkas/uji/berkas/b.jpg?e={past}&s={store.sign('uji/berkas/b.jpg', past)}")
            ).status_code == 403
    missing = store.download_url("uji/berkas/tidak-ada.jpg", timedelta(minutes=1))
    assert (await client.get(missing)).status_code == 404
    assert (await client.get("/berkas/../secret_key?e=9999999999&s=x")).status_code in (403, 404)
