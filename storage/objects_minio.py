"""The MinIO / S3 backend of ``marketplace.ports.ObjectStore`` (production), with the ``minio`` client.

Download links are S3 presigned GET URLs; direct browser uploads use a presigned POST policy
(``presigned_upload``) limited in size and content type. An S3 emulator may ignore the policy, so
``verify_upload`` checks the stored object again on the server and deletes it when it breaks the limits.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import certifi
import urllib3
from minio import Minio
from minio.datatypes import PostPolicy
from minio.error import InvalidResponseError, S3Error, ServerError

from marketplace.ports import ObjectNotFound, ObjectStoreUnavailable, StoredObject, UploadForm
from marketplace.settings import Settings
from storage.objects import check_key

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}
# The server is down, unreachable, or answers 5xx even after the client's retries: try again later.
_DOWN = (urllib3.exceptions.HTTPError, ServerError, InvalidResponseError, OSError)


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except _DOWN as exc:
        raise ObjectStoreUnavailable(f"object store unreachable: {exc.__class__.__name__}") from exc


def http_client(secure: bool) -> urllib3.PoolManager:
    """minio's own client settings, but a 5 s connect timeout (not 5 minutes) and two retries (not five), so a
    request finds a dead store in about a second instead of holding the user's upload for minutes."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60), maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class UploadRejected(ValueError):
    """An uploaded object broke the limits of its upload form; the message is Indonesian."""


class MinioObjectStore:
    def __init__(self, client: Minio, bucket: str, *, create_bucket: bool = True) -> None:
        self.client = client
        self.bucket = bucket
        if create_bucket:
            with _reachable():
                if not client.bucket_exists(bucket):
                    client.make_bucket(bucket)

    @classmethod
    def from_settings(cls, settings: Settings) -> MinioObjectStore:
        client = Minio(
            settings.minio_endpoint,
            access_key=settings.minio_access_key,
            secret_key=settings.minio_secret_key,
            secure=settings.minio_secure,
            region=settings.minio_region,
            http_client=http_client(settings.minio_secure),
        )
        return cls(client, settings.minio_bucket)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        with _reachable():
            self.client.put_object(self.bucket, check_key(key), io.BytesIO(data), len(data),
                                   content_type=content_type)
        return StoredObject(key, len(data), content_type)

    def get(self, key: str) -> bytes:
        with _reachable():
            try:
                response = self.client.get_object(self.bucket, check_key(key))
            except S3Error as exc:
                raise self._translate(exc, key) from exc
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:
        with _reachable():
            try:
                self.client.stat_object(self.bucket, check_key(key))
            except S3Error as exc:
                if exc.code in _MISSING:
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        with _reachable():
            self.client.remove_object(self.bucket, check_key(key))

    def stat(self, key: str) -> StoredObject:
        with _reachable():
            try:
                info = self.client.stat_object(self.bucket, check_key(key))
            except S3Error as exc:
                raise self._translate(exc, key) from exc
        return StoredObject(key, int(info.size or 0), info.content_type or "application/octet-stream")

    def keys(self) -> Iterator[str]:
        with _reachable():
            for obj in self.client.list_objects(self.bucket, recursive=True):
                if obj.object_name and not obj.is_dir:
                    yield obj.object_name

    def download_url(self, key: str, expires: timedelta, filename: str | None = None) -> str:
        headers: dict[str, str | list[str] | tuple[str]] | None = None
        if filename:
            safe = "".join(c for c in filename if c.isalnum() or c in "._- ")[:120] or "berkas"
            headers = {"response-content-disposition": f'inline; filename="{safe}"'}
        return str(self.client.presigned_get_object(self.bucket, check_key(key), expires=expires,
                                                    response_headers=headers))

    def presigned_upload(self, key: str, content_type: str, max_size: int, expires: timedelta) -> UploadForm:
        """A form a browser posts the file to directly: only ``key``, this content type, 1..max_size bytes."""
        policy = PostPolicy(self.bucket, datetime.now(UTC) + expires)
        policy.add_equals_condition("key", check_key(key))
        policy.add_equals_condition("Content-Type", content_type)
        policy.add_content_length_range_condition(1, max_size)
        fields = self.client.presigned_post_policy(policy)
        fields["key"] = key
        fields["Content-Type"] = content_type
        base = self.client._base_url  # the client keeps the endpoint only there
        scheme = "https" if base.is_https else "http"
        return UploadForm(url=f"{scheme}://{base.host}/{self.bucket}", fields=dict(fields))

    def verify_upload(self, key: str, content_type: str, max_size: int) -> StoredObject:
        """Check a directly uploaded object against its limits again; delete it and refuse if it breaks them."""
        info = self.stat(key)
        if info.size > max_size or info.size == 0 or info.content_type != content_type:
            self.delete(key)
            raise UploadRejected(
                f"Berkas ditolak: harus bertipe {content_type} dan berukuran 1 bita sampai {max_size} bita"
            )
        return info

    @staticmethod
    def _translate(exc: S3Error, key: str) -> Exception:
        if exc.code in _MISSING:
            return ObjectNotFound(key)
        return exc
