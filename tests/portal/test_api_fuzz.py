"""Schemathesis over the /api/v1 OpenAPI schema, against a real portal process, for each kind of caller
(an office token, an LKS token, no token): never a 5xx, and every response conforms to the schema
(status code documented, content type, body shape). Bounded: a fixed number of examples per operation."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storage.accounts import load_user
from storage.api.tokens import create_token
from storage.referrals import service
from tests.dbutil import make_account
from tests.portal.test_referral_pages import _verified_need
from tests.storage.test_delivery import approved_world

EXAMPLES = int(os.environ.get("JITU_FUZZ_EXAMPLES", "25"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("jitu")
    env = {**os.environ, "JITU_API_RATE_LIMIT": "100000"}
    return subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _fuzz(base: str, headers: dict[str, str]) -> list[str]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(base + "/api/v1/schema/openapi.json")
    failures: list[str] = []
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: object) -> None:
            response = case.call(base_url=base, headers=headers)  # type: ignore[attr-defined]
            case.validate_response(response, checks=checks)  # type: ignore[attr-defined]

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    return failures


@pytest.mark.parametrize("caller", ["office", "lks", "anonymous"])
async def test_api_fuzz_no_server_errors_and_responses_conform(db, caller):
    admin = await load_user(await make_account("dinsos_admin", "admin"))
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    need_id, _ = await _verified_need()
    await service.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis")
    world = await approved_world(2)
    headers: dict[str, str] = {}
    if caller == "office":
        headers = {"Authorization": "Bearer " + (await create_token(admin, "fuzz office", office_code="kesehatan"))[1]}
    elif caller == "lks":
        headers = {"Authorization": "Bearer " + (await create_token(admin, "fuzz lks", lks_id=world.lks_id))[1]}
    port = _free_port()
    proc = _serve(port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the portal did not start")
            await asyncio.sleep(0.2)
        failures = await asyncio.to_thread(_fuzz, base, headers)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert failures == [], "\n".join(failures) + "\n" + err.decode(errors="replace")[-3000:]
