"""Money is whole rupiah (int) everywhere; this is how it is written for people."""

from __future__ import annotations


def rupiah(amount: int | None) -> str:
    """``Rp 1.250.000``: Indonesian thousands separator; ``-`` when there is no amount."""
    if amount is None:
        return "-"
    return "Rp " + f"{int(amount):,}".replace(",", ".")
