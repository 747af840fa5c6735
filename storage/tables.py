"""Piccolo tables: the whole data model. Money is whole rupiah (BigInt); goods are whole units.

Personal identifiers (NIK, No. KK) are kept only encrypted (``*_cipher``) beside a keyed hash
(``*_hash``) for exact lookups; see ``storage/crypto.py``.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Region(Table):
    code = Varchar(length=16, primary_key=True)
    name = Varchar(length=100)
    level = Varchar(length=10)  # kota | kecamatan | kelurahan
    parent_code = Varchar(length=16, null=True, default=None)


class Lks(Table, tablename="lks"):
    """A social welfare organisation (LKS / yayasan), registered and verified by Dinsos."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, index=True)
    legal_type = Varchar(length=20)  # yayasan | perkumpulan | csr
    deed_number = Varchar(length=100, default="")
    decree_number = Varchar(length=100, default="")
    dinsos_reg_number = Varchar(length=100, default="")
    address = Text(default="")
    kecamatan_code = Varchar(length=16, default="")
    contact_name = Varchar(length=120, default="")
    phone = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    bank_name = Varchar(length=100, default="")
    bank_account = Varchar(length=60, default="")
    ppks_served = JSON(default=[])
    areas = JSON(default=[])
    annual_budget = BigInt(default=0)
    """Declared own yearly budget (rupiah), besides donations received through jitu."""
    status = Varchar(length=12, default="applied", index=True)
    rejection_reason = Text(default="")
    verified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Office(Table):
    """A referral office (Dinkes, DP3A, ...): reference data seeded by ``jitu migrate``; Dinsos edits the
    service level. The codes are the domain's (``marketplace/referrals.py``)."""

    code = Varchar(length=16, primary_key=True)
    short_name = Varchar(length=24)
    name = Varchar(length=160)
    service_days = Integer(default=14)
    active = Boolean(default=True)


class Account(Table, tablename="account"):
    """A person who logs in. LKS staff belong to one LKS; a kelurahan operator to one kelurahan; office
    staff to one referral office. An API token acts through an account of its own (``ApiToken``)."""

    id = Serial(primary_key=True)
    username = Varchar(length=80, unique=True)
    password_hash = Varchar(length=255)
    full_name = Varchar(length=120, default="")
    email = Varchar(length=200, default="")
    role = Varchar(length=24, index=True)
    lks = ForeignKey(references=Lks, null=True, default=None)
    kelurahan_code = Varchar(length=16, null=True, default=None)
    office = ForeignKey(references=Office, null=True, default=None)
    active = Boolean(default=True)
    language = Varchar(length=2, default="id")
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="web_session"):
    """Server-side session data, so any app process can serve any request."""

    key = Varchar(length=128, primary_key=True)
    value = Text()
    expires_at = Timestamptz(null=True, default=None, index=True)


class AccountSession(Table, tablename="account_session"):
    """One logged-in session of an account, so the account can list and end its sessions (ASVS 3.3).

    ``sid`` is a random id kept inside the server-side session data, not the cookie value (the cookie
    changes at log-in and at every step up; this row does not). A session whose row is gone is ended.
    """

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    sid = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=200, default="")


class LoginThrottle(Table, tablename="login_throttle"):
    """Failed log-ins per account name and per client address: growing delays, then a lock (ASVS 2.2.1)."""

    id = Serial(primary_key=True)
    key = Varchar(length=160, unique=True)
    """``account:<username>`` or ``ip:<address>``."""
    failures = Integer(default=0)
    last_failure_at = Timestamptz(null=True, default=None)
    wait_until = Timestamptz(null=True, default=None)
    locked = Boolean(default=False, index=True)
    locked_at = Timestamptz(null=True, default=None)


class AccountTotp(Table, tablename="account_totp"):
    """An account's TOTP second factor (ASVS 2.8). The shared secret is encrypted with the vault
    (``storage/crypto.py``, bound to the account id); ``last_step`` is the 30-second step of the last
    code accepted, so no code is accepted twice (ASVS 2.8.4)."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, unique=True)
    secret = Text()
    last_step = BigInt(default=0)
    enrolled_at = Timestamptz(default=TimestamptzNow())


class RecoveryCode(Table, tablename="recovery_code"):
    """Single-use recovery codes of an account's second factor (ASVS 2.6), kept as argon2id hashes."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    code_hash = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())
    used_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """Append-only; chained by keyed hash (``marketplace/audit.py``)."""

    id = Serial(primary_key=True)
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=80)
    action = Varchar(length=60, index=True)
    entity = Varchar(length=40, index=True)
    entity_id = Varchar(length=64, index=True)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
    key_id = Varchar(length=8, default="k0")
    """The key whose audit key made ``hash`` (``storage/crypto.py``); events from before rotation: ``k0``."""


