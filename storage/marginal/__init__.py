"""The round's marginal values (where Rp 1 juta more helps most), kept with the round.

They are written next to the round's result in object storage (``…/marginal.json``, plain numbers from
``matching.marginal``) and read back for the latest round; a round without them (older rounds) gives
an empty list. Reads are cached per object key: a stored round never changes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from storage.objects import ObjectStore, make_object_store
from storage.tables import MatchingRound

NAME = "marginal.json"


def key_for(result_key: str) -> str:
    return f"{result_key.rsplit('/', 1)[0]}/{NAME}"


def put_marginal_values(store: ObjectStore, result_key: str, info: Any) -> None:
    """Store ``info["marginal_values"]`` of a solver result next to its result object."""
    values = list(info.get("marginal_values", [])) if isinstance(info, dict) or hasattr(info, "get") else []
    store.put(key_for(result_key), json.dumps(values).encode(), "application/json")


@lru_cache(maxsize=8)
def _load(key: str) -> tuple[dict[str, Any], ...]:
    store = make_object_store()
    if not store.exists(key):
        return ()
    return tuple(json.loads(store.get(key).decode()))


async def latest_marginal_values() -> tuple[str | None, list[dict[str, Any]]]:
    """(period, values) of the latest matching round; (None, []) before the first round."""
    rows = await MatchingRound.select(MatchingRound.period, MatchingRound.result_key).order_by(
        MatchingRound.id, ascending=False).limit(1)
    if not rows or not rows[0]["result_key"]:
        return None, []
    return str(rows[0]["period"]), list(_load(key_for(str(rows[0]["result_key"]))))
