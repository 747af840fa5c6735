"""Indexes for the kelurahan desk of resident requests at city scale (issue 9): ``/puskesos/permohonan``
lists the requests of one status filed on the desk's channels (warga, puskesos) with a consent version,
of one kelurahan for its operator and of all for Dinsos, in id order, with a bounded count. With
``service_request (status)`` alone PostgreSQL walked the requests by id and skipped the other statuses
and kelurahan (23,000 of 60,000 city-sized requests for one kelurahan's 50, 8 ms; 290 ms p95 under load),
and counted through the heap. Two partial indexes under exactly the desk's filter
(``storage.resident_requests.received``) read the 50 and count from the index alone; requests filed by
a social worker (no consent version, never on the desk) are left out of them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T20:01:24:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the kelurahan desk of resident requests"

DESK = "WHERE channel IN ('warga', 'puskesos') AND consent_version <> ''"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="storage", description=DESCRIPTION)

    async def run() -> None:
        from storage.tables import ServiceRequest

        await ServiceRequest.raw("CREATE INDEX IF NOT EXISTS service_request_desk_kelurahan ON service_request "
                                 f"(kelurahan_code, status, id) {DESK}")
        await ServiceRequest.raw("CREATE INDEX IF NOT EXISTS service_request_desk ON service_request "
                                 f"(status, id) {DESK}")

    manager.add_raw(run)
    return manager
