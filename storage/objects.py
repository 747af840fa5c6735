"""Object storage behind one interface (``marketplace.ports.ObjectStore``), chosen by settings:
a local folder by default, MinIO/S3 in production (``storage/objects_minio.py``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from marketplace.ports import ObjectNotFound, ObjectStore, ObjectStoreUnavailable, StoredObject
from marketplace.settings import Settings, get_settings

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,250}$")
_TMP_RE = re.compile(r"\.tmp\d+$")  # a write in progress (``put``)


def check_key(key: str) -> str:
    if not _KEY_RE.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid object key: {key!r}")
    return key


@contextmanager
def _reachable() -> Iterator[None]:
    """A folder that is gone, read-only, full or on a dead mount is an unavailable store, not a crash."""
    try:
        yield
    except OSError as exc:
        raise ObjectStoreUnavailable(f"object folder unusable: {exc.__class__.__name__}") from exc


class LocalObjectStore:
    """Files under one folder; download links are HMAC-signed and expire (served by the portal)."""

    def __init__(self, root: Path, secret: str, url_prefix: str = "/berkas", older: tuple[str, ...] = ()) -> None:
        self.root = root
        self.secret = secret.encode()
        self.url_prefix = url_prefix
        self.older = tuple(o.encode() for o in older)
        """Secrets of older keys still readable during a key rotation: links they signed stay valid."""

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        path = self._path(key)
        with _reachable():
            self._check_root()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}")
            try:
                tmp.write_bytes(data)
                # the content type first: a reader that sees the file sees its type too
                path.with_name(path.name + ".meta").write_text(json.dumps({"content_type": content_type}))
                tmp.replace(path)  # atomic: a reader sees the whole file or none
            finally:
                tmp.unlink(missing_ok=True)
        return StoredObject(key, len(data), content_type)

    def _check_root(self) -> None:
        """Created on first use; something else in its place (a file, a broken mount) is a fault."""
        if not self.root.exists():
            self.root.mkdir(parents=True)
        elif not self.root.is_dir():
            raise NotADirectoryError(str(self.root))

    def get(self, key: str) -> bytes:
        path = self._path(key)
        with _reachable():
            if not path.is_file():
                if self.root.exists() and not self.root.is_dir():
                    raise NotADirectoryError(str(self.root))
                raise ObjectNotFound(key)
            return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with _reachable():
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".meta").unlink(missing_ok=True)
            parent = path.parent  # prune folders left empty, so a rolled-back write leaves no trace
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def keys(self) -> Iterator[str]:
        with _reachable():
            if not self.root.exists():
                return
            if not self.root.is_dir():
                raise NotADirectoryError(str(self.root))
            for path in sorted(self.root.rglob("*")):
                name = path.name
                if path.is_file() and not name.endswith(".meta") and not _TMP_RE.search(name):
                    yield path.relative_to(self.root).as_posix()

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        meta = path.with_name(path.name + ".meta")
        content_type = json.loads(meta.read_text())["content_type"] if meta.exists() else "application/octet-stream"
        return StoredObject(key, path.stat().st_size, content_type)

    def download_url(self, key: str, expires: timedelta, filename: str | None = None) -> str:
        deadline = int(time.time() + expires.total_seconds())
        token = self.sign(check_key(key), deadline)
        return f"{self.url_prefix}/{key}?e={deadline}&s={token}"

    def sign(self, key: str, deadline: int, secret: bytes | None = None) -> str:
        mac = hmac.new(secret or self.secret, f"{key}\n{deadline}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def check_signature(self, key: str, deadline: int, token: str) -> bool:
        if deadline < time.time():
            return False
        return any(hmac.compare_digest(self.sign(key, deadline, s), token) for s in (self.secret, *self.older))


def make_object_store(settings: Settings | None = None) -> ObjectStore:
    settings = settings or get_settings()
    if settings.object_store == "minio":
        from storage.objects_minio import MinioObjectStore

        return MinioObjectStore.from_settings(settings)
    from storage.crypto import vault

    secrets = vault().signing_secrets  # the active key signs; older readable keys still verify
    return LocalObjectStore(settings.object_dir, secrets[0], older=tuple(secrets[1:]))
