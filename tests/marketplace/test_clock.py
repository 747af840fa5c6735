"""Business dates are Bandung's (WIB, UTC+7): late in the UTC evening it is already tomorrow there."""

from datetime import UTC, date, datetime

import pytest

from marketplace import clock


@pytest.mark.parametrize(("utc", "local"), [
    (datetime(2026, 12, 3, 23, 30, tzinfo=UTC), date(2026, 12, 4)),
    (datetime(2026, 12, 3, 16, 59, 59, tzinfo=UTC), date(2026, 12, 3)),
    (datetime(2026, 12, 3, 17, 0, tzinfo=UTC), date(2026, 12, 4)),
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), date(2027, 1, 1)),
    (datetime(2026, 12, 3, 23, 30), date(2026, 12, 4)),  # naive: taken as UTC (SQLite's timestamps)
])
def test_the_local_date_of_an_instant(utc, local):
    assert clock.local_date(utc) == local


def test_today_is_bandungs_date(monkeypatch):
    monkeypatch.setattr(clock, "_utc_now", lambda: datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2026, 12, 4)
