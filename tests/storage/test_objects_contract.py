"""One storage contract, two backends: the local folder and MinIO/S3 (against moto's S3 server).

Download links are fetched over HTTP: the local backend's through the portal's ``/berkas`` route,
the S3 backend's straight from the server with httpx.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from marketplace.ports import ObjectNotFound
from marketplace.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


def minio_store(endpoint: str, bucket: str = "jitu-test") -> Any:
    from storage.objects_minio import MinioObjectStore

    settings = Settings(object_store="minio", minio_endpoint=endpoint, minio_access_key="testing",
                        minio_secret_key="testing", minio_bucket=bucket, minio_region="us-east-1")
    return MinioObjectStore.from_settings(settings)


@pytest.fixture(params=["local", "minio"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "local":
        from storage.objects import make_object_store

        return make_object_store()  # the folder and secret the portal's /berkas route uses
    return minio_store(request.getfixturevalue("moto_endpoint"))


async def _fetch(client: Any, url: str) -> httpx.Response:
    if url.startswith("/"):
        return await client.get(url)  # type: ignore[no-any-return]
    async with httpx.AsyncClient() as http:
        return await http.get(url)


def test_put_get_stat_exists_delete(store: Any) -> None:
    key = "uji/kontrak/a.txt"
    info = store.put(key, b"halo dunia", "text/plain")
    assert (info.key, info.size, info.content_type) == (key, 10, "text/plain")
    assert store.exists(key)
    assert store.get(key) == b"halo dunia"
    stat = store.stat(key)
    assert (stat.size, stat.content_type) == (10, "text/plain")
    store.put(key, b"baru", "text/plain")  # overwrite
    assert store.get(key) == b"baru"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting a missing key is not an error


def test_missing_key_errors(store: Any) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("uji/tidak-ada.bin")
    with pytest.raises(ObjectNotFound):
        store.stat("uji/tidak-ada.bin")
    assert not store.exists("uji/tidak-ada.bin")


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/../../b", "/abs", "a b", "a\nb", "x" * 300, ".hidden", "a\n"])
def test_key_validation(store: Any, bad: str) -> None:
    with pytest.raises(ValueError):
        store.put(bad, b"x", "text/plain")
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.download_url(bad, timedelta(seconds=60))


async def test_download_link_works_then_expires(store: Any, client: Any) -> None:
    key = "uji/kontrak/foto.jpg"
    store.put(key, b"\xff\xd8isi-foto", "image/jpeg")
    url = store.download_url(key, timedelta(seconds=2))
    response = await _fetch(client, url)
    assert response.status_code == 200
    assert response.content == b"\xff\xd8isi-foto"
    if url.startswith("/"):  # moto checks no presigned signature at all; the local route must
        tampered = url.replace("foto.jpg", "foto2.jpg")
        store.put("uji/kontrak/foto2.jpg", b"lain", "image/jpeg")
        assert (await _fetch(client, tampered)).status_code == 403
        assert (await _fetch(client, url.split("?")[0])).status_code == 403
        response = await _fetch(client, url)
        assert response.headers["cache-control"] == "private, no-store"
    await asyncio.sleep(3.1)
    if url.startswith("/"):
        assert (await _fetch(client, url)).status_code in (403, 404)
        return
    # moto does not enforce the expiry of presigned URLs (MinIO and S3 do): check what they check,
    # the signed start time and lifetime, and that the link is now past them.
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["2"]
    assert "X-Amz-Signature" in query
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert signed_at + timedelta(seconds=2) < datetime.now(UTC)


def test_minio_creates_missing_bucket(moto_endpoint: str) -> None:
    bucket = f"jitu-baru-{int(time.time())}"
    store = minio_store(moto_endpoint, bucket)
    assert store.client.bucket_exists(bucket)
    minio_store(moto_endpoint, bucket)  # a second start finds it


async def test_minio_presigned_post_policy_checked_again_on_server(moto_endpoint: str) -> None:
    from storage.objects_minio import UploadRejected

    store = minio_store(moto_endpoint)
    form = store.presigned_upload("unggah/ok.png", "image/png", 1000, timedelta(minutes=5))
    assert form.fields["key"] == "unggah/ok.png"
    assert "policy" in form.fields and "x-amz-signature" in form.fields
    async with httpx.AsyncClient() as http:
        ok = await http.post(form.url, data=form.fields, files={"file": ("ok.png", b"\x89PNG" + b"0" * 100,
                                                                         "image/png")})
        assert ok.status_code in (200, 201, 204), ok.text
        assert store.verify_upload("unggah/ok.png", "image/png", 1000).size == 104

        big = store.presigned_upload("unggah/besar.png", "image/png", 1000, timedelta(minutes=5))
        response = await http.post(big.url, data=big.fields,
                                   files={"file": ("besar.png", b"\x89PNG" + b"0" * 5000, "image/png")})
    if response.status_code < 300:  # the emulator ignored the policy: the server check must catch it
        with pytest.raises(UploadRejected):
            store.verify_upload("unggah/besar.png", "image/png", 1000)
    assert not store.exists("unggah/besar.png")
