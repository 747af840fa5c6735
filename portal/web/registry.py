"""Registry pages: households (search, detail), needs (assessment, verification, rejection, referral),
requests from the kelurahan, DTKS and aid imports with progress, templates, government programmes.

NIK and No. KK are searched through POST forms only (never in a URL) and masked for every role but
``dinsos_admin``; every page that shows a household's personal data writes an access-log row.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from marketplace import dtks
from marketplace import needs as rules
from marketplace.needs import NeedError
from marketplace.regions import kelurahan, name_of
from marketplace.settings import get_settings
from marketplace.vocabulary import Kind, Role
from portal.auth import provide_user, roles
from portal.web import menu, searches
from portal.web.common import page, page_number, parse_page
from storage import registry
from storage import registry_import as imports
from storage.access import log_access
from storage.jobs import job_queue

STAFF = roles(Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL, Role.OPERATOR_KELURAHAN)
ASSESSORS = roles(Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL)
ADMIN = roles(Role.DINSOS_ADMIN)
REQUESTERS = roles(Role.DINSOS_ADMIN, Role.OPERATOR_KELURAHAN)
IMPORT_MAX_BODY = 1024 * 1024 * 1024
EVIDENCE_MAX_BODY = 40 * 1024 * 1024
NO_STORE = {"Cache-Control": "no-store"}

menu.add("/registri/keluarga", "Data keluarga (DTKS)", Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL, Role.OPERATOR_KELURAHAN)
menu.add("/registri/kebutuhan", "Kebutuhan per masalah", Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL,
         Role.OPERATOR_KELURAHAN)
menu.add("/registri/permohonan", "Daftarkan permohonan", Role.OPERATOR_KELURAHAN, Role.DINSOS_ADMIN)
menu.add("/registri/impor", "Impor DTKS / DTSEN dan bantuan", Role.DINSOS_ADMIN)
menu.add("/registri/program", "Program bantuan pemerintah", Role.DINSOS_ADMIN)


def _int(value: Any, default: int = 0) -> int:
    """A whole number from a form (``1.500.000`` allowed); the default when absent or beyond int8."""
    try:
        number = int(str(value).replace(".", "").strip())
    except (TypeError, ValueError):
        return default
    return number if abs(number) < 2**63 else default


def _kelurahan_options() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in kelurahan()]


@lru_cache(maxsize=256)
def _kelurahan_option_tags(selected: str) -> Markup:
    """The household list's 151 kelurahan ``<option>`` tags, escaped once per process and selected code
    instead of on every view (a tenth of the list's rendering). The kelurahan are the package's own
    reference data (``marketplace/data/bandung_wilayah.csv``, read once by ``all_regions``): they change
    only with a new release, which restarts the process, so there is nothing to invalidate. Any other
    code (a hand-typed ``?kelurahan=``) is at most one of 256 kept entries."""
    return Markup("").join(Markup('<option value="{}" {}>{}</option>').format(
        code, "selected" if code == selected else "", name) for code, name in _kelurahan_options())


# ------------------------------------------------------------------------------------------ households


async def _household_list(request: Request[Any, Any, Any], number: str, name: str, kel: str, page_no: int,
                          searched: bool) -> Template:
    user = await provide_user(request)
    rows, total = await registry.search_households(user, number=number, name=name, kelurahan=kel, page=page_no)
    await log_access(user, [r["id"] for r in rows], "daftar keluarga")
    return await page(request, "registry/households.html", rows=rows, total=total, page_no=page_no,
                      pages=max(1, -(-total // registry.PAGE_SIZE)), kel=kel, name=name, searched=searched,
                      query=searches.query_string(request, {"kelurahan": kel}),
                      kelurahan_option_tags=_kelurahan_option_tags(kel), name_of=name_of)


SEARCH_WORDS = ("nomor", "nama")


@get("/registri/keluarga", opt=STAFF, name="registry_households")
async def households(request: Request[Any, Any, Any]) -> Template:
    """The list, filtered by a search remembered under ``?cari=`` (see ``portal.web.searches``)."""
    found = searches.params(request, SEARCH_WORDS)
    number, name = found.get("nomor", ""), found.get("nama", "")
    return await _household_list(request, number, name, found.get("kelurahan", ""), parse_page(found.get("hal")),
                                 bool(number or name))


@post("/registri/keluarga", opt=STAFF, name="registry_households_search")
async def households_search(request: Request[Any, Any, Any]) -> Redirect:
    """Search by NIK / No. KK / name in the POST body, so they never appear in a URL or a log."""
    return await searches.redirect(request, "/registri/keluarga", SEARCH_WORDS, ("kelurahan",))


async def _household_page(request: Request[Any, Any, Any], household_id: int, status_code: int = 200,
                          error: str | None = None, message: str | None = None) -> Template:
    user = await provide_user(request)
    detail = await registry.household_detail(user, household_id)
    if detail is None:
        raise NotFoundException("Keluarga tidak ditemukan")
    await log_access(user, [household_id], "detail keluarga")
    return await page(request, "registry/household.html", status_code=status_code, error=error, message=message,
                      name_of=name_of, label=rules.label, kinds=[k.value for k in Kind],
                      offices=rules.REFERRAL_OFFICES, **detail)


@get("/registri/keluarga/{household_id:int}", opt=STAFF, name="registry_household")
async def household(request: Request[Any, Any, Any], household_id: FromPath[int]) -> Template:
    return await _household_page(request, household_id)


def _need_input(form: Any) -> registry.NeedInput:
    ppks = [_int(p) for p in form.getall("ppks", [])] if hasattr(form, "getall") else [_int(form.get("ppks"))]
    return registry.NeedInput([p for p in ppks if p], str(form.get("kind", "")), _int(form.get("amount")),
                              str(form.get("notes", ""))[:2000])


@post("/registri/keluarga/{household_id:int}/asesmen", opt=ASSESSORS, name="registry_assess",
      request_max_body_size=EVIDENCE_MAX_BODY)
async def assess(request: Request[Any, Any, Any], household_id: FromPath[int]) -> Template:
    user = await provide_user(request)
    form = await request.form()
    files: list[tuple[str, bytes]] = []
    for item in form.getall("evidence", []) if hasattr(form, "getall") else []:
        if isinstance(item, UploadFile) and item.filename:
            files.append((item.filename[:200], await item.read(registry.EVIDENCE_MAX + 1)))
    need_id = _int(form.get("need_id")) or None
    try:
        _, ticket = await registry.record_assessment(user, household_id, _need_input(form), files, need_id)
    except NeedError as exc:
        return await _household_page(request, household_id, 400, error=str(exc))
    return await _household_page(request, household_id, message=f"Asesmen tersimpan. Kode tiket: {ticket}")


# ------------------------------------------------------------------------------------------------ needs


@get("/registri/kebutuhan", opt=STAFF, name="registry_needs")
async def needs_list(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    status = request.query_params.get("status", "submitted")
    if status not in rules.STATUS_LABELS:
        status = "submitted"
    page_no = page_number(request, "hal")
    rows, total = await registry.needs_queue(user, status, page_no)
    return await page(request, "registry/needs.html", rows=rows, total=total, status=status, page_no=page_no,
                      pages=max(1, -(-total // registry.PAGE_SIZE)), statuses=rules.STATUS_LABELS,
                      label=rules.label, name_of=name_of)


_ACTION_ROLES = {
    "verified": {Role.DINSOS_ADMIN},
    "rejected": {Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL},
}
"""Referring goes through the referral form (``/kebutuhan/{id}/rujuk``), which opens a referral the office
answers; a bare status change to "referred" would leave the office with nothing to act on."""


@post("/registri/kebutuhan/{need_id:int}/status", opt=ASSESSORS, name="registry_need_status")
async def need_status(request: Request[Any, Any, Any], need_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    target = str(form.get("to", ""))
    household_id = _int(form.get("household_id"))
    try:
        if user.role not in _ACTION_ROLES.get(target, set()):
            raise NeedError("Anda tidak berhak melakukan perubahan status ini")
        await registry.transition_need(need_id, target, user, reason=str(form.get("reason", ""))[:500],
                                       office=str(form.get("office", "")), note=str(form.get("reason", ""))[:200])
    except NeedError as exc:
        if household_id:
            return await _household_page(request, household_id, 400, error=str(exc))
        raise ClientException(detail=str(exc)) from exc  # 400 with the refusal, never a 500
    return Redirect(path=f"/registri/keluarga/{household_id}" if household_id else "/registri/kebutuhan")


# --------------------------------------------------------------------------------------------- requests


@get("/registri/permohonan", opt=REQUESTERS, name="registry_request_form")
async def request_form(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    return await page(request, "registry/request.html", error=None, ticket=None, values={
        "kelurahan": user.kelurahan_code or ""}, kelurahan_options=_kelurahan_options(), kinds=[k.value for k in Kind])


@post("/registri/permohonan", opt=REQUESTERS, name="registry_request_submit")
async def request_submit(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("kk", "nik", "name", "birth_date", "sex", "kelurahan",
                                                           "address", "rt", "rw", "phone", "description")}
    if user.role == Role.OPERATOR_KELURAHAN:
        values["kelurahan"] = user.kelurahan_code or ""
    candidates: list[Any] = []
    try:
        try:
            birth = date.fromisoformat(values["birth_date"])
        except ValueError:
            raise NeedError("Tanggal lahir harus diisi (YYYY-MM-DD)") from None
        applicant = registry.Applicant(values["kk"], values["nik"], values["name"], birth, values["sex"].upper(),
                                       values["kelurahan"], values["address"], values["rt"][:3], values["rw"][:3],
                                       values["phone"][:40])
        candidates = [] if str(form.get("bukan_duplikat", "")) == "1" else await registry.possible_duplicates(
            applicant)
        if candidates:
            await log_access(user, [c.household_id for c in candidates], "calon duplikat keluarga baru")
            raise NeedError("Kemungkinan orang ini sudah terdaftar (lihat daftar di bawah). Buka keluarganya, atau "
                            "centang bahwa ini bukan orang yang sama lalu kirim lagi.")
        _, ticket = await registry.register_request(user, applicant, _need_input(form), values["description"][:2000])
    except NeedError as exc:
        values.pop("nik")
        values.pop("kk")
        return await page(request, "registry/request.html", status_code=400, error=str(exc), ticket=None,
                          values=values, kelurahan_options=_kelurahan_options(), kinds=[k.value for k in Kind],
                          candidates=candidates, name_of=name_of)
    return await page(request, "registry/request.html", error=None, ticket=ticket, values={},
                      kelurahan_options=_kelurahan_options(), kinds=[k.value for k in Kind])


# ---------------------------------------------------------------------------------------------- imports


@get("/registri/impor", opt=ADMIN, name="registry_import_form")
async def import_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "registry/import.html", error=None)


async def _start_import(request: Request[Any, Any, Any], kind: str) -> Template:
    user = await provide_user(request)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await page(request, "registry/import.html", status_code=400, error="Pilih berkas CSV atau XLSX.")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return await page(request, "registry/import.html", status_code=400, error="Berkas harus CSV atau XLSX.")
    folder = get_settings().var_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as out:
        await upload.seek(0)
        shutil.copyfileobj(upload.file, out)
    job_id = await job_queue().enqueue(kind, {"path": out.name, "actor": user.username}, created_by=user.id)
    return await page(request, "registry/job.html", job_id=job_id)


@post("/registri/impor/dtks", opt=ADMIN, name="registry_import_dtks", request_max_body_size=IMPORT_MAX_BODY)
async def import_dtks_upload(request: Request[Any, Any, Any]) -> Template:
    return await _start_import(request, "import_dtks")


@post("/registri/impor/bantuan", opt=ADMIN, name="registry_import_aid", request_max_body_size=IMPORT_MAX_BODY)
async def import_aid_upload(request: Request[Any, Any, Any]) -> Template:
    return await _start_import(request, "import_aid")


_TEMPLATES = {
    "dtks": (dtks.TEMPLATE_HEADER, imports.DTKS_EXAMPLE),
    "bantuan": (dtks.AID_TEMPLATE_HEADER, imports.AID_EXAMPLE),
}


@get("/registri/templat/{name:str}", opt=ADMIN, name="registry_template")
async def template_file(name: FromPath[str]) -> Response[bytes]:
    base, _, ext = name.partition(".")
    if base not in _TEMPLATES or ext not in ("csv", "xlsx"):
        raise NotFoundException("Templat tidak ada")
    header, example = _TEMPLATES[base]
    if ext == "csv":
        return Response(imports.template_csv(header, example), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="templat-{base}.csv"'})
    return Response(imports.template_xlsx(header, example),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="templat-{base}.xlsx"'})


# -------------------------------------------------------------------------------------------- programmes


async def _programs_page(request: Request[Any, Any, Any], status_code: int = 200, error: str | None = None) -> Template:
    return await page(request, "registry/programs.html", status_code=status_code, error=error,
                      programs=await registry.list_programs(), kinds=[k.value for k in Kind])


@get("/registri/program", opt=ADMIN, name="registry_programs")
async def programs(request: Request[Any, Any, Any]) -> Template:
    return await _programs_page(request)


@post("/registri/program", opt=ADMIN, name="registry_program_add")
async def program_add(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        await registry.save_program(user, str(form.get("code", "")), str(form.get("name", "")),
                                    str(form.get("budget_source", "APBN")), str(form.get("kind", "")),
                                    _int(form.get("desil_max"), 0))
    except NeedError as exc:
        return await _programs_page(request, 400, str(exc))
    return Redirect(path="/registri/program")


@post("/registri/program/{code:str}/aktif", opt=ADMIN, name="registry_program_active")
async def program_active(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    user = await provide_user(request)
    form = await request.form()
    if not await registry.set_program_active(user, code, str(form.get("active", "")) == "1"):
        raise NotFoundException("Program tidak ditemukan")
    return Redirect(path="/registri/program")


ROUTES = [households, households_search, household, assess, needs_list, need_status, request_form, request_submit,
          import_form, import_dtks_upload, import_aid_upload, template_file, programs, program_add, program_active]
