"""Encryption at rest of NIK and No. KK: AES-256-GCM (confidentiality and integrity), keys derived
from a secret with HKDF, one key per purpose. Lookups go through a keyed hash, never the plain value.

Keys carry an id and live on a key ring, so they can be rotated (``storage/keys.py``, ``jitu keys``):

- ``k0`` is the bootstrap key: ``SECRET_KEY`` (or ``var/secret_key``), as before rotation existed, so
  an existing deployment keeps working with no step of its own;
- later keys ``k1``, ``k2``, … are kept in the key file (``JITU_KEYS_FILE``, default ``var/keys.json``,
  mode 0600), which also names the active key and the retired ones.

A ciphertext names its key: ``k2:<base64>``; one without a prefix is a ``k0`` ciphertext (all data
written before rotation). New data is always written under the active key. A keyed lookup hash cannot
carry a prefix (the columns hold the bare hex): it belongs to the same key as the ciphertext beside it,
and while more than one key is readable a lookup searches the hash under each (``lookup_hashes``).
The ring is re-read whenever the key file changes, so a rotation started by ``jitu keys rotate`` reaches
running portal processes and workers without a restart.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from marketplace.identity import lookup_hash
from marketplace.settings import Settings, get_settings

BOOTSTRAP = "k0"
_KEY_ID = re.compile(r"^k[0-9]{1,6}$")


class KeyRingError(ValueError):
    """A key is missing, wrong or the key file is unreadable; the message says which and what to do."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jitu", info=purpose).derive(secret.encode())


