"""Settings, read once from the environment and `.env`.

The environment variable names are a contract with deployments and other
issues: rename nothing without a migration note in the README.
"""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
# The local development server (`make run` creates the database when it is missing).
DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium"
DEFAULT_SECRET_KEY = "change-me-dev-secret-key-not-for-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32
# Every request body, webhooks included; refused past it, before anything parses it.
MAX_BODY_BYTES = 1024 * 1024


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(RuntimeError):
    """Raised at start-up; its message names the problem, never a value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    environment: Environment = Environment.DEV
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # No overflow by default: an overflow connection is closed as soon as it is handed back
    # while the pool is full, so a rush opened and closed PostgreSQL backends all the time.
    database_max_overflow: int = Field(default=0, ge=0, le=200)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # The live feed's LISTEN connection (one per process). LISTEN does not pass through a
    # transaction-mode PgBouncer, so this may point at PostgreSQL itself; empty: DATABASE_URL.
    database_listen_url: str = ""

    feed_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    feed_retry_ms: int = Field(default=3000, ge=100, le=60_000)
    # Messages a subscriber may fall behind by before it is told to `resync` and closed.
    feed_buffer_messages: int = Field(default=256, ge=1, le=100_000)
    feed_ticket_ttl_seconds: int = Field(default=60, ge=5, le=600)
    # How long the listener lets a session's events gather after a read that found some:
    # latency added vs fan-out CPU saved (docs/feed.md, bench/RESULTS.md).
    feed_gather_seconds: float = Field(default=0.1, ge=0, le=5)
    # ... and longer for a session with many subscribers in one process: subscribers / this
    # (at most 0.5 s), so that one session's fan-out stays near this many sends a second.
    feed_session_writes_per_second: float = Field(default=1000.0, gt=0, le=1_000_000)

    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    access_token_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    daily_api_key: SecretStr | None = None
    daily_api_url: str = "https://api.daily.co/v1"
    daily_room_prefix: str = Field(default="tutorium", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    daily_token_mode: Literal["self_signed", "api"] = "self_signed"  # noqa: S105
    daily_max_attempts: int = Field(default=3, ge=1, le=10)
    daily_retry_budget_seconds: float = Field(default=8.0, gt=0, le=120)
    daily_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    daily_read_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    daily_webhook_secret: SecretStr | None = None
    # A meeting token cannot be revoked and Daily forgets an eject's ban when the call empties
    # (daily-api.md §10), so a removed student's old link works until its `exp`: keep it short.
    # The token only gates entry; the join endpoint hands out a fresh one on every call.
    # Where Daily reaches this API, e.g. https://api.example.com: `python -m app.cli webhook
    # ensure` points the domain's webhook at <PUBLIC_BASE_URL>/api/v1/webhooks/daily.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    student_token_ttl_minutes: int = Field(default=15, ge=1, le=240)

    rate_limit_enabled: bool = True
    rate_limit_storage_url: str = "memory://"
    rate_limit_join_code: str = "10/minute"
    rate_limit_login: str = "5/minute"
    rate_limit_login_ip: str = "50/minute"
    rate_limit_register: str = "20/hour"

    log_level: str = "INFO"

    @property
    def listen_url(self) -> str:
        return self.database_listen_url or self.database_url

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string as well as a JSON list, as deployments write both."""
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                import json

                return json.loads(stripped)
            return [origin.strip() for origin in stripped.split(",") if origin.strip()]
        return value

    @field_validator("daily_api_key", "daily_webhook_secret", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """`DAILY_API_KEY=` (as .env.example has it) means "no key", as an unset one does."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator(
        "rate_limit_join_code", "rate_limit_login", "rate_limit_login_ip", "rate_limit_register"
    )
    @classmethod
    def _valid_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # raises ValueError on anything the `limits` notation does not know
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> "Settings":
        if self.environment is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value()
            if key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
                raise InsecureSettingsError(
                    "SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_KEY_LENGTH} characters when ENVIRONMENT=production"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
