"""The kelurahan desk of resident requests (``received``): one status, the desk's channels with a consent
version, the operator's kelurahan only (all for Dinsos), oldest first, keyset-paged and counted; the
partial indexes of migration 2026-12-04T20:01:24 exist under exactly that filter."""

from __future__ import annotations

from storage import resident_requests
from storage.accounts import load_user
from storage.tables import ServiceRequest
from tests.dbutil import make_account

OPERATOR_KELURAHAN = "32.73.03.1001"
OTHER_KELURAHAN = "32.73.03.1002"


async def _request(n: int, kelurahan: str, status: str = "received", channel: str = "warga",
                   consent: str = "2026-12-v1") -> int:
    rows = await ServiceRequest.insert(ServiceRequest(
        ticket_code=f"JITU-DESK{n:06d}", kelurahan_code=kelurahan, channel=channel, status=status,
        applicant_name=f"Pemohon {n}", consent_version=consent)).returning(ServiceRequest.id)
    return int(rows[0]["id"])


async def test_the_desk_lists_its_kelurahans_requests_of_one_status_by_key(db, monkeypatch):
    monkeypatch.setattr(resident_requests, "PAGE_SIZE", 2)
    mine = [await _request(n, OPERATOR_KELURAHAN) for n in range(3)]
    await _request(10, OTHER_KELURAHAN)
    await _request(11, OPERATOR_KELURAHAN, status="validated")
    await _request(12, OPERATOR_KELURAHAN, channel="pekerja_sosial", consent="")
    await _request(13, OPERATOR_KELURAHAN, consent="")
    operator = await load_user(await make_account("operator_kelurahan", "op", kelurahan_code=OPERATOR_KELURAHAN))
    dinsos = await load_user(await make_account("dinsos_admin", "dinsos"))

    first, total = await resident_requests.received(operator)
    assert [r["id"] for r in first] == mine[:2] and total == 3
    rest, _ = await resident_requests.received(operator, after=first[-1]["id"])
    assert [r["id"] for r in rest] == mine[2:]
    everyone, total = await resident_requests.received(dinsos)
    assert total == 4 and [r["id"] for r in everyone] == mine[:2]
    validated, total = await resident_requests.received(operator, "validated")
    assert total == 1 and validated[0]["kelurahan_code"] == OPERATOR_KELURAHAN


async def test_the_desk_indexes_exist(db):
    if ServiceRequest._meta.db.engine_type == "postgres":
        rows = await ServiceRequest.raw("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'service_request'")
    else:
        rows = await ServiceRequest.raw(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'service_request'")
    assert {"service_request_desk", "service_request_desk_kelurahan"} <= {r["name"] for r in rows}
