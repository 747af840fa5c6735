"""Precomputed impact figures: pages read one row of ``impact_snapshot`` instead of aggregating the city.

A snapshot is recomputed when the audit trail has moved past its stamp (every change of an allocation,
delivery or donation is audited); while one request recomputes, the others keep reading the previous
snapshot. ``jitu impact refresh`` (or a scheduled job) refreshes all.
"""

from __future__ import annotations

import asyncio
import json
import time
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
_cost: dict[str, float] = {}
"""Seconds the last recompute of each snapshot took in this process."""
_tasks: set[asyncio.Task[Any]] = set()
_refreshing: set[str] = set()

INLINE_LIMIT = 1.0
"""A stale snapshot that recomputes faster than this is recomputed before answering (small databases, tests);
a slower one (the city) is recomputed in the background while the previous figures are served, at most once
per ``BACKGROUND_EVERY`` seconds (or by ``jitu impact refresh`` from a job)."""
BACKGROUND_EVERY = 300.0
"""Per process: the payload last read, so an unchanged snapshot is parsed once."""


async def _head() -> int:
    row = await AuditHead.select(AuditHead.last_id).first()
    return int(row["last_id"]) if row else 0


async def refresh(key: str) -> dict[str, Any]:
    started = time.perf_counter()
    stamp = await _head()
    payload = await BUILDERS[key]()
    payload["computed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    payload["seconds"] = round(time.perf_counter() - started, 3)
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
    _cost[key] = time.perf_counter() - started
    return payload


async def _refresh_locked(key: str) -> None:
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        await refresh(key)


async def refresh_all() -> None:
    for key in BUILDERS:
        await refresh(key)


async def figures(key: str) -> dict[str, Any]:
    """The snapshot ``key``; recomputed first when missing or when the audit trail has moved on since.

    One primary-key read per call; the JSON is parsed once per process per snapshot. While one request
    recomputes, concurrent ones are served the previous snapshot; a slow recompute runs in the background.
    """
    row = await ImpactSnapshot.select(ImpactSnapshot.stamp, ImpactSnapshot.computed_at).where(
        ImpactSnapshot.key == key).first()
    lock = _locks.setdefault(key, asyncio.Lock())
    if row is None:
        async with lock:
            return await refresh(key)
    stamp = int(row["stamp"])
    version = str(row["computed_at"])
    memo = _memo.get(key)
    if memo and memo[0] == version:
        payload = memo[1]
    else:
        text = await ImpactSnapshot.select(ImpactSnapshot.payload).where(ImpactSnapshot.key == key).first()
        if text is None:
            async with lock:
                return await refresh(key)
        payload = json.loads(text["payload"])
        _memo[key] = (version, payload)
    if not lock.locked() and key not in _refreshing and await _head() != stamp:
        if _cost.get(key, float(payload.get("seconds", 0.0))) <= INLINE_LIMIT:
            async with lock:
                return await refresh(key)
        computed = row["computed_at"]
        computed = computed if computed.tzinfo else computed.replace(tzinfo=UTC)
        if (datetime.now(UTC) - computed).total_seconds() >= BACKGROUND_EVERY:
            _refreshing.add(key)
            task = asyncio.get_running_loop().create_task(_refresh_locked(key))
            _tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(_tasks.discard)
            task.add_done_callback(lambda _t: _refreshing.discard(key))
    return payload


def forget() -> None:
    """Drop this process's copies (tests switch databases)."""
    _memo.clear()
