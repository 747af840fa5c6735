"""The audit trail: append-only events chained by keyed hash.

Each event's hash covers its own fields and the previous event's hash, keyed with the secret key, so
editing, deleting or re-ordering a row breaks the chain at that row, and nobody without the key can
forge a consistent chain. The chain head is also kept apart so that deleting the newest rows shows.

Keys rotate (``storage/keys.py``): each event names the key that hashed it (``key_id``), and a rotation
re-chains the events under the new key in batches, oldest first, after checking each under its old key.
Between two batches the chain has one seam: the first event not yet re-chained still links to the old
hash of the event before it. The rotation records that seam (``Seam``) and verification crosses it
there and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    occurred_at: datetime | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def canonical(event_id: int, occurred_at: datetime, event: AuditEvent) -> bytes:
    """A byte string that changes whenever any field of the event changes."""
    body = {
        "id": event_id,
        "at": occurred_at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()


def chain_hash(key: bytes, prev_hash: str, payload: bytes) -> str:
    return hmac.new(key, prev_hash.encode() + payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    occurred_at: datetime
    event: AuditEvent
    prev_hash: str
    hash: str
    key_id: str = "k0"


@dataclass(frozen=True, slots=True)
class Seam:
    """Where a rotation's re-chaining stands: events up to ``after_id`` are re-chained and the last of them
    hashes to ``new_hash``; the next event still links to ``old_hash``, that event's hash before."""

    after_id: int
    old_hash: str
    new_hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


def verify_chain(keys: bytes | Mapping[str, bytes], events: Iterable[StoredEvent], head: tuple[int, str] | None,
                 seam: Seam | None = None) -> ChainReport:
    """Walk events in id order; name the first row whose link or hash is wrong.

    ``keys``: one key for every event, or the audit key of each key id."""
    prev = GENESIS
    checked = 0
    last_id = 0
    for stored in events:
        if seam is not None and last_id <= seam.after_id < stored.id:
            if prev != seam.new_hash:
                return ChainReport(False, checked, last_id or stored.id, "isi baris diubah (sambungan rotasi kunci)")
            prev = seam.old_hash
        if stored.prev_hash != prev:
            return ChainReport(False, checked, stored.id, "rantai terputus: baris sebelumnya diubah atau dihapus")
        key = keys if isinstance(keys, bytes) else keys.get(stored.key_id)
        if key is None:
            return ChainReport(False, checked, stored.id,
                               f"kunci {stored.key_id} yang meng-hash baris ini tidak ada di ring kunci")
        expected = chain_hash(key, prev, canonical(stored.id, stored.occurred_at, stored.event))
        if not hmac.compare_digest(expected, stored.hash):
            return ChainReport(False, checked, stored.id, "isi baris diubah")
        prev = stored.hash
        last_id = stored.id
        checked += 1
    if head is not None and (head[0] != last_id or head[1] != prev):
        return ChainReport(False, checked, head[0], "baris terakhir dihapus (kepala rantai tidak cocok)")
    return ChainReport(True, checked)


class AuditLog(Protocol):
    """Port: append an event inside the caller's transaction."""

    async def record(self, event: AuditEvent) -> None: ...
