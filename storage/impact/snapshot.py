"""Precomputed impact figures: pages read one row of ``impact_snapshot`` instead of aggregating the city.

A snapshot is recomputed when the audit trail has moved past its stamp (every change of an allocation,
delivery or donation is audited); while one request recomputes, the others keep reading the previous
snapshot. ``jitu impact refresh`` (or a scheduled job) refreshes all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from storage.impact.figures import dinsos_figures, public_figures
from storage.tables import AuditHead, ImpactSnapshot

BUILDERS: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
    "public": public_figures,
    "dinsos": dinsos_figures,
}
_locks: dict[str, asyncio.Lock] = {}
_memo: dict[str, tuple[str, dict[str, Any]]] = {}
"""Per process: the payload last read, so an unchanged snapshot is parsed once."""


async def _head() -> int:
    row = await AuditHead.select(AuditHead.last_id).first()
    return int(row["last_id"]) if row else 0


async def refresh(key: str) -> dict[str, Any]:
    stamp = await _head()
    payload = await BUILDERS[key]()
    payload["computed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps(payload)
    updated = await ImpactSnapshot.update({ImpactSnapshot.stamp: stamp, ImpactSnapshot.payload: text,
                                           ImpactSnapshot.computed_at: datetime.now(UTC)}).where(
        ImpactSnapshot.key == key).returning(ImpactSnapshot.key)
    if not updated:
        try:
            await ImpactSnapshot.insert(ImpactSnapshot(key=key, stamp=stamp, payload=text))
        except Exception:  # another process inserted it first: take our figures anyway
            await ImpactSnapshot.update({ImpactSnapshot.stamp: stamp, ImpactSnapshot.payload: text}).where(
                ImpactSnapshot.key == key)
    _memo.pop(key, None)
    return payload


async def refresh_all() -> None:
    for key in BUILDERS:
        await refresh(key)


async def figures(key: str) -> dict[str, Any]:
    """The snapshot ``key``; recomputed first when missing or when the audit trail has moved on since.

    One primary-key read per call; the JSON is parsed once per process per snapshot. While one request
    recomputes, concurrent ones are served the previous snapshot.
    """
    row = await ImpactSnapshot.select(ImpactSnapshot.stamp, ImpactSnapshot.computed_at).where(
        ImpactSnapshot.key == key).first()
    lock = _locks.setdefault(key, asyncio.Lock())
    if row is None:
        async with lock:
            return await refresh(key)
    stamp = int(row["stamp"])
    version = str(row["computed_at"])
    if not lock.locked() and await _head() != stamp:
        async with lock:
            return await refresh(key)
    memo = _memo.get(key)
    if memo and memo[0] == version:
        return memo[1]
    text = await ImpactSnapshot.select(ImpactSnapshot.payload).where(ImpactSnapshot.key == key).first()
    payload = json.loads(text["payload"]) if text else await refresh(key)
    _memo[key] = (version, payload)
    return payload


def forget() -> None:
    """Drop this process's copies (tests switch databases)."""
    _memo.clear()
