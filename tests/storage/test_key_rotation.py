"""Key rotation (issue 13 item 5): a new key, NIK/No. KK re-encrypted and their lookup hashes re-keyed,
the audit chain re-chained, by a resumable job; look-ups and ``audit verify`` work before, during and
after; old keys dropped only once nothing needs them; a wrong or missing key says so."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from piccolo.engine import engine_finder

from marketplace import dtks
from marketplace.audit import AuditEvent as Event
from marketplace.identity import make_kk, make_nik
from marketplace.settings import get_settings
from storage import keys, registry
from storage.accounts import CurrentUser, load_user
from storage.audit import SQLITE_NO_UPDATE, verify
from storage.crypto import KeyRingError, key_of, reload_ring, vault
from storage.jobs import wait_for
from storage.logins import second_factor
from storage.objects import LocalObjectStore
from storage.registry_import import import_dtks
from storage.tables import AccountTotp, AuditEvent, Complaint, Household, KeyRotation, Member, ServiceRequest
from storage.uow import unit_of_work
from tests.dbutil import make_account

ROOT = Path(__file__).resolve().parents[2]
KEL = "32.73.03.1001"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADMIN = CurrentUser(1, "admin", "Admin", "dinsos_admin", None, None, "id")


def kk(n: int) -> str:
    return make_kk("32.73.03", date(2020, 1, 1), n)


def nik(n: int) -> str:
    return make_nik("32.73.03", date(1985, 3, 12), "L", n)


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """A key ring of this test's own (the session's SECRET_KEY is k0)."""
    path = tmp_path / "keys.json"
    monkeypatch.setenv("JITU_KEYS_FILE", str(path))
    get_settings.cache_clear()
    reload_ring()
    yield path
    monkeypatch.delenv("JITU_KEYS_FILE")
    get_settings.cache_clear()
    reload_ring()


def _dtks_csv(path: Path, households: int) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(dtks.TEMPLATE_HEADER)
        for i in range(1, households + 1):
            for j, rel in ((0, "kepala"), (1, "istri")):
                w.writerow([kk(i), nik(2 * i + j), f"Warga {i}-{j}", "1985-03-12", "L", rel, "", "Jl. A", "1", "2",
                            KEL, "2", "Tidak"])
    return path


async def _data(tmp_path: Path, households: int = 20) -> Path:
    """Households with NIK and No. KK through the real import, a request and a complaint with encrypted
    fields, and audit events."""
    path = _dtks_csv(tmp_path / "dtks.csv", households)
    report = await import_dtks(path, "tester")
    assert report.imported == households
    ring = vault()
    await ServiceRequest.insert(ServiceRequest(ticket_code="T-1", kelurahan_code=KEL,
                                               applicant_nik_cipher=ring.encrypt(nik(1))))
    await Complaint.insert(Complaint(ticket_code="C-1", category="lainnya", description="x",
                                     contact_cipher=ring.encrypt("0812-555")))
    account = await make_account("pekerja_sosial", "peksos2fa")  # TOTP optional for this role: set here
    await AccountTotp.insert(AccountTotp(account=account, secret=second_factor.seal(TOTP_SECRET, account)))
    async with unit_of_work() as uow:
        for i in range(12):
            await uow.record(Event("tester", "test.event", "thing", str(i), None, {"i": i}))
    return path


async def _found(number: str) -> int:
    rows, _ = await registry.search_households(ADMIN, number=number)
    return len(rows)


async def _all_ciphers() -> list[tuple[str, str]]:
    out = [("household", r["kk_cipher"]) for r in await Household.select(Household.kk_cipher)]
    out += [("member", r["nik_cipher"]) for r in await Member.select(Member.nik_cipher)]
    out += [("service_request", r["applicant_nik_cipher"]) for r in await ServiceRequest.select(
        ServiceRequest.applicant_nik_cipher)]
    out += [("complaint", r["contact_cipher"]) for r in await Complaint.select(Complaint.contact_cipher)]
    out += [("account_totp", r["secret"]) for r in await AccountTotp.select(AccountTotp.secret)]
    return [(table, c) for table, c in out if c]  # empty: no value (an anonymous complaint, a request without NIK)


async def _rotate(batch: int = 10) -> dict:
    _, job_id = await keys.start_rotation("tester", batch)
    row = await wait_for(job_id, timeout=60)
    assert row["status"] == "done", row["message"]
    return row


async def test_rotation_moves_every_ciphertext_hash_and_audit_event_under_the_new_key(db, key_file, tmp_path):
    await _data(tmp_path)
    before = {r["id"]: vault().decrypt(r["nik_cipher"]) for r in await Member.select()}
    assert all(key_of(c) == "k0" for _, c in await _all_ciphers())  # data from before rotation: no prefix

    await _rotate()

    ring = vault()
    assert ring.active_id == "k1" and sorted(ring.keys) == ["k0", "k1"]
    assert all(c.startswith("k1:") for _, c in await _all_ciphers())
    for m in await Member.select():
        plain = ring.decrypt(m["nik_cipher"])
        assert plain == before[m["id"]] and m["nik_hash"] == ring.keys["k1"].hash(plain)
    for h in await Household.select():
        assert h["kk_hash"] == ring.keys["k1"].hash(ring.decrypt(h["kk_cipher"]))
    assert ring.decrypt((await Complaint.select().first())["contact_cipher"]) == "0812-555"
    totp = await AccountTotp.select().first()  # bound to its account: still opens only with that context
    assert second_factor.unseal(totp["secret"], totp["account"]) == TOTP_SECRET
    with pytest.raises(KeyRingError):
        second_factor.unseal(totp["secret"], totp["account"] + 1)
    assert {r["key_id"] for r in await AuditEvent.select(AuditEvent.key_id)} == {"k1"}
    report = await verify()
    assert report.ok and report.checked == await AuditEvent.count()
    assert await _found(nik(7)) == 1 and await _found(kk(3)) == 1
    assert not any((await keys.leftovers("k1")).values())
    status = await keys.status()
    assert status["tables"]["member"] == (40, 40) and status["rotation"]["status"] == "done"
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert actions[-1] == "keys.rotated" and "keys.rotate" in actions


async def test_an_interrupted_rotation_keeps_lookups_and_the_chain_then_resumes(db, key_file, tmp_path):
    path = await _data(tmp_path)
    rotation_id = await _start_without_job()
    ring = vault()
    member = keys.TARGETS[1]
    assert await keys.rekey_batch(rotation_id, member, ring, 15) == 15  # members 1..15 now k1, the rest k0
    assert await keys.rechain_batch(rotation_id, ring, 5) == 5  # audit events 1..5 re-chained: a seam
    assert (await keys.current_seam()).after_id == 5

    # mid-way, nothing is unreadable or unfindable, and the chain verifies across the seam
    assert await _found(nik(2)) == 1 and await _found(nik(35)) == 1 and await _found(kk(18)) == 1
    assert (await verify()).ok
    async with unit_of_work() as uow:  # the portal keeps working: appended under the new key
        await uow.record(Event("tester", "test.during", "thing", "x"))
    assert (await verify()).ok
    again = await import_dtks(path, "tester")  # the same households again: found, not duplicated
    assert (again.imported, again.unchanged) == (0, 20)
    op = await load_user(await make_account("operator_kelurahan", "op"))
    for n in (1, 20):  # a request for a household still under k0 (kk 20) and one already under k1 (kk 1)
        applicant = registry.Applicant(kk(n), nik(2 * n), "Warga", date(1985, 3, 12), "L", KEL, "Jl. A")
        await registry.register_request(op, applicant, registry.NeedInput([24], "pangan", 100_000))
    assert await Household.count() == 20 and await Member.count() == 40

    rotation_id2, job2 = await keys.resume_rotation("tester", 10)
    assert rotation_id2 == rotation_id
    row = await wait_for(job2, timeout=60)
    assert row["status"] == "done", row["message"]
    assert all(c.startswith("k1:") for _, c in await _all_ciphers())
    assert {r["key_id"] for r in await AuditEvent.select(AuditEvent.key_id)} == {"k1"}
    assert await keys.current_seam() is None
    assert (await verify()).ok
    assert await _found(nik(2)) == 1 and await _found(nik(35)) == 1


async def _start_without_job() -> int:
    """``start_rotation``'s steps, with the job not run (so the test drives the batches itself)."""
    from storage.crypto import keys_path, new_key_entry, read_key_file, write_key_file

    kf = read_key_file(keys_path())
    kf.keys["k1"] = new_key_entry()
    kf.active = "k1"
    write_key_file(keys_path(), kf)
    rows = await KeyRotation.insert(KeyRotation(target_key="k1", state=keys._initial_state())).returning(
        KeyRotation.id)
    return int(rows[0]["id"])