class AuditHead(Table, tablename="audit_head"):
    """One row: the newest event's id and hash, so deleting the newest events is detected."""

    id = Integer(primary_key=True)
    last_id = Integer(default=0)
    last_hash = Varchar(length=64)


class DataAccess(Table, tablename="data_access"):
    """Who read whose personal data, and when (UU 27/2022 Pasal 46); never the data itself."""

    id = Serial(primary_key=True)
    occurred_at = Timestamptz(default=TimestamptzNow(), index=True)
    account = ForeignKey(references=Account, null=True, default=None)
    username = Varchar(length=80)  # indexed with id, and with household_id and id (migrations)
    role = Varchar(length=24)
    household_id = Integer(index=True)
    purpose = Varchar(length=120)


class AccessReach(Table, tablename="access_reach"):
    """How many distinct households one account's access-log rows name, counted up to ``upto_id``.

    The DPO's Pasal 46 question ("whose data could this account read?") over half a million rows of one
    busy account is a 100 ms distinct count; the log only grows, so ``storage.access.households_read_by``
    keeps the figure here and adds only the households first named after ``upto_id``."""

    username = Varchar(length=80, unique=True)
    upto_id = Integer(default=0)
    households = Integer(default=0)


class Household(Table):
    """A DTKS household (KK): by name, by address; its problems are its needs."""

    id = Serial(primary_key=True)
    kk_cipher = Text()
    kk_hash = Varchar(length=64, unique=True)
    kelurahan_code = Varchar(length=16, index=True)
    address = Text(default="")
    rt = Varchar(length=3, default="")
    rw = Varchar(length=3, default="")
    phone = Varchar(length=40, default="")
    desil = Integer(default=10, index=True)
    extreme_poor = Boolean(default=False)
    """On the P3KE list of households in extreme poverty."""
    source = Varchar(length=12, default="dtks")  # dtks | dtsen | request | seed
    legal_basis = Varchar(length=12, default="public_task")  # public_task | consent
    consent_given_at = Timestamptz(null=True, default=None)
    consent_withdrawn_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Member(Table):
    id = Serial(primary_key=True)
    household = ForeignKey(references=Household, index=True)
    nik_cipher = Text()
    nik_hash = Varchar(length=64, unique=True)
    name = Varchar(length=120, index=True)
    birth_date = Date(index=True)
    """Indexed: the duplicate finder blocks on it (``storage/duplicates``)."""
    sex = Varchar(length=1)  # L | P
    relation = Varchar(length=20)  # kepala | istri | suami | anak | orang_tua | lainnya
    disability = Varchar(length=40, default="")


class ServiceRequest(Table, tablename="service_request"):
    """A request for help, followed by the requester with an unguessable ticket code."""

    id = Serial(primary_key=True)
    ticket_code = Varchar(length=24, unique=True)
    household = ForeignKey(references=Household, null=True, default=None)
    kelurahan_code = Varchar(length=16)
    channel = Varchar(length=20, default="puskesos")  # puskesos | pekerja_sosial | import | warga
    description = Text(default="")
    submitted_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=12, default="validated", index=True)
    """received (from the public form, awaiting the kelurahan) | validated | declined | withdrawn."""
    applicant_name = Varchar(length=120, default="")
    applicant_nik_cipher = Text(default="")
    applicant_birth_date = Date(null=True, default=None)
    applicant_sex = Varchar(length=1, default="")
    address = Text(default="")
    rt = Varchar(length=3, default="")
    rw = Varchar(length=3, default="")
    phone = Varchar(length=40, default="")
    ppks = Integer(null=True, default=None)
    kind = Varchar(length=16, default="")
    consent_version = Varchar(length=20, default="")
    """The version of the consent text the applicant agreed to (``marketplace/resident_requests.py``)."""
    consent_at = Timestamptz(null=True, default=None)
    consent_revoked_at = Timestamptz(null=True, default=None)
    validated_by = ForeignKey(references=Account, null=True, default=None)
    validated_at = Timestamptz(null=True, default=None)
    decline_reason = Text(default="")


