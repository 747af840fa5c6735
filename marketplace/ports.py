"""Ports: what the domain needs from the outside, as protocols. Adapters live in ``storage/`` and
``portal/``; tests can pass simple fakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A browser posts a file straight to ``url`` with these ``fields`` (an S3 presigned POST policy)."""

    url: str
    fields: dict[str, str]


class ObjectStore(Protocol):
    """Files kept outside the database: LKS documents, evidence, delivery photos, matching rounds."""

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def stat(self, key: str) -> StoredObject: ...

    def download_url(self, key: str, expires: timedelta, filename: str | None = None) -> str:
        """A link that stops working after ``expires``."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (backups)."""
        ...


class ObjectNotFound(KeyError):
    pass


class ObjectStoreUnavailable(RuntimeError):
    """The object store cannot be reached or refused to work (folder gone or not writable, S3 server down or
    answering 5xx). Callers write nothing that would point at an object that was not stored, and tell the user
    in Indonesian to try again later (``STORE_DOWN_MESSAGE``)."""


STORE_DOWN_MESSAGE = ("Penyimpanan berkas sedang tidak dapat dihubungi, jadi belum ada yang dicatat. "
                      "Silakan coba lagi beberapa saat lagi.")
