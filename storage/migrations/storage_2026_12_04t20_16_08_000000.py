"""Indexes for the referral list's counts at city scale (issue 9): ``/rujukan`` shows the referrals by
status and how many open ones are past their due date (``storage.referrals.service.counts``). With
``referral (status)`` and ``(office)`` alone the counts read the heap (a sequential scan of all 20,000
city-sized referrals, 6 ms, and more each year); ``(status, due_on)`` answers Dinsos's and the social
workers' bounded counts from the index alone, ``(office, status, due_on)`` an office's."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T20:16:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the referral list's counts"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Referral

        await Referral.raw("CREATE INDEX IF NOT EXISTS referral_status_due_on ON referral (status, due_on)")
        await Referral.raw("CREATE INDEX IF NOT EXISTS referral_office_status_due_on ON referral "
                           "(office, status, due_on)")

    manager.add_raw(run)
    return manager
