"""One validated settings object, read from the environment and `.env`."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"
LOCALES = ("fr", "en", "ar")


class Settings(BaseSettings):
    # Read once, then never changed: what changes while the bot runs (the coordinators' group
    # after a move, bot/group_moves.py) is state with its own holder.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    bot_token: SecretStr | None = None
    telegram_api_base: str = TELEGRAM_API
    database_url: str = "sqlite+aiosqlite:///data/collective.db"
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram"
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    coordinator_chat_id: int | None = None
    coordinator_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "fr"
    group_locale: str = "fr"
    timezone: str = "Europe/Paris"
    dpo_contact: str = "dpd@marseille.fr"
    programme_url: str = "https://www.marseille.fr"
    flood_messages: int = Field(default=8, ge=1)
    flood_seconds: float = Field(default=2.0, gt=0)
    # Retention (PRIVACY.md), written in the privacy notice and enforced every day at
    # RETENTION_TIME (handlers/privacy/jobs.py).
    inactive_months: int = Field(default=24, ge=1)
    inactivity_warning_days: int = Field(default=30, ge=2)
    inactivity_final_warning_days: int = Field(default=7, ge=1)
    free_text_retention_months: int = Field(default=12, ge=1)
    outbox_content_days: int = Field(default=30, ge=1)
    processed_updates_days: int = Field(default=2, ge=1)
    retention_time: time = time(10, 0)
    delivery_rate: float = Field(default=30, gt=0)
    delivery_private_per_second: float = Field(default=1, gt=0)
    delivery_group_per_minute: float = Field(default=20, gt=0)
    delivery_max_attempts: int = Field(default=10, ge=1)
    delivery_backoff_seconds: float = Field(default=1, gt=0)
    delivery_backoff_max_seconds: float = Field(default=600, gt=0)
    delivery_lease_seconds: float = Field(default=120, gt=0)
    delivery_poll_seconds: float = Field(default=0.2, gt=0)
    alerts_per_month: int = Field(default=2, ge=1)
    # The coordinators' daily summary, local time (TIMEZONE).
    summary_time: time = time(18, 0)
    # The daily backup (storage/backup.py): off while BACKUP_DIR is empty; taken at BACKUP_TIME
    # (local time), the BACKUP_KEEP newest kept.
    backup_dir: str | None = None
    backup_keep: int = Field(default=7, ge=1)
    backup_time: time = time(3, 0)
    # Operating (bot/health.py, bot/metrics.py, bot/logs.py): /healthz, /readyz and /metrics
    # on the webhook's server, and in polling mode on HEALTH_PORT (off while unset); /readyz
    # fails when the outbox's oldest due row waits longer than READY_OUTBOX_LAG_S.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"
    ready_outbox_lag_s: float = Field(default=300, gt=0)
    log_format: Literal["text", "json"] = "text"

    @field_validator("coordinator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part)
        return value

    @field_validator("default_locale", "group_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET must be set with WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _warnings_in_order(self) -> Settings:
        if self.inactivity_final_warning_days >= self.inactivity_warning_days:
            raise ValueError(
                "INACTIVITY_FINAL_WARNING_DAYS must be fewer than INACTIVITY_WARNING_DAYS"
            )
        if self.inactivity_warning_days > 28 * self.inactive_months:
            raise ValueError("INACTIVITY_WARNING_DAYS must be shorter than INACTIVE_MONTHS")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("unknown time zone") from error
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError("not a database URL") from error
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("use sqlite+aiosqlite:///… or postgresql+asyncpg://…")
        return value


class ConfigError(Exception):
    """A bad setting, said in one line that names the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise ConfigError(f"{variable}: {first['msg']}") from None


def database_name(url: str) -> str:
    """The database as a person finds it: SQLite's file, or the URL without its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)
