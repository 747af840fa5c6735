"""The one settings object, read from the environment only.

Every default needs no server: SQLite and a local folder under ``./var``, offline payments,
in-process background jobs. Production sets ``DATABASE_URL=postgresql://…``, ``OBJECT_STORE=minio``
and the Stripe keys.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from marketplace.second_factor import DEFAULT_REQUIRED, parse_required_roles


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    var_dir: Path = Field(default=Path("var"), alias="JITU_VAR_DIR")
    database_url: str = ""
    """Empty means an SQLite file in ``var_dir``; ``postgresql://…`` switches to PostgreSQL."""
    secret_key: str = ""
    """The bootstrap key ``k0``: encrypts NIK/No. KK, keys their lookup hashes and the audit chain, signs CSRF
    tokens and download links until ``jitu keys rotate`` moves them to a newer key; generated and kept in
    var/ if absent."""
    keys_file: str = Field(default="", alias="JITU_KEYS_FILE")
    """The key ring's file (later keys, the active one, the retired ones); empty: ``var/keys.json``."""
    language: Literal["id", "en"] = Field(default="id", alias="JITU_LANGUAGE")

    object_store: Literal["local", "minio"] = "local"
    minio_endpoint: str = "127.0.0.1:9000"
    minio_access_key: str = ""
    minio_secret_key: str = ""
    minio_bucket: str = "jitu"
    minio_secure: bool = False
    minio_region: str = "us-east-1"

    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    """Only for tests against a local Stripe fake."""

    db_pool: bool = True
    """Keep a PostgreSQL connection pool in the web process (tests turn it off: their loops differ)."""

    redis_url: str = ""
    """Empty: background jobs run in-process; set: they go through a SAQ queue on Redis (``jitu worker``)."""
    job_queue: str = "jitu"
    """Name of the SAQ queue (its Redis keys start with ``saq:job:NAME``); tests use a unique one per run."""
    job_timeout: int = Field(default=3600, ge=10)
    """Seconds one job may run before it is stopped and marked failed."""
    job_attempts: int = Field(default=2, ge=1, le=10)
    """Attempts of a job whose worker died (or lost its Redis connection) before it is marked failed."""
    job_heartbeat: int = Field(default=60, ge=2)
    """A running job without a heartbeat for this many seconds is taken as lost (its worker died)."""
    job_sweep: int = Field(default=30, ge=1)
    """How often (seconds) a worker looks for jobs lost by dead workers."""
    job_concurrency: int = Field(default=2, ge=1, le=32)
    """Jobs one worker process runs at the same time."""
    selection_batch: int = Field(default=2000, ge=1, le=10_000)
    """Allocations per transaction when Dinsos decides a whole selection (``storage/decisions``)."""
    round_schedule: str = ""
    """Cron expression (UTC) for the automatic monthly matching round, e.g. ``0 1 1 * *``; empty: none."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "jitu@dinsos.bandung.go.id"

    report_due_days: int = Field(default=10, ge=0, le=90)
    """An LKS's periodic report is due this many days after its period (a month) ends."""
    reminder_schedule: str = "0 1 * * *"
    """Cron (UTC) of ``jitu worker``'s reminder run (``jitu reminders send``); empty: none."""

    api_rate_limit: int = Field(default=120, alias="JITU_API_RATE_LIMIT")
    """Requests per minute per API token."""
    household_cap: int = 2_000_000
    """The most all offers together give one household in a period (rupiah)."""
    match_time_limit: float = 50.0
    match_workers: int = 2
    match_seed: int = 0

    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = Field(default=False, alias="JITU_DEBUG")
    secure_cookies: bool = Field(default=False, alias="JITU_SECURE_COOKIES")
    """Older name of ``behind_https`` (kept so existing deployments keep their ``Secure`` cookies)."""
    behind_https_flag: bool = Field(default=False, alias="JITU_BEHIND_HTTPS")
    """The deployment is served over HTTPS (a TLS proxy in front): ``Secure`` cookies and HSTS."""

    mfa_required_roles_list: str = Field(default=DEFAULT_REQUIRED, alias="JITU_MFA_REQUIRED_ROLES")
    """Roles that must log in with a second factor (TOTP), comma-separated; empty: none (the demo only).
    Every other role may enrol one from its account page."""

    @field_validator("mfa_required_roles_list")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        parse_required_roles(value)  # an unknown role name stops the start, never weakens log-in silently
        return value

    @property
    def mfa_required_roles(self) -> frozenset[str]:
        return parse_required_roles(self.mfa_required_roles_list)

    @property
    def behind_https(self) -> bool:
        return self.behind_https_flag or self.secure_cookies

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.var_dir / "jitu.sqlite3"

    @property
    def object_dir(self) -> Path:
        return self.var_dir / "objects"

    def resolved_secret_key(self) -> str:
        """The secret key, generated once and kept in ``var/secret_key`` when the environment has none."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