async def test_retire_waits_for_the_rotation_then_old_data_is_still_readable(db, key_file, tmp_path):
    await _data(tmp_path, households=10)
    rotation_id = await _start_without_job()
    with pytest.raises(keys.RotationError, match="belum selesai"):
        await keys.retire_old_keys("tester")
    await keys.run_rotation(rotation_id, batch=4)
    assert await keys.retire_old_keys("tester") == ["k0"]

    ring = vault()
    assert sorted(ring.keys) == ["k1"]
    stored = json.loads(key_file.read_text())
    assert stored["retired"] == ["k0"] and list(stored["keys"]) == ["k1"]
    assert all(ring.decrypt(c) for table, c in await _all_ciphers() if table != "account_totp")
    totp = await AccountTotp.select().first()
    assert second_factor.unseal(totp["secret"], totp["account"]) == TOTP_SECRET
    assert await _found(nik(5)) == 1
    assert (await verify()).ok
    assert (await KeyRotation.select().first())["status"] == "retired"
    # a ciphertext of the retired key (say, from an old backup) names the key it lacks
    with pytest.raises(KeyRingError, match="Kunci k0 tidak ada"):
        ring.decrypt(ring.keys["k1"].encrypt("x").removeprefix("k1:"))
    # and a second rotation starts from k1
    await _rotate()
    assert vault().active_id == "k2" and (await verify()).ok


