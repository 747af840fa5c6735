"""The object store is down while an LKS uploads a delivery's photos (issue 13 item 6): the delivery is not
recorded at all (no delivery row, no photo row, the allocation still approved, no audit event), the form comes
back with a clear Indonesian message and 503, and once the store is back the same upload records it whole.
Both backends: the local folder (its folder replaced by a file, as a lost mount would leave it) and S3
(moto's S3 server stopped, then started again on the same port)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from marketplace import clock
from marketplace.ports import STORE_DOWN_MESSAGE, ObjectStoreUnavailable
from marketplace.settings import Settings, get_settings
from storage.tables import Allocation, AuditEvent, Delivery, DeliveryPhoto
from tests.dbutil import csrf, login
from tests.pgcluster import free_port
from tests.portal.test_delivery_pages import fields
from tests.storage.test_delivery import approved_world
from tests.storage.test_images import jpeg_with_gps


async def _nothing_recorded(allocation_id: int) -> None:
    assert await Delivery.count() == 0 and await DeliveryPhoto.count() == 0
    row = await Allocation.select(Allocation.status).where(Allocation.id == allocation_id).first()
    assert row["status"] == "approved"
    assert await AuditEvent.count().where(AuditEvent.action == "delivery.record") == 0


async def _upload(client: Any, allocation_id: int) -> Any:
    return await client.post(f"/penyaluran/{allocation_id}", data=fields(csrf(client)), follow_redirects=False,
                             files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
                                    ("photos", ("b.jpg", jpeg_with_gps((80, 60)), "image/jpeg"))])


async def _staff_at_the_form(client: Any) -> int:
    w = await approved_world()
    await login(client, f"staf{w.lks_id}")
    assert (await client.get(f"/penyaluran/{w.allocations[0]}")).status_code == 200
    return int(w.allocations[0])


def _refused_clearly(response: Any) -> None:
    assert response.status_code == 503, response.text[:500]
    assert STORE_DOWN_MESSAGE in response.text
    assert response.headers["retry-after"] == "5"
    assert 'name="received_by"' in response.text and "Ibu Siti" in response.text  # the form, filled in


async def test_local_folder_gone_during_an_upload_records_nothing_and_the_retry_records_it(client) -> None:
    allocation_id = await _staff_at_the_form(client)
    root = get_settings().object_dir
    away = root.with_name(root.name + ".away")
    root.mkdir(parents=True, exist_ok=True)
    before = sorted(root.rglob("*"))  # earlier tests' objects may be there
    root.rename(away)
    root.write_text("")  # a file where the folder was: every write fails
    try:
        _refused_clearly(await _upload(client, allocation_id))
        await _nothing_recorded(allocation_id)
        assert sorted(p.relative_to(away) for p in away.rglob("*")) == [p.relative_to(root) for p in before]
    finally:
        root.unlink()
        away.rename(root)

    response = await _upload(client, allocation_id)
    assert response.status_code in (302, 303), response.text[:500]
    keys = [r["object_key"] for r in await DeliveryPhoto.select(DeliveryPhoto.object_key)]
    assert len(keys) == 2 and all((root / k).is_file() for k in keys)
    assert await AuditEvent.count().where(AuditEvent.action == "delivery.record") == 1


@pytest.fixture
def s3_server() -> Iterator[tuple[ThreadedMotoServer, int]]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    holder = [server]
    try:
        yield holder[0], port
    finally:
        holder[0].stop()


def _s3_store(port: int) -> Any:
    from storage.objects_minio import MinioObjectStore

    return MinioObjectStore.from_settings(Settings(
        object_store="minio", minio_endpoint=f"127.0.0.1:{port}", minio_access_key="testing",
        minio_secret_key="testing", minio_bucket="jitu-gangguan", minio_region="us-east-1"))


async def test_s3_server_down_during_an_upload_records_nothing_and_the_retry_records_it(
        client, s3_server: tuple[ThreadedMotoServer, int], monkeypatch: pytest.MonkeyPatch) -> None:
    server, port = s3_server
    import portal.web.delivery

    # the portal's delivery page uses the S3 backend here (as OBJECT_STORE=minio would make it)
    monkeypatch.setattr(portal.web.delivery, "make_object_store", lambda: _s3_store(port))
    allocation_id = await _staff_at_the_form(client)
    _s3_store(port)  # the bucket exists before the server goes down
    server.stop()
    started = time.monotonic()
    _refused_clearly(await _upload(client, allocation_id))
    assert time.monotonic() - started < 10, "a dead store is found in seconds, not minutes"
    await _nothing_recorded(allocation_id)

    restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)  # moto keeps its state
    restarted.start()
    try:
        response = await _upload(client, allocation_id)
        assert response.status_code in (302, 303), response.text[:500]
        keys = [r["object_key"] for r in await DeliveryPhoto.select(DeliveryPhoto.object_key)]
        store = _s3_store(port)
        assert len(keys) == 2 and all(store.get(k)[:2] == b"\xff\xd8" for k in keys)
        assert sorted(store.keys()) == sorted(keys), "nothing else was left in the bucket"
    finally:
        restarted.stop()


def test_every_backend_call_reports_a_dead_store_as_unavailable(tmp_path: Path) -> None:
    """Not a crash nor "not found": a store that cannot be reached says so, for each operation."""
    from storage.objects import LocalObjectStore

    root = tmp_path / "objects"
    store = LocalObjectStore(root, "rahasia")
    store.put("a/b.txt", b"isi", "text/plain")
    shutil.rmtree(root)
    root.write_text("")
    for call in (lambda: store.put("a/c.txt", b"x", "text/plain"), lambda: store.get("a/b.txt"),
                 lambda: list(store.keys())):
        with pytest.raises(ObjectStoreUnavailable):
            call()
    port = free_port()  # nothing listens there
    from storage.objects_minio import MinioObjectStore

    with pytest.raises(ObjectStoreUnavailable):
        MinioObjectStore.from_settings(Settings(object_store="minio", minio_endpoint=f"127.0.0.1:{port}",
                                                minio_access_key="x", minio_secret_key="y"))


async def test_the_api_answers_503_and_records_nothing_while_the_folder_is_gone(client) -> None:
    import base64

    from storage.accounts import load_user
    from storage.api import tokens
    from tests.dbutil import make_account

    w = await approved_world()
    admin = await load_user(await make_account("dinsos_admin", "admin"))
    _, token = await tokens.create_token(admin, "Sistem LKS", lks_id=w.lks_id)
    body = {"delivered_on": clock.today().isoformat(), "what_given": "Paket sembako 10 kg", "received_by": "Ibu Siti",
            "photos": [{"filename": "a.jpg", "content_base64": base64.b64encode(jpeg_with_gps()).decode()}]}
    url, headers = f"/api/v1/allocations/{w.allocations[0]}/delivery", {"Authorization": f"Bearer {token}"}
    root = get_settings().object_dir
    away = root.with_name(root.name + ".away")
    root.mkdir(parents=True, exist_ok=True)
    root.rename(away)
    root.write_text("")
    try:
        response = await client.post(url, headers=headers, json=body)
        assert response.status_code == 503 and response.json()["detail"] == STORE_DOWN_MESSAGE
        assert response.headers["retry-after"] == "5"
        await _nothing_recorded(w.allocations[0])
    finally:
        root.unlink()
        away.rename(root)
    assert (await client.post(url, headers=headers, json=body)).status_code == 201