@dataclass(frozen=True)
class IdentityVault:
    """One key: encrypts, decrypts and hashes personal identifiers with keys derived from one secret."""

    enc_key: bytes
    hash_key: bytes
    audit_key: bytes
    key_id: str = BOOTSTRAP
    secret: str = field(default="", repr=False)
    """The secret itself: signs CSRF tokens and download links (``portal/app.py``, ``storage/objects.py``)."""

    @classmethod
    def from_secret(cls, secret: str, key_id: str = BOOTSTRAP) -> IdentityVault:
        return cls(_derive(secret, b"identity-encryption"), _derive(secret, b"identity-lookup"),
                   _derive(secret, b"audit-chain"), key_id, secret)

    @property
    def prefix(self) -> str:
        """What starts this key's ciphertexts (nothing for ``k0``: data from before rotation)."""
        return "" if self.key_id == BOOTSTRAP else f"{self.key_id}:"

    def encrypt(self, plain: str, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        body = base64.b64encode(nonce + AESGCM(self.enc_key).encrypt(nonce, plain.encode(), context)).decode()
        return self.prefix + body

    def decrypt(self, token: str, context: bytes = b"") -> str:
        raw = base64.b64decode(token.removeprefix(self.prefix))
        try:
            return AESGCM(self.enc_key).decrypt(raw[:12], raw[12:], context).decode()
        except InvalidTag:
            raise KeyRingError(
                f"Data terenkripsi tidak dapat dibuka dengan kunci {self.key_id}: kunci salah "
                f"(SECRET_KEY atau berkas kunci tidak cocok dengan data ini)") from None

    def hash(self, number: str) -> str:
        return lookup_hash(number, self.hash_key)


def key_of(token: str) -> str:
    """The id of the key a ciphertext was written under."""
    head, sep, _ = token.partition(":")
    return head if sep and _KEY_ID.match(head) else BOOTSTRAP


@dataclass(frozen=True)
class KeyRing:
    """The readable keys and the active one. Same interface as one key for callers that only
    encrypt, decrypt or hash; ``lookup_hashes`` for finding rows while a rotation is under way."""

    keys: Mapping[str, IdentityVault]
    active_id: str
    source: str = ""
    """Where the ring came from (named in error messages)."""

    @property
    def active(self) -> IdentityVault:
        return self.keys[self.active_id]

    @property
    def key_id(self) -> str:
        return self.active_id

    # the active key's parts, as ``IdentityVault`` has them
    @property
    def enc_key(self) -> bytes:
        return self.active.enc_key

    @property
    def hash_key(self) -> bytes:
        return self.active.hash_key

    @property
    def audit_key(self) -> bytes:
        return self.active.audit_key

    def key(self, key_id: str) -> IdentityVault:
        found = self.keys.get(key_id)
        if found is None:
            raise KeyRingError(
                f"Kunci {key_id} tidak ada di ring kunci ({self.source}): data ini ditulis dengan kunci itu. "
                "Pulihkan berkas kunci (JITU_KEYS_FILE) atau SECRET_KEY yang benar.")
        return found

    def encrypt(self, plain: str, context: bytes = b"") -> str:
        return self.active.encrypt(plain, context)

    def decrypt(self, token: str, context: bytes = b"") -> str:
        return self.key(key_of(token)).decrypt(token, context)

    def hash(self, number: str) -> str:
        """The lookup hash written with new rows (active key)."""
        return self.active.hash(number)

    def lookup_hashes(self, number: str) -> list[str]:
        """The hash of ``number`` under every readable key, the active one first: search with all of them."""
        return [self.active.hash(number)] + [k.hash(number) for i, k in self.keys.items() if i != self.active_id]

    def lookup_map(self, numbers: Iterable[str]) -> dict[str, str]:
        """Every readable key's hash of each number, mapped to the active key's hash of the same number
        (bulk look-ups: query with the keys, file what is found under the active hash)."""
        out: dict[str, str] = {}
        for number in numbers:
            hashes = self.lookup_hashes(number)
            for h in hashes:
                out[h] = hashes[0]
        return out

    @property
    def audit_keys(self) -> dict[str, bytes]:
        return {i: k.audit_key for i, k in self.keys.items()}

    @property
    def signing_secrets(self) -> list[str]:
        """Secrets that sign short-lived tokens: the active one signs, all verify."""
        return [self.active.secret] + [k.secret for i, k in self.keys.items() if i != self.active_id]


# ------------------------------------------------------------------------------------------ key file


@dataclass
class KeyFile:
    """The key file's content: later keys' secrets, the active key, the retired ones."""

    active: str = BOOTSTRAP
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    def next_id(self) -> str:
        used = [int(i[1:]) for i in [BOOTSTRAP, *self.keys, *self.retired]]
        return f"k{max(used) + 1}"


def keys_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return Path(settings.keys_file) if settings.keys_file else settings.var_dir / "keys.json"


def read_key_file(path: Path) -> KeyFile:
    if not path.exists():
        return KeyFile()
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        kf = KeyFile(active=str(data["active"]), keys={str(k): dict(v) for k, v in data.get("keys", {}).items()},
                     retired=[str(r) for r in data.get("retired", [])])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyRingError(f"Berkas kunci {path} tidak dapat dibaca: {exc}") from None
    for key_id in [kf.active, *kf.keys, *kf.retired]:
        if not _KEY_ID.match(key_id):
            raise KeyRingError(f"Berkas kunci {path}: id kunci '{key_id}' tidak sah (k0, k1, …)")
    return kf


def write_key_file(path: Path, kf: KeyFile) -> None:
    """Atomically (write aside, then rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"active": kf.active, "keys": kf.keys, "retired": kf.retired}, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    _RING.clear()


def new_key_entry() -> dict[str, str]:
    return {"secret": secrets.token_urlsafe(48), "created_at": datetime.now(UTC).isoformat(timespec="seconds")}


def load_ring(settings: Settings | None = None) -> KeyRing:
    settings = settings or get_settings()
    path = keys_path(settings)
    kf = read_key_file(path)
    keys: dict[str, IdentityVault] = {}
    if BOOTSTRAP not in kf.retired:
        keys[BOOTSTRAP] = IdentityVault.from_secret(settings.resolved_secret_key(), BOOTSTRAP)
    for key_id, entry in kf.keys.items():
        if key_id in kf.retired:
            continue
        if not entry.get("secret"):
            raise KeyRingError(f"Berkas kunci {path}: kunci {key_id} tanpa rahasia")
        keys[key_id] = IdentityVault.from_secret(entry["secret"], key_id)
    if kf.active not in keys:
        raise KeyRingError(f"Kunci aktif {kf.active} tidak ada di berkas kunci {path} (atau sudah dipensiunkan)")
    return KeyRing(keys, kf.active, str(path))


class _RingCache:
    """The ring, loaded again when the key file changes (its mtime, size or inode)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._ring: KeyRing | None = None

    def get(self) -> KeyRing:
        settings = get_settings()
        path = keys_path(settings)
        try:
            st = path.stat()
            file_stamp: tuple[int, ...] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            file_stamp = None
        stamp = (id(settings), str(path), file_stamp)
        ring = self._ring
        if ring is None or stamp != self._stamp:
            with self._lock:
                ring = load_ring(settings)
                self._ring, self._stamp = ring, stamp
        return ring

    def clear(self) -> None:
        with self._lock:
            self._ring, self._stamp = None, None


_RING = _RingCache()


def vault() -> KeyRing:
    """The current key ring (cheap: one ``stat`` of the key file)."""
    return _RING.get()


def reload_ring() -> None:
    """Forget the cached ring (tests that change settings; the key file's own changes are seen anyway)."""
    _RING.clear()
