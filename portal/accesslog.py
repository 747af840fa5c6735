"""The access log keeps paths and page numbers, never what someone typed into a query string.

Our own pages put no personal data in URLs (searches go by POST and a search id), but a hand-typed
or old link could (``?nama=...``), and signed file links carry a signature. So every query value is
replaced by ``…`` in the log except those known to be harmless (ASVS 8.3.1, 7.1.1).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, quote, urlsplit

SAFE_PARAMS = frozenset({
    "cari", "hal", "page", "status", "kelurahan", "kind", "round", "kecamatan", "priority", "period", "next",
    "tercatat", "e", "lang", "dari", "sampai", "action", "reason",
})


def redact(path: str) -> str:
    """``/x?nama=Budi&hal=2`` -> ``/x?nama=…&hal=2``."""
    parts = urlsplit(path)
    if not parts.query:
        return path
    pairs = [f"{quote(k)}={v if k in SAFE_PARAMS and v.isascii() and len(v) <= 40 else '…'}"
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return parts.path + "?" + "&".join(pairs)


class RedactQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install() -> None:
    """Adds the filter to uvicorn's access logger (once; after uvicorn has configured logging)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
