"""Encryption at rest of NIK and No. KK: AES-256-GCM (confidentiality and integrity), keys derived
from the secret key with HKDF, one key per purpose. Lookups go through a keyed hash, never the plain value.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from marketplace.identity import lookup_hash
from marketplace.settings import get_settings


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jitu", info=purpose).derive(secret.encode())


@dataclass(frozen=True)
class IdentityVault:
    """Encrypts, decrypts and hashes personal identifiers with keys derived from one secret."""

    enc_key: bytes
    hash_key: bytes
    audit_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> IdentityVault:
        return cls(_derive(secret, b"identity-encryption"), _derive(secret, b"identity-lookup"),
                   _derive(secret, b"audit-chain"))

    def encrypt(self, plain: str, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + AESGCM(self.enc_key).encrypt(nonce, plain.encode(), context)).decode()

    def decrypt(self, token: str, context: bytes = b"") -> str:
        raw = base64.b64decode(token)
        return AESGCM(self.enc_key).decrypt(raw[:12], raw[12:], context).decode()

    def hash(self, number: str) -> str:
        return lookup_hash(number, self.hash_key)


@lru_cache(maxsize=1)
def vault() -> IdentityVault:
    return IdentityVault.from_secret(get_settings().resolved_secret_key())
