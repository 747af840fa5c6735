"""Indexes for a donor's own donations at city scale (issue 9): ``/donasi-saya`` finds the account's donor
rows and their donations; without these it read all 20,000 donors and all 66,000 donations per request
(100 ms, 380 ms p95 under 20 donors) for a few hundred rows."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T02:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for a donor's donations"

BOTH = [
    "CREATE INDEX IF NOT EXISTS donor_account ON donor (account)",
    "CREATE INDEX IF NOT EXISTS donation_donor_id ON donation (donor, id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import Donation

        for sql in BOTH:
            await Donation.raw(sql)

    manager.add_raw(run)
    return manager