class DuplicateDismissal(Table, tablename="duplicate_dismissal"):
    """An operator judged a registered person not to be the applicant of a request."""

    id = Serial(primary_key=True)
    request = ForeignKey(references=ServiceRequest, index=True)
    member = ForeignKey(references=Member)
    dismissed_by = ForeignKey(references=Account, null=True, default=None)
    dismissed_at = Timestamptz(default=TimestamptzNow())


class Need(Table):
    """A household's need by problem: PPKS type, intervention kind and amount; a status machine."""

    id = Serial(primary_key=True)
    household = ForeignKey(references=Household)  # indexed with status (migrations 2026-12-02T04:05, 12-06T23:20)
    request = ForeignKey(references=ServiceRequest, null=True, default=None)
    ppks = Integer(index=True)
    kind = Varchar(length=16, index=True)
    amount = BigInt()
    priority = Integer(default=0)
    status = Varchar(length=12, default="submitted")  # indexed with id (same migrations)
    notes = Text(default="")
    rejection_reason = Text(default="")
    referral_office = Varchar(length=40, default="")
    assessed_by = ForeignKey(references=Account, null=True, default=None)
    verified_by = ForeignKey(references=Account, null=True, default=None)
    submitted_at = Timestamptz(default=TimestamptzNow())
    verified_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    kelurahan_code = Varchar(length=16, default="")
    """The household's kelurahan, kept by the database (migration 2026-12-06T23:00): never written here."""


class NeedEvent(Table, tablename="need_event"):
    """A step of a need's status timeline, shown on the public tracking page (no personal data)."""

    id = Serial(primary_key=True)
    need = ForeignKey(references=Need, index=True)
    from_status = Varchar(length=12, default="")
    to_status = Varchar(length=12)
    public_note = Text(default="")
    occurred_at = Timestamptz(default=TimestamptzNow())


class EvidenceFile(Table, tablename="evidence_file"):
    id = Serial(primary_key=True)
    need = ForeignKey(references=Need, index=True)
    object_key = Varchar(length=255)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    uploaded_by = ForeignKey(references=Account, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class GovernmentProgram(Table, tablename="government_program"):
    """APBN/APBD programmes a household may already receive; Dinsos keeps the list."""

    code = Varchar(length=20, primary_key=True)
    name = Varchar(length=120)
    budget_source = Varchar(length=20)  # APBN | APBD | APBN/APBD
    kind = Varchar(length=16)
    desil_max = Integer(default=4)
    active = Boolean(default=True)


class GovernmentAid(Table, tablename="government_aid"):
    id = Serial(primary_key=True)
    household = ForeignKey(references=Household, index=True)
    program = ForeignKey(references=GovernmentProgram)
    kind = Varchar(length=16)
    period = Varchar(length=7, index=True)  # YYYY-MM
    amount = BigInt()


class LksDocument(Table, tablename="lks_document"):
    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    kind = Varchar(length=40)  # akta | sk_kemenkumham | tanda_daftar | lainnya
    object_key = Varchar(length=255)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Offer(Table):
    """Funds (rupiah) or goods (units) an LKS offers for a period, areas and PPKS types."""

    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    title = Varchar(length=200, default="")
    period = Varchar(length=7, index=True)
    kind = Varchar(length=16)
    is_goods = Boolean(default=False)
    unit = Varchar(length=60, default="")
    unit_value = BigInt(default=0)
    capacity = BigInt()
    remaining = BigInt()
    """Falls as allocations are approved; a CHECK keeps it >= 0 (see the migration)."""
    areas = JSON(default=[])
    ppks = JSON(default=[])
    max_per_need = BigInt(null=True, default=None)
    status = Varchar(length=12, default="draft", index=True)  # draft | published | closed
    created_at = Timestamptz(default=TimestamptzNow())


class Campaign(Table):
    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    slug = Varchar(length=120, unique=True)
    title = Varchar(length=200)
    description = Text(default="")
    target_amount = BigInt(default=0)
    kecamatan_code = Varchar(length=16, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Donor(Table):
    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, null=True, default=None)
    name = Varchar(length=120)
    email = Varchar(length=200, default="", index=True)
    anonymous = Boolean(default=False)


class Donation(Table):
    id = Serial(primary_key=True)
    donor = ForeignKey(references=Donor, null=True, default=None)
    lks = ForeignKey(references=Lks, index=True)
    campaign = ForeignKey(references=Campaign, null=True, default=None)
    amount = BigInt()
    currency = Varchar(length=3, default="IDR")
    method = Varchar(length=12)  # stripe | transfer
    status = Varchar(length=12, default="pending", index=True)
    stripe_session_id = Varchar(length=255, null=True, default=None, unique=True)
    stripe_payment_intent = Varchar(length=255, null=True, default=None, index=True)
    receipt_number = Varchar(length=40, null=True, default=None, unique=True)
    refunded_amount = BigInt(default=0)
    """What Stripe reports refunded so far (rupiah); kept even when the refund arrives before the payment."""
    transfer_proof_key = Varchar(length=255, default="")
    recorded_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)


