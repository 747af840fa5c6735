"""The second factor's rules (issue 13, ASVS 2.5/2.6/2.8): who must have one, what a code looks like,
recovery codes, and the time steps a TOTP code may come from. Plain Python, no database.

TOTP itself (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, what every authenticator app speaks) is
computed by ``pyotp`` in ``storage/logins/second_factor.py``; here are only the decisions around it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from marketplace.vocabulary import Role

DEFAULT_REQUIRED = "dinsos_admin,dpo"
"""Roles that must log in with a second factor unless the setting says otherwise."""
ISSUER = "jitu Dinsos Bandung"
"""Shown by the authenticator app beside the account name."""
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
"""A code of the step before or after the current one is accepted too (clocks drift, people are slow)."""
RECOVERY_COUNT = 10
RECOVERY_GROUPS = 2
RECOVERY_GROUP_LENGTH = 5
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""31 letters and digits without the look-alikes (i, l, o, 0, 1): 10 of them carry about 49.5 bits."""
PENDING_SECONDS = 600
"""How long a password-checked session may wait for its second factor (or its enrolment)."""


class CodeKind(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"


def parse_required_roles(raw: str | Iterable[str]) -> frozenset[str]:
    """``"dinsos_admin, dpo"`` → the roles; empty → none. An unknown name is an error, not ignored:
    a typo must not switch the requirement off silently."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = {item.strip().lower() for item in items if item.strip()}
    unknown = names - {r.value for r in Role}
    if unknown:
        raise ValueError(f"Peran tidak dikenal dalam daftar wajib faktor kedua: {', '.join(sorted(unknown))}")
    return frozenset(names)


def required_for(role: str, required_roles: Iterable[str]) -> bool:
    return role in set(required_roles)


@dataclass(frozen=True, slots=True)
class SecondStep:
    """What log-in must do after a right password."""

    ask_code: bool
    """The account has a second factor: ask for a code before the session is authenticated."""
    enrol: bool
    """The account's role requires a second factor it does not have yet: enrol before anything else."""

    @property
    def needed(self) -> bool:
        return self.ask_code or self.enrol


def second_step(role: str, enrolled: bool, required_roles: Iterable[str]) -> SecondStep:
    return SecondStep(ask_code=enrolled, enrol=not enrolled and required_for(role, required_roles))


def may_disable(role: str, required_roles: Iterable[str]) -> bool:
    """Only an account whose role does not require a second factor may switch it off."""
    return not required_for(role, required_roles)


_TOTP = re.compile(r"^[0-9]{6}$")  # ASCII digits only (\d also takes other scripts' digits)


def normalise_code(raw: str) -> tuple[CodeKind, str] | None:
    """A typed code as the kind it is and its canonical form; None when it is neither shape.

    Spaces and dashes are ignored (apps show ``123 456``; recovery codes are printed ``abcde-fghij``),
    and recovery codes are not case-sensitive."""
    text = re.sub(r"[\s\-]", "", raw or "").lower()[:64]
    if _TOTP.match(text):
        return CodeKind.TOTP, text
    if len(text) == RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH and all(c in RECOVERY_ALPHABET for c in text):
        return CodeKind.RECOVERY, text
    return None


def new_recovery_codes(count: int = RECOVERY_COUNT) -> list[str]:
    """Fresh single-use codes, printed ``abcde-fghij`` (canonical form without the dash)."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(RECOVERY_ALPHABET)
                          for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH)))
    return sorted(codes)


def show_recovery_code(code: str) -> str:
    n = RECOVERY_GROUP_LENGTH
    return "-".join(code[i:i + n] for i in range(0, len(code), n))


def candidate_steps(now_step: int, last_used_step: int | None) -> list[int]:
    """The time steps whose code is accepted now, oldest first: the current one and ``DRIFT_STEPS``
    either side, but never a step at or before the last one used (ASVS 2.8.4: a code is used once)."""
    floor = -1 if last_used_step is None else last_used_step
    return [s for s in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1) if s > floor]


def replayed(matched_step: int, last_used_step: int | None) -> bool:
    """A right code from a step already used (someone saw it, or it was sent twice)."""
    return last_used_step is not None and matched_step <= last_used_step
