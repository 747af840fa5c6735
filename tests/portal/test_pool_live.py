"""A real ``jitu serve`` with its asyncpg connection pool on (production's setting; the other tests run
without a pool) gives every connection back: every route of the route table is called by each role on
seeded demo data, and afterwards none of the server's connections is left in a transaction or busy, the
pool never grew past its size, and the server still answers at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.dbutil import live_login, make_account
from tests.portal.test_guards import ALL
from tests.portal.test_security_headers import _routes

POOL_SIZE = 10  # portal/app.py start_pool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _server_connections(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT state, left(query, 120) AS query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
    finally:
        await conn.close()
    return [(r["state"], r["query"]) for r in rows]


async def _forget_failed_logins(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM login_throttle")
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_pooled_server_gives_every_connection_back(db, tmp_path):
    dsn = os.environ["DATABASE_URL"]
    exe = Path(sys.executable).with_name("jitu")
    env = {**os.environ, "DB_POOL": "true", "JITU_MFA_REQUIRED_ROLES": "", "MATCH_TIME_LIMIT": "2"}
    subprocess.run([str(exe), "seed", "--scale", "demo", "--seed", "3"], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    for role in ALL:
        await make_account(role, f"pool-{role}")
    port, log_path = _free_port(), tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    slow: list[str] = []
    failed: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.3)
        for role in ALL:
            await _forget_failed_logins(dsn)  # the walk's empty forms count as failed attempts from this address
            with httpx.Client(base_url=base, timeout=20) as client:
                live_login(client, f"pool-{role}")
                token = client.cookies.get("jitu_csrf") or ""
                for method, path in _routes():
                    if path.startswith(("/keluar", "/masuk")):  # log-in throttling and log-out are not the point
                        continue
                    try:
                        if method == "GET":
                            response = client.get(path)
                        else:
                            response = client.request(method, path, data={"_csrf_token": token},
                                                      headers={"x-csrftoken": token})
                        if response.status_code >= 500:
                            failed.append(f"{role} {method} {path} -> {response.status_code}")
                    except httpx.TimeoutException:
                        slow.append(f"{role} {method} {path}")
        time.sleep(1.0)  # let responses still streaming finish
        held = [c for c in await _server_connections(dsn) if c[0] != "idle"]
        total = len(await _server_connections(dsn))
        started = time.monotonic()
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        answer_s = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert slow == [], slow
    assert failed == [], failed
    assert held == [], held
    assert total <= POOL_SIZE + 1  # the pool, and at most one connection of an in-process job
    assert answer_s < 2


@pytest.mark.postgres
async def test_a_connection_given_back_mid_transaction_is_rolled_back_by_the_light_reset(db):
    """The pools' reset (storage.engine.release_reset) skips asyncpg's full reset but still rolls back a
    transaction left open, so the next user of the connection never sees or inherits it."""
    from storage.engine import POOL_OPTIONS

    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=1, **POOL_OPTIONS)
    try:
        async with pool.acquire() as con:
            await con.execute("CREATE TABLE IF NOT EXISTS reset_probe (n int)")
        con = await pool.acquire()
        await con.execute("BEGIN")
        await con.execute("INSERT INTO reset_probe VALUES (1)")
        await pool.release(con)
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT count(*) FROM reset_probe") == 0
            await again.execute("DROP TABLE reset_probe")
    finally:
        await pool.close()