class StripeEvent(Table, tablename="stripe_event"):
    """Stripe event ids already handled: a replayed event never counts twice."""

    event_id = Varchar(length=255, primary_key=True)
    type = Varchar(length=80)
    received_at = Timestamptz(default=TimestamptzNow())


class MatchingRound(Table, tablename="matching_round"):
    id = Serial(primary_key=True)
    period = Varchar(length=7, index=True)
    status = Varchar(length=12, default="queued", index=True)
    started_by = ForeignKey(references=Account, null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    instance_key = Varchar(length=255, default="")
    result_key = Varchar(length=255, default="")
    solver_status = Varchar(length=12, default="")
    objective = BigInt(default=0)
    bound = BigInt(default=0)
    seconds = JSON(default={})
    needs_count = Integer(default=0)
    offers_count = Integer(default=0)
    matched_count = Integer(default=0)
    message = Text(default="")


class Allocation(Table):
    id = Serial(primary_key=True)
    round = ForeignKey(references=MatchingRound)  # indexed with id, and for review (2026-12-02T03:40, 12-06T23:20)
    need = ForeignKey(references=Need, index=True)
    offer = ForeignKey(references=Offer, index=True)
    lks = ForeignKey(references=Lks, index=True)
    amount = BigInt()
    priority = Integer(default=0)
    status = Varchar(length=12, default="proposed", index=True)
    explanation = Text(default="")
    rejection_reason = Text(default="")
    decided_by = ForeignKey(references=Account, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    deliver_by = Date(null=True, default=None)


class UnmatchedNeed(Table, tablename="unmatched_need"):
    id = Serial(primary_key=True)
    round = ForeignKey(references=MatchingRound)  # indexed with reason (migrations 2026-12-02T04:05, 12-06T23:20)
    need = ForeignKey(references=Need, index=True)
    reason = Varchar(length=30)
    explanation = Text(default="")


class LedgerEntry(Table, tablename="ledger_entry"):
    """An LKS fund movement (signed rupiah); the balance is always the sum of the entries."""

    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    entry_type = Varchar(length=16)  # donation | allocation | refund | adjustment
    amount = BigInt()
    donation = ForeignKey(references=Donation, null=True, default=None)
    allocation = ForeignKey(references=Allocation, null=True, default=None)
    memo = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Delivery(Table):
    id = Serial(primary_key=True)
    allocation = ForeignKey(references=Allocation, unique=True)
    delivered_on = Date()
    what_given = Text()
    received_by = Varchar(length=120)
    recorded_by = ForeignKey(references=Account, null=True, default=None)
    recorded_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=12, default="recorded", index=True)  # recorded | confirmed | disputed
    decided_by = ForeignKey(references=Account, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    dispute_reason = Text(default="")
    requester_confirmed_at = Timestamptz(null=True, default=None)


class DeliveryPhoto(Table, tablename="delivery_photo"):
    id = Serial(primary_key=True)
    delivery = ForeignKey(references=Delivery, index=True)
    object_key = Varchar(length=255)
    """The re-encoded copy without location or other metadata: the only one others see."""
    content_type = Varchar(length=40)
    size = BigInt()
    width = Integer()
    height = Integer()


class Complaint(Table):
    """A complaint (pengaduan), named or anonymous, followed by its ticket; a status machine
    (``marketplace/complaints.py``)."""

    id = Serial(primary_key=True)
    ticket_code = Varchar(length=24, unique=True)
    category = Varchar(length=24, index=True)
    status = Varchar(length=12, default="filed", index=True)
    anonymous = Boolean(default=True)
    complainant_name = Varchar(length=120, default="")
    contact_cipher = Text(default="")
    """Phone or e-mail, encrypted; only Dinsos reads it."""
    description = Text()
    kelurahan_code = Varchar(length=16, default="")
    lks = ForeignKey(references=Lks, null=True, default=None, index=True)
    """The LKS the complaint names (counts in that LKS's record)."""
    delivery = ForeignKey(references=Delivery, null=True, default=None, index=True)
    household = ForeignKey(references=Household, null=True, default=None, index=True)
    assignee_kind = Varchar(length=8, default="")  # office | lks | dinsos
    assignee_office = Varchar(length=40, default="")
    assignee_lks = ForeignKey(references=Lks, null=True, default=None)
    assignee_note = Text(default="")
    """Dinsos's note to the office or LKS the complaint is passed to (internal, never public)."""
    assignee_answer = Text(default="")
    """What the office or LKS answered; the complainant sees it only once Dinsos closes the complaint."""
    assignee_answered_by = ForeignKey(references=Account, null=True, default=None)
    assignee_answered_at = Timestamptz(null=True, default=None)
    answer = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class ComplaintEvent(Table, tablename="complaint_event"):
    """A step of a complaint, shown to the complainant by ticket (never a name or contact)."""

    id = Serial(primary_key=True)
    complaint = ForeignKey(references=Complaint, index=True)
    from_status = Varchar(length=12, default="")
    to_status = Varchar(length=12)
    public_note = Text(default="")
    occurred_at = Timestamptz(default=TimestamptzNow())


class ComplaintFile(Table, tablename="complaint_file"):
    id = Serial(primary_key=True)
    complaint = ForeignKey(references=Complaint, index=True)
    object_key = Varchar(length=255)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Notification(Table):
    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, null=True, default=None, index=True)
    lks = ForeignKey(references=Lks, null=True, default=None, index=True)
    message = Text()
    link = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    kind = Varchar(length=24, default="", index=True)
    """``marketplace.reminders.Kind`` for the kinds a person may switch off; empty: always shown."""


class NotificationPreference(Table, tablename="notification_preference"):
    """What one person chose to receive, per kind (``marketplace.reminders.KINDS``); no row: everything."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    kind = Varchar(length=24)
    portal = Boolean(default=True)
    email = Boolean(default=True)


class ReminderSent(Table, tablename="reminder_sent"):
    """One row per reminder sent to one person: its unique key makes ``jitu reminders send`` idempotent."""

    id = Serial(primary_key=True)
    key = Varchar(length=200, unique=True)
    account = ForeignKey(references=Account, index=True)
    kind = Varchar(length=24)
    created_at = Timestamptz(default=TimestamptzNow())
    emailed_at = Timestamptz(null=True, default=None)
    email_attempts = Integer(default=0)
    """E-mails tried for this reminder: a failed one is tried again by the next run, up to a limit."""
    email_claimed_at = Timestamptz(null=True, default=None)
    """When a run last took this e-mail to send: an overlapping run leaves it alone for a while."""


class Referral(Table):
    """A need referred to an office: what is needed and why, and the least data the office may see."""

    id = Serial(primary_key=True)
    need = ForeignKey(references=Need, index=True)
    office = ForeignKey(references=Office, index=True)
    status = Varchar(length=16, default="sent", index=True)
    what_needed = Text()
    reason = Text()
    shared = JSON(default=[])
    """Personal data fields the office may see (``marketplace.referrals.SHAREABLE``)."""
    evidence = JSON(default=[])
    """Ids of the need's evidence files the office may open."""
    need_status_before = Varchar(length=12, default="verified")
    due_on = Date(index=True)
    created_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    info_asked_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    info_question = Text(default="")
    info_answer = Text(default="")
    outcome = Text(default="")
    resolution = Varchar(length=8, default="")
    return_reason = Text(default="")


class ReferralEvent(Table, tablename="referral_event"):
    """A step of a referral, for Dinsos and the office (``text`` is internal; the public note is a NeedEvent)."""

    id = Serial(primary_key=True)
    referral = ForeignKey(references=Referral, index=True)
    action = Varchar(length=16)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16)
    actor = Varchar(length=80)
    text = Text(default="")
    occurred_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_token"):
    """A token for another system, per office or per LKS. Only its SHA-256 is kept (shown once); it acts
    through a service account of its own, so every guard, access log and audit sees a named account."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    label = Varchar(length=120)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    office = ForeignKey(references=Office, null=True, default=None)
    lks = ForeignKey(references=Lks, null=True, default=None)
    created_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class Job(Table):
    """A background job (import, matching round): its progress is visible from any app process."""

    id = Serial(primary_key=True)
    kind = Varchar(length=40, index=True)
    status = Varchar(length=12, default="queued", index=True)
    progress = Integer(default=0)  # 0..100
    message = Text(default="")
    payload = JSON(default={})
    result = JSON(default={})
    created_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class KeyRotation(Table, tablename="key_rotation"):
    """One rotation to ``target_key`` (``storage/keys.py``): where its batches stand, so a rotation
    interrupted at any point resumes from its last committed batch."""

    id = Serial(primary_key=True)
    target_key = Varchar(length=8)
    status = Varchar(length=12, default="running", index=True)  # running | done | retired | failed
    state = JSON(default={})
    """Per table its cursor (last id done) and rows re-encrypted; for the audit chain the ``Seam``."""
    job = Integer(null=True, default=None)
    """The ``job`` row of the latest run (a resume starts a new one)."""
    message = Text(default="")
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class ImpactSnapshot(Table, tablename="impact_snapshot"):
    """Precomputed impact figures (public, donors, Dinsos) as JSON, so pages never aggregate the city per
    request; recomputed when the audit trail has moved past ``stamp`` (every state change is audited)."""

    key = Varchar(length=40, primary_key=True)
    stamp = BigInt(default=0)
    """The newest audit event id when computed."""
    payload = Text(default="{}")
    computed_at = Timestamptz(default=TimestamptzNow())


class LksReport(Table, tablename="lks_report"):
    """An LKS's periodic report: what it delivered, what not and why, its confirmed fund balance;
    Dinsos approves it, and approved reports are public on the LKS page and shown to its donors."""

    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    period = Varchar(length=7, index=True)
    delivered_summary = Text(default="")
    not_delivered = Text(default="")
    """What was not delivered, and why."""
    fund_balance = BigInt(default=0)
    balance_confirmed = Boolean(default=False)
    status = Varchar(length=12, default="submitted", index=True)  # submitted | approved | rejected
    submitted_by = ForeignKey(references=Account, null=True, default=None)
    submitted_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(references=Account, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")


class LksMember(Table, tablename="lks_member"):
    """An ``lks_staff`` account's rights inside its LKS (``marketplace/lks_team.py``): one boolean per
    right, named as the right. The registering account is the LKS's admin with every right."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, unique=True)
    lks = ForeignKey(references=Lks, index=True)
    admin = Boolean(default=False)
    deliveries = Boolean(default=False)
    offers = Boolean(default=False)
    ledger = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class LksInvite(Table, tablename="lks_invite"):
    """A one-time invitation into an LKS's team: only the SHA-256 of its random token is kept; single use,
    expiring; the rights it grants are set by the inviting admin."""

    id = Serial(primary_key=True)
    lks = ForeignKey(references=Lks, index=True)
    token_hash = Varchar(length=64, unique=True)
    email = Varchar(length=200, default="")
    full_name = Varchar(length=120, default="")
    admin = Boolean(default=False)
    deliveries = Boolean(default=False)
    offers = Boolean(default=False)
    ledger = Boolean(default=False)
    created_by = ForeignKey(references=Account, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    used_by = ForeignKey(references=Account, null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LksReportPhoto(Table, tablename="lks_report_photo"):
    """A photo of a periodic report: the re-encoded copy (no location or other metadata), like a delivery's."""

    id = Serial(primary_key=True)
    report = ForeignKey(references=LksReport, index=True)
    object_key = Varchar(length=255)
    content_type = Varchar(length=40)
    size = BigInt()
    width = Integer()
    height = Integer()


class ReportPolicy(Table, tablename="report_policy"):
    """Dinsos's rule for periodic reports (one row): the grace period after the due date before an LKS's
    new offers are paused, and the first period whose report is required. Edited at /admin/laporan-lks."""

    id = Serial(primary_key=True)
    grace_days = Integer(default=14)
    first_period = Varchar(length=7)
    updated_by = ForeignKey(references=Account, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES: list[type[Table]] = [
    Region, Lks, Office, Account, WebSession, AuditEvent, AuditHead, DataAccess, AccessReach, Household,
    Member, ServiceRequest, Need, NeedEvent, EvidenceFile, GovernmentProgram, GovernmentAid, LksDocument,
    Offer, Campaign, Donor, Donation, StripeEvent, MatchingRound, Allocation, UnmatchedNeed,
    LedgerEntry, Delivery, DeliveryPhoto, Notification, Job, ImpactSnapshot, LksReport, Referral, ReferralEvent,
    ApiToken, DuplicateDismissal, Complaint, ComplaintEvent, ComplaintFile, AccountSession, LoginThrottle,
    AccountTotp, RecoveryCode, KeyRotation, LksMember, LksInvite, LksReportPhoto, ReportPolicy,
    NotificationPreference, ReminderSent,
]