async def test_a_wrong_secret_key_is_named_and_changes_nothing(db, key_file, tmp_path, monkeypatch):
    await _data(tmp_path, households=3)
    monkeypatch.setenv("SECRET_KEY", "not-the-key-" + "y" * 32)
    get_settings.cache_clear()
    reload_ring()
    row = await Member.select().first()
    with pytest.raises(KeyRingError, match="kunci k0: kunci salah"):
        vault().decrypt(row["nik_cipher"])
    with pytest.raises(KeyRingError, match=r"household\.kk_cipher.*kunci salah"):
        await keys.start_rotation("tester")
    assert not key_file.exists() and await KeyRotation.count() == 0


async def test_a_missing_key_file_is_named(db, key_file, tmp_path):
    await _data(tmp_path, households=3)
    await _rotate()
    key_file.unlink()  # the ring falls back to k0 alone, but the data is under k1
    with pytest.raises(KeyRingError, match="Kunci k1 tidak ada di ring kunci"):
        vault().decrypt((await Member.select().first())["nik_cipher"])
    key_file.write_text("{not json")
    with pytest.raises(KeyRingError, match="tidak dapat dibaca"):
        vault()


async def test_a_broken_audit_chain_stops_the_rotation(db, key_file, tmp_path):
    await _data(tmp_path, households=3)
    await _tamper("UPDATE audit_event SET actor = 'someone' WHERE id = 4")
    rotation_id = await _start_without_job()
    with pytest.raises(keys.RotationError, match="peristiwa #4"):
        await keys.run_rotation(rotation_id, batch=3)
    # nothing from the broken row on was re-chained, so the tampering stays visible
    assert {r["key_id"] for r in await AuditEvent.select(AuditEvent.key_id).where(AuditEvent.id >= 4)} == {"k0"}
    report = await verify()
    assert not report.ok and report.first_bad_id == 4
    assert "peristiwa #4" in (await KeyRotation.select().first())["message"]


async def _tamper(sql: str) -> None:
    engine = engine_finder()
    if engine.engine_type == "postgres":
        await AuditEvent.raw("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        await AuditEvent.raw(sql)
        await AuditEvent.raw("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")
    else:
        await AuditEvent.raw("DROP TRIGGER audit_event_no_update")
        await AuditEvent.raw(sql)
        await AuditEvent.raw(SQLITE_NO_UPDATE)


async def test_audit_content_still_cannot_change_but_its_hash_columns_may(db):
    async with unit_of_work() as uow:
        await uow.record(Event("tester", "test.event", "thing", "1"))
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.after: {"x": 1}}).where(AuditEvent.id == 1)
    await AuditEvent.update({AuditEvent.key_id: "k0"}).where(AuditEvent.id == 1)


def test_download_links_signed_by_an_older_key_stay_valid_while_it_is_readable(tmp_path):
    old = LocalObjectStore(tmp_path, "old-secret")
    token = old.sign("a/b.jpg", 4_000_000_000)
    during = LocalObjectStore(tmp_path, "new-secret", older=("old-secret",))
    after = LocalObjectStore(tmp_path, "new-secret")
    assert during.check_signature("a/b.jpg", 4_000_000_000, token)
    assert not after.check_signature("a/b.jpg", 4_000_000_000, token)
    assert during.sign("a/b.jpg", 4_000_000_000) != token


@pytest.mark.postgres
async def test_a_rotation_killed_mid_way_resumes_to_the_end(db, key_file, tmp_path):
    """``jitu keys rotate`` as its own process, killed (SIGKILL) once it has committed some batches."""
    await _data(tmp_path, households=100)
    env = {**os.environ, "JITU_KEYS_FILE": str(key_file)}
    proc = subprocess.Popen([sys.executable, "-c", "from portal.cli import main; main()", "keys", "rotate",
                             "--batch", "10"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            row = await KeyRotation.select().first()
            state = keys._loads(row["state"]) if row else {}
            if state and state["tables"]["household"]["cursor"] > 0:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the rotation never started: " + proc.stderr.read().decode() if proc.poll() else "")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    reload_ring()
    leftover = await keys.leftovers("k1")
    assert leftover["household"] + leftover["member"] > 0, "killed too late to show a resume"
    assert (await verify()).ok and await _found(nik(199)) == 1 and await _found(kk(100)) == 1
    _, job_id = await keys.resume_rotation("tester", 50)
    row = await wait_for(job_id, timeout=60)
    assert row["status"] == "done", row["message"]
    assert not any((await keys.leftovers("k1")).values())
    assert (await verify()).ok and await _found(nik(199)) == 1 and await _found(kk(100)) == 1
