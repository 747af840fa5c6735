"""Loading synthetic data (``jitu seed``) and the demo accounts (``jitu demo-accounts``), on both engines."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from marketplace.synthetic import Dataset, generate
from portal.commands.seed import DEMO_KELURAHAN, ensure_demo_accounts, run_seed
from storage.bulk import load_dataset
from storage.crypto import vault
from storage.tables import Account, AuditEvent, GovernmentAid, Household, Lks, Member, Need, Offer

PERIOD = "2026-11"


def _expected(dataset: Dataset) -> dict[str, int]:
    counts = {"household": 0, "member": 0, "need": 0, "government_aid": 0}
    for chunk in dataset.chunks():
        counts["household"] += len(chunk.households)
        counts["member"] += len(chunk.members)
        counts["need"] += len(chunk.needs)
        counts["government_aid"] += len(chunk.aid)
    return {**counts, "lks": len(dataset.lks), "offer": len(dataset.offers)}


async def _table_counts() -> dict[str, int]:
    return {
        "household": await Household.count(), "member": await Member.count(), "need": await Need.count(),
        "government_aid": await GovernmentAid.count(), "lks": await Lks.count(), "offer": await Offer.count(),
    }


async def test_demo_scale_loads_encrypted_and_audited(db: None) -> None:
    dataset = generate("demo", 2026, PERIOD)
    expected = _expected(dataset)
    seen: list[int] = []
    report = await run_seed("demo", 2026, period=PERIOD, workers=0, progress=lambda done, total: seen.append(done),
                            history=False)
    assert report.counts == expected
    assert await _table_counts() == expected
    assert seen[-1] == 2_000 and seen == sorted(seen)
    assert await Household.count().where(Household.source != "seed") == 0

    # No plain NIK or No. KK anywhere in household or member rows.
    chunks = list(dataset.chunks())
    plain = {m.nik for c in chunks for m in c.members} | {h.kk for c in chunks for h in c.households}
    stored = " ".join(str(v) for row in await Member.select() + await Household.select() for v in row.values())
    assert not any(number in stored for number in plain)

    # Decryption round-trips, and the keyed hash finds the member.
    first = dataset.chunk(0)
    member = first.members[0]
    row = await Member.select().where(Member.nik_hash == vault().hash(member.nik)).first()
    assert row is not None and row["name"] == member.name and row["birth_date"] == member.birth_date
    assert vault().decrypt(row["nik_cipher"]) == member.nik
    household = await Household.select().where(Household.kk_hash == vault().hash(first.households[0].kk)).first()
    assert household is not None and vault().decrypt(household["kk_cipher"]) == first.households[0].kk
    assert row["household"] == household["id"]

    events = await AuditEvent.select().where(AuditEvent.action == "seed.load")
    assert len(events) == 1
    from storage.audit import verify

    assert (await verify()).ok

    # --if-empty adds nothing once households exist.
    assert await run_seed("demo", 99, if_empty=True, period=PERIOD, workers=0) is None
    assert await _table_counts() == expected


async def test_a_failed_load_leaves_nothing(db: None) -> None:
    await run_seed("demo", 5, period=PERIOD, workers=0)
    before = await _table_counts()
    events = await AuditEvent.count()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await run_seed("demo", 5, period=PERIOD, workers=0)  # the same NIK and No. KK again
    assert await _table_counts() == before
    assert await AuditEvent.count() == events


async def test_worker_processes_give_the_same_rows(db: None) -> None:
    dataset = generate(1_500, 3, PERIOD)
    report = await load_dataset(dataset, workers=1)
    assert report.counts == _expected(dataset)
    last = dataset.chunk(len(dataset.plan) - 1).members[-1]
    row = await Member.select(Member.name, Member.household).where(Member.nik_hash == vault().hash(last.nik)).first()
    assert row == {"name": last.name, "household": last.household_no}


async def test_demo_accounts_one_per_role_idempotent(db: None) -> None:
    await run_seed("demo", 2026, period=PERIOD, workers=0)
    first = await ensure_demo_accounts()
    assert [a.created for a in first] == [True] * 7
    again = await ensure_demo_accounts()
    assert [a.created for a in again] == [False] * 7
    rows = {r["username"]: r for r in await Account.select()}
    assert {u: r["role"] for u, r in rows.items()} == {
        "dinsos": "dinsos_admin", "peksos": "pekerja_sosial", "operator": "operator_kelurahan",
        "lks": "lks_staff", "donatur": "donor", "dpo": "dpo", "dinkes": "office_staff"}
    assert rows["operator"]["kelurahan_code"] == DEMO_KELURAHAN
    assert rows["dinkes"]["office"] == "kesehatan"
    lks = await Lks.select(Lks.id).where(Lks.status == "verified").order_by(Lks.id).first()
    assert rows["lks"]["lks"] == lks["id"]

    from portal.auth import verify_password

    assert verify_password(rows["dpo"]["password_hash"], "jitu-demo-2026")


async def test_demo_accounts_without_lks_skips_only_the_lks_account(db: None) -> None:
    accounts = await ensure_demo_accounts()
    assert [a.username for a in accounts if not a.created] == ["lks"]
    assert await Account.count() == 6


def test_commands_print_indonesian_lines(db: None) -> None:
    from portal.cli import cli

    runner = CliRunner()
    seeded = runner.invoke(cli, ["seed", "--scale", "demo", "--seed", "2026", "--if-empty", "--workers", "0"])
    assert seeded.exit_code == 0, seeded.output
    assert "330.573" not in seeded.output and "2.000 KK" in seeded.output
    skipped = runner.invoke(cli, ["seed", "--scale", "demo", "--seed", "2026", "--if-empty"])
    assert skipped.exit_code == 0 and "sudah ada" in skipped.output
    shown = runner.invoke(cli, ["demo-accounts"])
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if "http://127.0.0.1:8000/masuk" in line]
    assert len(lines) == 8  # the heading and one line per role
    assert "Rujukan demo: 5" in shown.output
    assert all("jitu-demo-2026" in line for line in lines)
