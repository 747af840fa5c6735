"""No name, NIK or No. KK reaches the server's access log (ASVS 8.3.1): a real ``jitu serve`` process
on the test database, a browsing session of several roles that searches households by NIK, No. KK and
name, opens them and searches donors and assisted households; then the log is grepped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from storage.tables import Household
from tests.dbutil import live_login, make_account
from tests.portal.test_registry import KK, NIK, seed

NAME = "Budi Santoso"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _form(client: httpx.Client, path: str, **data: Any) -> httpx.Response:
    return client.post(path, data={**data, "_csrf_token": client.cookies.get("jitu_csrf")}, follow_redirects=True)


async def test_access_log_holds_no_name_nik_or_kk(db, tmp_path):
    await seed(tmp_path)
    household_id = (await Household.select(Household.id).first())["id"]
    for role in ("dinsos_admin", "pekerja_sosial", "lks_staff"):
        await make_account(role, f"log-{role}")
    port, log_path = _free_port(), tmp_path / "access.log"
    exe = Path(sys.executable).with_name("jitu")
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(exe), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.3)
        for role in ("dinsos_admin", "pekerja_sosial"):
            with httpx.Client(base_url=base, timeout=30) as client:
                live_login(client, f"log-{role}")
                for words in ({"nomor": NIK}, {"nomor": KK}, {"nama": NAME}, {"nama": "budi"}):
                    found = _form(client, "/registri/keluarga", **words)
                    assert found.status_code == 200 and NAME in found.text
                    assert "cari=" in str(found.url)
                    page2 = client.get(str(found.url) + "&hal=2")  # pagination keeps the search
                    assert page2.status_code == 200 and "cari=" in str(page2.url)
                assert client.get(f"/registri/keluarga/{household_id}").status_code == 200
                if role == "dinsos_admin":
                    assert _form(client, "/admin/donasi/transfer", q=NAME).status_code == 200
                    # a name typed into a query string by hand is not used as a search, nor logged
                    typed = client.get("/registri/keluarga", params={"nama": "zzz-tidak-ada", "hal": "1"})
                    assert typed.status_code == 200 and NAME in typed.text
                    client.get("/registri/keluarga", params={"nama": NAME, "nik": NIK})
        with httpx.Client(base_url=base, timeout=30) as client:
            live_login(client, "log-lks_staff")
            listing = _form(client, "/lks-saya/keluarga", q=NAME, status="approved")
            assert listing.status_code == 200 and "status=approved" in str(listing.url)
            assert client.get("/lks-saya/keluarga.xlsx?" + str(listing.url).split("?", 1)[1]).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
    text = log_path.read_text()
    assert "GET /registri/keluarga?cari=" in text  # the log is the access log, and saw the searches
    assert "GET /registri/keluarga?nama=…&nik=…" in text
    lowered = text.lower()
    for secret in (NIK, KK, NAME.lower(), "budi", "santoso"):
        assert secret.lower() not in lowered, secret
