"""Signed download links of the local-folder object store: ``/berkas/{key}?e=<deadline>&s=<signature>``.

The signature is the authorisation (``LocalObjectStore.check_signature``): links are issued only to
whoever may see the object and stop working at their deadline, so the route itself is public. With the
MinIO backend links point at the S3 server and this route answers 404.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from marketplace.ports import ObjectNotFound
from portal.auth import PUBLIC
from storage.objects import LocalObjectStore, make_object_store

_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    # a stored file is never a page: no scripts, no frames, even if one slipped through as HTML
    "Content-Security-Policy":
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}


@get("/berkas/{key:path}", opt=PUBLIC, name="signed_file")
async def signed_file(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[bytes]:
    key = key.lstrip("/")
    store = make_object_store()
    if not isinstance(store, LocalObjectStore):
        raise NotFoundException()
    try:
        deadline = int(request.query_params.get("e", ""))
    except ValueError:
        raise PermissionDeniedException("Tautan tidak sah atau sudah kedaluwarsa") from None
    token = str(request.query_params.get("s", ""))
    try:
        valid = store.check_signature(key, deadline, token)
    except ValueError:
        valid = False
    if not valid:
        raise PermissionDeniedException("Tautan tidak sah atau sudah kedaluwarsa")
    try:
        info = store.stat(key)
        data = store.get(key)
    except (ObjectNotFound, ValueError):
        raise NotFoundException() from None
    disposition = "inline" if info.content_type.startswith("image/") or info.content_type == "application/pdf" \
        else "attachment"
    return Response(data, media_type=info.content_type,
                    headers={**_HEADERS, "Content-Disposition": disposition})


ROUTES = [signed_file]
