"""The city's calendar: business dates are Kota Bandung's local dates, in WIB (Asia/Jakarta).

Due dates, "overdue", reminders, report periods, "today" on a form and the date a list is printed are
days in Bandung. At 23:30 UTC it is already 06:30 the next day there, so the UTC date would call a
delivery due yesterday not yet late (and remind a day late). Instants stay in UTC (every timestamp in
the database); only the day an instant falls on is taken here. WIB is UTC+7 all year (Indonesia keeps
no daylight saving since 1964), so a fixed offset is exact and needs no time-zone database on the host.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def local_date(at: datetime) -> date:
    """The Bandung date of an instant (a naive one is taken as UTC, as SQLite hands timestamps back)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(WIB).date()


def today() -> date:
    """Today in Bandung."""
    return local_date(_utc_now())
