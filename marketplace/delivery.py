"""Delivery of an approved allocation, with proof, then its confirmation: the pure rules.

Allocation: approved → delivered (the LKS records it) → confirmed | disputed (Dinsos decides; a disputed
delivery can be confirmed once resolved). The requester may confirm receipt too, with their ticket code,
or report that it never arrived (disputed, with a complaint linked to the delivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.vocabulary import AllocationStatus

MIN_PHOTOS = 1
MAX_PHOTOS = 5
MAX_BACKDATE = timedelta(days=366)


class DeliveryError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class DeliveryInvalid(DeliveryError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class DeliveryStatus:
    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


@dataclass(frozen=True, slots=True)
class DeliveryInput:
    delivered_on: date
    what_given: str
    received_by: str


def parse_delivery(fields: dict[str, str], photo_count: int, today: date) -> DeliveryInput:
    """Validate the form; raise ``DeliveryInvalid`` with one Indonesian message per field."""
    errors: dict[str, str] = {}
    raw_date = fields.get("delivered_on", "").strip()
    delivered_on = today
    try:
        delivered_on = date.fromisoformat(raw_date)
    except ValueError:
        errors["delivered_on"] = "Tanggal penyaluran wajib diisi (format TTTT-BB-HH)."
    else:
        if delivered_on > today:
            errors["delivered_on"] = "Tanggal penyaluran tidak boleh di masa depan."
        elif delivered_on < today - MAX_BACKDATE:
            errors["delivered_on"] = "Tanggal penyaluran terlalu lama di masa lalu."
    what = fields.get("what_given", "").strip()
    if not 3 <= len(what) <= 2000:
        errors["what_given"] = "Jelaskan apa yang diberikan (3 sampai 2000 karakter)."
    who = fields.get("received_by", "").strip()
    if not 2 <= len(who) <= 120:
        errors["received_by"] = "Nama penerima wajib diisi (2 sampai 120 karakter)."
    if not MIN_PHOTOS <= photo_count <= MAX_PHOTOS:
        errors["photos"] = f"Lampirkan {MIN_PHOTOS} sampai {MAX_PHOTOS} foto bukti penyaluran."
    if errors:
        raise DeliveryInvalid(errors)
    return DeliveryInput(delivered_on, what, who)


def check_may_record(allocation_status: str, already_recorded: bool) -> None:
    if already_recorded or allocation_status in (AllocationStatus.DELIVERED, AllocationStatus.CONFIRMED,
                                                 AllocationStatus.DISPUTED):
        raise DeliveryError("Penyaluran untuk alokasi ini sudah dicatat.")
    if allocation_status != AllocationStatus.APPROVED:
        raise DeliveryError("Alokasi ini belum disetujui Dinas Sosial; penyaluran belum bisa dicatat.")


def decide(status: str, action: str, reason: str = "") -> tuple[str, str]:
    """Dinsos's decision on a recorded delivery → (new delivery status, cleaned reason)."""
    if action == "confirm":
        if status not in (DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED):
            raise DeliveryError("Penyaluran ini sudah dikonfirmasi.")
        return DeliveryStatus.CONFIRMED, ""
    if action == "dispute":
        if status != DeliveryStatus.RECORDED:
            raise DeliveryError("Hanya penyaluran yang baru dicatat yang dapat disanggah.")
        reason = reason.strip()
        if len(reason) < 5:
            raise DeliveryError("Alasan sanggahan wajib diisi (paling sedikit 5 karakter).")
        return DeliveryStatus.DISPUTED, reason[:1000]
    raise DeliveryError("Tindakan tidak dikenal.")


def requester_confirms(status: str) -> str:
    """The requester confirms receipt: a recorded delivery becomes confirmed; a disputed one keeps its
    status for Dinsos to resolve (the confirmation is recorded beside it)."""
    if status == DeliveryStatus.RECORDED:
        return DeliveryStatus.CONFIRMED
    return status


def requester_reports_missing(status: str) -> str:
    """The requester reports that a recorded delivery never arrived: it becomes disputed for Dinsos to
    resolve. A delivery already confirmed or disputed cannot be reported this way (a complaint can)."""
    if status == DeliveryStatus.RECORDED:
        return DeliveryStatus.DISPUTED
    if status == DeliveryStatus.DISPUTED:
        raise DeliveryError("Penyaluran ini sudah disanggah dan sedang diperiksa Dinas Sosial.")
    raise DeliveryError("Penyaluran ini sudah dikonfirmasi; sampaikan pengaduan bila ada masalah.")


def allocation_status_for(delivery_status: str) -> str:
    return {
        DeliveryStatus.RECORDED: AllocationStatus.DELIVERED,
        DeliveryStatus.CONFIRMED: AllocationStatus.CONFIRMED,
        DeliveryStatus.DISPUTED: AllocationStatus.DISPUTED,
    }[delivery_status]


def photo_key(lks_id: int, allocation_id: int, token: str, index: int) -> str:
    """Photos are kept per LKS and allocation, under an unguessable token."""
    return f"delivery/lks-{lks_id}/alloc-{allocation_id}/{token}-{index}.jpg"
