"""The LKS's team (issue 14 item 2): who may do what inside one LKS, and the rules for changing it.

Every ``lks_staff`` account has a set of rights inside its LKS:

- ``admin``: manages the team (invites staff, sets their rights, deactivates and reactivates accounts);
- ``deliveries``: the matched households and recording deliveries (pages and ``/api/v1``);
- ``offers``: the LKS's offers of help;
- ``ledger``: the fund ledger (buku kas), donations received, bank transfers and campaigns.

The account that registered an LKS is its admin with every right. Rights are independent: an admin who
only manages the team need not see the ledger. An LKS always keeps at least one active admin, and an
admin never removes their own admin right (another admin does that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from marketplace.lks import MIN_PASSWORD, USERNAME_RE

ADMIN = "admin"
DELIVERIES = "deliveries"
OFFERS = "offers"
LEDGER = "ledger"
RIGHTS: dict[str, str] = {
    ADMIN: "Admin tim (mengundang staf, mengatur hak, menonaktifkan akun)",
    DELIVERIES: "Mencatat penyaluran (keluarga dampingan)",
    OFFERS: "Mengelola penawaran bantuan",
    LEDGER: "Melihat buku kas dan donasi",
}
"""Each right with its Indonesian label (English in ``portal/locales/lks_team.json``)."""
ALL_RIGHTS = frozenset(RIGHTS)
WORK_RIGHTS = frozenset({DELIVERIES, OFFERS, LEDGER})
"""The rights of a staff account made outside the team pages (``jitu user create``, demo accounts)
when its LKS already has an admin: what every LKS account could do before teams existed."""
API_RIGHTS = frozenset({DELIVERIES})
"""An LKS's API token (``/api/v1``) reads its households and records deliveries, nothing else."""

INVITE_LIFETIME = timedelta(days=3)
MAX_NAME = 120
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


NO_RIGHT = {
    ADMIN: "Hanya admin LKS yang dapat mengelola tim. Minta admin LKS Anda bila perlu.",
    DELIVERIES: "Anda tidak memiliki hak mencatat penyaluran. Minta admin LKS Anda untuk memberikannya.",
    OFFERS: "Anda tidak memiliki hak mengelola penawaran bantuan. Minta admin LKS Anda untuk memberikannya.",
    LEDGER: "Anda tidak memiliki hak melihat buku kas dan donasi. Minta admin LKS Anda untuk memberikannya.",
}
"""Why a staff member without the right is refused (Indonesian; English in ``portal/locales/lks_team.json``)."""


class TeamError(ValueError):
    """A user-caused problem with the team; the message is Indonesian."""


class RightMissing(PermissionError):
    """The acting staff member does not (or no longer) hold this right in their LKS: the use case refuses
    by itself, whatever route called it (the portal answers 403)."""

    def __init__(self, right: str) -> None:
        super().__init__(NO_RIGHT[right])
        self.right = right


@dataclass(frozen=True, slots=True)
class Member:
    """One account of the LKS as the rules see it."""

    account_id: int
    rights: frozenset[str]
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.active and ADMIN in self.rights


def parse_rights(values: Iterable[str]) -> frozenset[str]:
    """The rights ticked on a form; an unknown name is refused (never silently dropped)."""
    chosen = frozenset(str(v) for v in values)
    unknown = chosen - ALL_RIGHTS
    if unknown:
        raise TeamError("Hak akses tidak dikenal: " + ", ".join(sorted(unknown)))
    return chosen


def rights_label(rights: Iterable[str]) -> list[str]:
    return [RIGHTS[r] for r in RIGHTS if r in set(rights)]


def check_change(actor_id: int, team: Iterable[Member], target_id: int, *, rights: frozenset[str] | None = None,
                 active: bool | None = None) -> Member:
    """The member ``target_id`` after the change, or ``TeamError`` when the change is not allowed:
    the actor must be an active admin of the team, never takes away their own admin right, and the team
    keeps at least one active admin."""
    members = {m.account_id: m for m in team}
    actor = members.get(actor_id)
    if actor is None or not actor.is_admin:
        raise TeamError("Hanya admin LKS yang dapat mengubah tim.")
    target = members.get(target_id)
    if target is None:
        raise TeamError("Anggota tim tidak ditemukan.")
    after = Member(target_id, target.rights if rights is None else rights,
                   target.active if active is None else active)
    if target_id == actor_id and ADMIN not in after.rights:
        raise TeamError("Anda tidak dapat mencabut hak admin Anda sendiri. Minta admin lain untuk melakukannya.")
    if not any((after if m.account_id == target_id else m).is_admin for m in members.values()):
        if target_id == actor_id:
            raise TeamError("Anda adalah satu-satunya admin LKS ini: angkat admin lain dahulu sebelum "
                            "menonaktifkan akun Anda sendiri.")
        raise TeamError("LKS harus tetap memiliki paling sedikit satu admin yang aktif.")
    return after


def check_invite(email: str, full_name: str, rights: frozenset[str]) -> dict[str, str]:
    """Errors per field of the invite form (empty when it is fine). The e-mail is optional: without it
    the admin passes the one-time link on."""
    errors: dict[str, str] = {}
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        errors["email"] = "Alamat email tidak sah."
    if len(full_name) > MAX_NAME:
        errors["full_name"] = f"Nama paling banyak {MAX_NAME} karakter."
    if not rights:
        errors["rights"] = "Pilih paling sedikit satu hak akses untuk staf ini."
    return errors


def check_acceptance(full_name: str, username: str, password: str, confirm: str) -> dict[str, str]:
    """Errors per field of the invitee's form: their own name, username and password."""
    errors: dict[str, str] = {}
    if not full_name or len(full_name) > MAX_NAME:
        errors["full_name"] = f"Nama lengkap wajib diisi (paling banyak {MAX_NAME} karakter)."
    if not USERNAME_RE.match(username):
        errors["username"] = "Nama pengguna 3–80 karakter: huruf kecil, angka, titik, garis bawah, tanda hubung."
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Kata sandi paling sedikit {MIN_PASSWORD} karakter."
    elif len(password) > 1024:
        errors["password"] = "Kata sandi terlalu panjang (paling banyak 1.024 karakter)."  # noqa: S105
    elif password != confirm:
        errors["password"] = "Konfirmasi kata sandi tidak sama."  # noqa: S105 (a message)
    return errors


def invite_state(expires_at: datetime, used_at: datetime | None, revoked_at: datetime | None,
                 now: datetime, inviter_admin: bool = True) -> str:
    """``open``, ``used``, ``revoked``, ``lapsed`` or ``expired``: only an open invite can be accepted.

    ``inviter_admin``: the admin who made the invitation is still an active admin of the LKS. An
    invitation speaks for its admin; once they are deactivated or lose the admin right it has ``lapsed``
    (a team that removes a suspect admin need not hunt down the links they handed out)."""
    if used_at is not None:
        return "used"
    if not inviter_admin:
        return "lapsed"
    if revoked_at is not None:
        return "revoked"
    if now >= expires_at:
        return "expired"
    return "open"


INVITE_STATES = {"open": "Menunggu", "used": "Sudah dipakai", "revoked": "Dibatalkan", "expired": "Kedaluwarsa",
                 "lapsed": "Tidak berlaku (pengundang bukan admin lagi)"}
