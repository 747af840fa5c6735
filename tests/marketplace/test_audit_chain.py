"""The audit chain's verification with a key per event and a rotation's seam (no database)."""

from datetime import UTC, datetime

from marketplace.audit import GENESIS, AuditEvent, Seam, StoredEvent, canonical, chain_hash, verify_chain

AT = datetime(2026, 12, 2, tzinfo=UTC)
KEYS = {"k0": b"0" * 32, "k1": b"1" * 32}


def chain(n: int, key_id: str, start: int = 1, prev: str = GENESIS) -> list[StoredEvent]:
    out = []
    for i in range(start, start + n):
        event = AuditEvent("tester", "test.event", "thing", str(i))
        digest = chain_hash(KEYS[key_id], prev, canonical(i, AT, event))
        out.append(StoredEvent(i, AT, event, prev, digest, key_id))
        prev = digest
    return out


def rechain(events: list[StoredEvent], upto: int) -> tuple[list[StoredEvent], Seam]:
    """What a rotation does to events 1..upto: re-chain them under k1; the rest keep their old links."""
    out, prev = [], GENESIS
    for e in events[:upto]:
        digest = chain_hash(KEYS["k1"], prev, canonical(e.id, e.occurred_at, e.event))
        out.append(StoredEvent(e.id, e.occurred_at, e.event, prev, digest, "k1"))
        prev = digest
    return out + events[upto:], Seam(upto, events[upto - 1].hash, prev)


def test_a_chain_half_re_chained_verifies_across_its_seam_only():
    old = chain(6, "k0")
    mixed, seam = rechain(old, 3)
    head = (6, old[-1].hash)
    assert verify_chain(KEYS, mixed, head, seam).ok
    report = verify_chain(KEYS, mixed, head)  # without the seam the link after event 3 is broken
    assert (report.ok, report.first_bad_id) == (False, 4)
    wrong = Seam(2, seam.old_hash, seam.new_hash)  # a seam in the wrong place does not help
    assert not verify_chain(KEYS, mixed, head, wrong).ok


def test_each_event_is_checked_under_its_own_key():
    events = chain(3, "k0")
    assert verify_chain(KEYS, events, (3, events[-1].hash)).ok
    report = verify_chain({"k1": KEYS["k1"]}, events, (3, events[-1].hash))
    assert (report.ok, report.first_bad_id) == (False, 1) and "k0" in report.problem
    relabelled = [StoredEvent(e.id, e.occurred_at, e.event, e.prev_hash, e.hash, "k1") for e in events]
    assert not verify_chain(KEYS, relabelled, (3, events[-1].hash)).ok
