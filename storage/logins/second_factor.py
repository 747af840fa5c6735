"""The TOTP second factor and its recovery codes, kept (issue 13, ASVS 2.5, 2.6, 2.8).

- The shared secret (160 random bits, base32) is encrypted with the vault, bound to the account id
  (``storage/crypto.py``): a database dump alone does not give anyone's codes (ASVS 2.8.2).
- A code is accepted once: ``account_totp.last_step`` is moved forward by a conditional UPDATE, so two
  requests racing with one code cannot both win, and a code of a step at or before the last one used
  is refused as a replay, audited and notified (ASVS 2.8.4, 2.8.5).
- Recovery codes (10, about 49.5 bits each) are kept as argon2id hashes, each with its own salt, and
  spent by a conditional UPDATE too (ASVS 2.6.1–2.6.3).
- Every change is audited and notified to the account (ASVS 2.5.5): ``auth.mfa_enrol``,
  ``auth.mfa_disable``, ``auth.mfa_reset``, ``auth.recovery_regenerate``, ``auth.recovery_used``,
  ``auth.mfa_replay``. The log-in steps (``auth.mfa_ok``, ``auth.mfa_failed``) are audited by the portal.

Wrong codes are counted by the log-in throttle (``storage.logins``) like wrong passwords: the portal
calls ``check`` / ``record_failure`` around every code it verifies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.utils import strings_equal

from marketplace.audit import AuditEvent
from marketplace.second_factor import (
    ISSUER,
    RECOVERY_COUNT,
    STEP_SECONDS,
    CodeKind,
    candidate_steps,
    new_recovery_codes,
    normalise_code,
)
from storage.crypto import vault
from storage.tables import Account, AccountTotp, Notification, RecoveryCode
from storage.uow import unit_of_work

# A recovery code is random (~49.5 bits), not a password a person chose: argon2id at 8 MiB and one pass
# (~10 ms) puts a stolen hash out of reach (half the space is ~3·10¹² CPU-seconds a code), while checking a
# typed code against the 10 stored ones stays well under a second.
_codes = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


class Outcome(StrEnum):
    OK = "ok"
    RECOVERY = "recovery"
    REPLAY = "replay"
    WRONG = "wrong"

    @property
    def accepted(self) -> bool:
        return self in (Outcome.OK, Outcome.RECOVERY)


@dataclass(frozen=True, slots=True)
class Status:
    enrolled: bool
    enrolled_at: datetime | None = None
    codes_left: int = 0


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (from the QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _context(account_id: int) -> bytes:
    return f"totp:{account_id}".encode()


def seal(secret: str, account_id: int) -> str:
    return vault().encrypt(secret, _context(account_id))


def unseal(token: str, account_id: int) -> str:
    return vault().decrypt(token, _context(account_id))


def now_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def matching_step(secret: str, code: str, last_used_step: int | None, at: float | None = None) -> int | None:
    """The newest acceptable step whose code this is, or None (wrong, or already used)."""
    totp = pyotp.TOTP(secret)
    found = None
    for step in candidate_steps(now_step(at), last_used_step):
        if strings_equal(code, totp.generate_otp(step)):
            found = step
    return found


def confirms(secret: str, typed: str, at: float | None = None) -> int | None:
    """The step of a code typed to confirm a new secret (enrolment), or None."""
    shaped = normalise_code(typed)
    if shaped is None or shaped[0] is not CodeKind.TOTP:
        return None
    return matching_step(secret, shaped[1], None, at)


def _seen_before(secret: str, code: str, last_used_step: int, at: float | None = None) -> bool:
    """A right code of a step already used: a replay (someone saw it, or the form was sent twice)."""
    totp = pyotp.TOTP(secret)
    step = now_step(at)
    return any(strings_equal(code, totp.generate_otp(s)) for s in range(step - 1, step + 2) if s <= last_used_step)


async def status(account_id: int) -> Status:
    row = await AccountTotp.select(AccountTotp.enrolled_at).where(AccountTotp.account == account_id).first()
    if row is None:
        return Status(False)
    left = await RecoveryCode.count().where((RecoveryCode.account == account_id) & RecoveryCode.used_at.is_null())
    return Status(True, row["enrolled_at"], int(left))


async def is_enrolled(account_id: int) -> bool:
    return bool(await AccountTotp.exists().where(AccountTotp.account == account_id))


async def _notify(account_id: int, message: str) -> None:
    await Notification.insert(Notification(account=account_id, message=message, link="/akun/faktor-kedua"))


async def _replace_codes(account_id: int, count: int) -> list[str]:
    await RecoveryCode.delete().where(RecoveryCode.account == account_id)
    codes = new_recovery_codes(count) if count else []
    if codes:
        await RecoveryCode.insert(*[RecoveryCode(account=account_id, code_hash=_codes.hash(c)) for c in codes])
    return codes


async def enrol(actor: str, account_id: int, secret: str, step: int, *,
                recovery_codes: int = RECOVERY_COUNT) -> list[str]:
    """Keeps a confirmed secret (``step``: the step of the code that confirmed it, now used) and a
    fresh set of recovery codes, replacing any earlier factor. Returns the codes, to be shown once."""
    async with unit_of_work() as uow:
        replaced = await AccountTotp.delete().where(AccountTotp.account == account_id).returning(AccountTotp.id)
        await AccountTotp.insert(AccountTotp(account=account_id, secret=seal(secret, account_id), last_step=step))
        codes = await _replace_codes(account_id, recovery_codes)
        await uow.record(AuditEvent(actor, "auth.mfa_enrol", "account", str(account_id), None,
                                    {"method": "totp", "replaced": bool(replaced), "recovery_codes": len(codes)}))
        await _notify(account_id, "Faktor kedua (aplikasi autentikator) dipasang pada akun Anda. Bila bukan "
                                  "Anda yang memasangnya, hubungi admin Dinas Sosial segera.")
    return codes


async def verify(actor: str, account_id: int, typed: str, at: float | None = None) -> Outcome:
    """Checks a 6-digit code or a recovery code and spends it; a replay and a spent recovery code
    are audited here (the caller audits the overall success or failure and feeds the throttle)."""
    row = await AccountTotp.select(AccountTotp.secret, AccountTotp.last_step).where(
        AccountTotp.account == account_id).first()
    shaped = normalise_code(typed)
    if row is None or shaped is None:
        return Outcome.WRONG
    kind, code = shaped
    if kind is CodeKind.RECOVERY:
        return Outcome.RECOVERY if await _spend_recovery(actor, account_id, code) else Outcome.WRONG
    secret, last = unseal(row["secret"], account_id), int(row["last_step"])
    step = matching_step(secret, code, last, at)
    if step is not None:
        moved = await AccountTotp.update({AccountTotp.last_step: step}).where(
            (AccountTotp.account == account_id) & (AccountTotp.last_step < step)).returning(AccountTotp.id)
        if moved:
            return Outcome.OK
    elif not _seen_before(secret, code, last, at):
        return Outcome.WRONG
    async with unit_of_work() as uow:  # the code was right but already used
        await uow.record(AuditEvent(actor, "auth.mfa_replay", "account", str(account_id)))
        await _notify(account_id, "Kode faktor kedua yang sudah dipakai dikirim lagi untuk akun Anda dan "
                                  "ditolak. Bila bukan Anda, ganti kata sandi dan hubungi admin Dinas Sosial.")
    return Outcome.REPLAY


async def _spend_recovery(actor: str, account_id: int, code: str) -> bool:
    rows = await RecoveryCode.select(RecoveryCode.id, RecoveryCode.code_hash).where(
        (RecoveryCode.account == account_id) & RecoveryCode.used_at.is_null())
    for row in rows:
        try:
            _codes.verify(row["code_hash"], code)
        except (VerificationError, InvalidHashError):
            continue
        async with unit_of_work() as uow:
            spent = await RecoveryCode.update({RecoveryCode.used_at: datetime.now(UTC)}).where(
                (RecoveryCode.id == row["id"]) & RecoveryCode.used_at.is_null()).returning(RecoveryCode.id)
            if not spent:  # another request spent it a moment ago
                return False
            left = await RecoveryCode.count().where(
                (RecoveryCode.account == account_id) & RecoveryCode.used_at.is_null())
            await uow.record(AuditEvent(actor, "auth.recovery_used", "account", str(account_id), None,
                                        {"codes_left": int(left)}))
            await _notify(account_id, f"Satu kode pemulihan dipakai untuk masuk ke akun Anda; tersisa {left}. "
                                      "Bila bukan Anda, hubungi admin Dinas Sosial segera.")
        return True
    return False


async def regenerate_codes(actor: str, account_id: int) -> list[str]:
    async with unit_of_work() as uow:
        codes = await _replace_codes(account_id, RECOVERY_COUNT)
        await uow.record(AuditEvent(actor, "auth.recovery_regenerate", "account", str(account_id), None,
                                    {"recovery_codes": len(codes)}))
        await _notify(account_id, "Kode pemulihan akun Anda diganti; kode yang lama tidak berlaku lagi.")
    return codes


async def _remove(account_id: int) -> bool:
    gone = await AccountTotp.delete().where(AccountTotp.account == account_id).returning(AccountTotp.id)
    await RecoveryCode.delete().where(RecoveryCode.account == account_id)
    return bool(gone)


async def disable(actor: str, account_id: int) -> bool:
    """The account switches its own second factor off (the portal has checked password and code)."""
    async with unit_of_work() as uow:
        if not await _remove(account_id):
            return False
        await uow.record(AuditEvent(actor, "auth.mfa_disable", "account", str(account_id), {"method": "totp"}, None))
        await _notify(account_id, "Faktor kedua akun Anda dimatikan. Bila bukan Anda, hubungi admin Dinas Sosial.")
    return True


async def reset(actor: str, account_id: int, reason: str) -> bool:
    """A Dinsos admin (or ``jitu user reset-mfa``) removes a lost factor: the account enrols again at its
    next log-in if its role requires one. The caller ends the account's sessions."""
    async with unit_of_work() as uow:
        if not await _remove(account_id):
            return False
        await uow.record(AuditEvent(actor, "auth.mfa_reset", "account", str(account_id), {"method": "totp"},
                                    {"reason": reason[:300]}))
        await _notify(account_id, "Faktor kedua akun Anda dihapus oleh admin Dinas Sosial (mis. ponsel hilang). "
                                  "Pasang lagi saat masuk berikutnya.")
    return True


async def enrolled_accounts(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Accounts with a second factor, by user name (for the Dinsos admin's reset page)."""
    total = await AccountTotp.count()
    rows = await AccountTotp.select(
        AccountTotp.account.id.as_alias("account_id"), AccountTotp.account.username.as_alias("username"),
        AccountTotp.account.role.as_alias("role"), AccountTotp.enrolled_at,
    ).order_by(AccountTotp.account.username).offset(offset).limit(limit)
    return rows, int(total)


async def missing_required(required_roles: frozenset[str]) -> list[dict[str, Any]]:
    """Active accounts of a required role without a second factor yet (they enrol at next log-in)."""
    if not required_roles:
        return []
    have = {r["account"] for r in await AccountTotp.select(AccountTotp.account)}
    rows = await Account.select(Account.id, Account.username, Account.role).where(
        Account.role.is_in(sorted(required_roles)) & (Account.active == True)  # noqa: E712
    ).order_by(Account.username).limit(2000)
    return [r for r in rows if r["id"] not in have][:500]
