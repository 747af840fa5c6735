"""Progress of background jobs, polled by progress bars."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from marketplace.vocabulary import Role
from portal.auth import ANY_ROLE, current_user
from storage.tables import Job


@get("/api/jobs/{job_id:int}", opt=ANY_ROLE, name="job_status")
async def job_status(request: Request[Any, Any, Any], job_id: FromPath[int]) -> dict[str, Any]:
    user = await current_user(request)
    row = await Job.select(Job.id, Job.kind, Job.status, Job.progress, Job.message, Job.result, Job.created_by).where(
        Job.id == job_id
    ).first()
    if row is None:
        raise NotFoundException("Pekerjaan tidak ditemukan")
    if user is None or (row["created_by"] != user.id and user.role != Role.DINSOS_ADMIN):
        raise PermissionDeniedException("Anda tidak berhak melihat pekerjaan ini")
    row.pop("created_by")
    return row


ROUTES = [job_status]
