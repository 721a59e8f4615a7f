"""Configuration from the environment and ``.env`` (pydantic-settings). Every setting is in the README."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.policy import AfterCompletion

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _allowed(text: str) -> dict[str, Any]:
    """What a setting accepts, in the words the error message uses (``explain``)."""
    return {"allowed": text}


class LogFormat(StrEnum):
    """How log lines look."""

    TEXT = "text"
    JSON = "json"


def _split_words(value: object) -> object:
    if isinstance(value, str):
        return tuple(w.strip().lower() for w in value.split(",") if w.strip())
    return value


class Settings(BaseSettings):
    """All settings. Secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    # --- the interview API ---
    koji_api_url: str = Field(
        "",
        description="Base URL of the interview API (empty: the built-in server).",
        json_schema_extra=_allowed("an http:// or https:// URL, e.g. https://koji.so/api/v1"),
    )
    koji_api_key: SecretStr | None = Field(None, description="API key (empty: the built-in server).")
    koji_study: str | None = Field(None, description="Study (project) to interview for, if the API needs one.")
    koji_rate_limit: int = Field(
        60,
        ge=1,
        description="Requests per minute allowed for the API key.",
        json_schema_extra=_allowed("a whole number of requests per minute, 1 or more"),
    )
    koji_locale: str | None = Field(
        None, description="Locale when the platform tells none (e.g. de): the bot's language and the interview's."
    )
    koji_webhook_secret: SecretStr | None = Field(
        None, description="Signing secret of the interview service's webhook: analyses arrive at POST /webhooks/koji."
    )

    # --- handoff API (other bots hand users over: docs/handoff.md) ---
    handoff_token: SecretStr | None = Field(
        None, description="Bearer token of POST /v1/handoffs (empty: the handoff API is off)."
    )
    handoff_rate_limit: int = Field(
        30, ge=1, le=10_000, description="Handoffs a minute (all instances together); more get 429 rate_limited."
    )
    handoff_consent_timeout: float = Field(
        86_400.0,
        ge=10.0,
        le=30 * 86_400.0,
        description="Seconds a handed-over person has to answer the consent text; then the handoff is expired.",
    )
    handoff_secret: SecretStr | None = Field(
        None, description="Key of the HMAC-SHA256 signature on handoff callbacks (X-Interview-Bridge-Signature)."
    )

    # --- studies ---
    studies_file: str | None = Field(None, description="YAML file of studies (empty: one study from these settings).")

    # --- storage ---
    database_path: str = Field("interview-bridge.db", description="SQLite file (when DATABASE_URL is empty).")
    database_url: SecretStr | None = Field(
        None, description="postgresql://user:password@host:5432/db to use PostgreSQL (several instances may share it)."
    )
    instance_id: str | None = Field(
        None,
        description="This instance's name among those sharing one PostgreSQL (stable across restarts, "
        "unique among them; empty: a random one, and a restarted instance's turns resume once their lease lapses).",
    )
    token_encryption_key: SecretStr | None = Field(
        None,
        description="Fernet key: session tokens and transcripts encrypted at rest (`doctor --generate-key`).",
        json_schema_extra=_allowed(
            "a Fernet key, 44 characters of url-safe base64 (`interview-bridge doctor --generate-key` makes one)"
        ),
    )
    retention_days: float = Field(
        180.0,
        gt=0,
        description="Days the local transcript and analysis of an ended interview are kept (then purged).",
        json_schema_extra=_allowed("a number of days above 0, e.g. 180"),
    )

    # --- conversation behaviour ---
    inactivity_timeout: float = Field(
        1800.0,
        gt=0,
        description="Seconds of silence before completing (timeout).",
        json_schema_extra=_allowed("a number of seconds greater than 0"),
    )
    inactivity_nudge: float = Field(
        300.0,
        ge=0,
        description="Seconds before the timeout to send a reminder (0: none).",
        json_schema_extra=_allowed("a number of seconds, 0 (no reminder) or more"),
    )
    max_message_length: int = Field(
        4000,
        ge=1,
        description="Longest respondent message forwarded, in characters.",
        json_schema_extra=_allowed("a whole number of characters, 1 or more"),
    )
    exit_words: Annotated[tuple[str, ...], NoDecode] = Field(
        ("exit", "stop", "quit", "/exit", "/stop"), description="Words that end an interview (after a confirm)."
    )
    after_completion: AfterCompletion = Field(
        AfterCompletion.OFFER,
        description="What a message after the end does: offer, auto or never.",
        json_schema_extra=_allowed("offer, auto or never"),
    )

    # --- Discord ---
    discord_token: SecretStr | None = Field(None, description="Bot token; enables the Discord adapter.")
    discord_api_url: str | None = Field(None, description="REST base override (tests, proxies).")
    discord_gateway_url: str | None = Field(None, description="Gateway URL override (tests, proxies).")
    discord_gateway: bool = Field(
        True,
        description="Open the Discord gateway here (false: REST only, for instances beside the one that opens it).",
        json_schema_extra=_allowed("true or false"),
    )
    discord_allowed_guilds: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Guild ids whose members may be interviewed (empty: anyone sharing a server)."
    )
    discord_allowed_roles: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Role ids required in an allowed guild (empty: any role)."
    )
    discord_edit_interval: float = Field(
        1.0,
        ge=0,
        description="Seconds between edits of one streamed reply.",
        json_schema_extra=_allowed("a number of seconds, 0 or more"),
    )
    discord_dm_writes: int = Field(
        5,
        ge=1,
        description="Messages sent, edited or deleted per DM per DISCORD_DM_WINDOW.",
        json_schema_extra=_allowed("a whole number, 1 or more"),
    )
    discord_dm_window: float = Field(
        5.0,
        gt=0,
        description="The window of DISCORD_DM_WRITES, in seconds.",
        json_schema_extra=_allowed("a number of seconds, more than 0"),
    )

    # --- Slack ---
    slack_bot_token: SecretStr | None = Field(None, description="xoxb- token; enables the Slack adapter.")
    slack_app_token: SecretStr | None = Field(None, description="xapp- token for Socket Mode.")
    slack_signing_secret: SecretStr | None = Field(None, description="Signing secret for HTTP mode.")
    slack_api_url: str | None = Field(None, description="Web API base override (tests, proxies).")
    slack_http_port: int = Field(
        3000,
        ge=0,
        le=65535,
        description="Port of the HTTP-mode events endpoint.",
        json_schema_extra=_allowed("a port number from 1 to 65535 (0: any free port)"),
    )
    slack_http_host: str = Field("0.0.0.0", description="Address the HTTP-mode endpoint listens on.")
    slack_update_interval: float = Field(
        1.0,
        ge=0,
        description="Seconds between updates of one streamed reply.",
        json_schema_extra=_allowed("a number of seconds, 0 or more"),
    )

    # --- the built-in interview server (used when no API key is set) ---
    emulator_brief: str | None = Field(None, description="Brief YAML for the built-in server (default: sample).")
    emulator_token_rate: float = Field(
        40.0,
        ge=0,
        description="Tokens per second the built-in server streams.",
        json_schema_extra=_allowed("a number of tokens per second, 0 (all at once) or more"),
    )

    # --- operations ---
    http_host: str = Field("127.0.0.1", description="Address of the bot's HTTP server (health, metrics, APIs).")
    http_port: int = Field(
        8080,
        ge=0,
        le=65535,
        description="Port of the bot's HTTP server (0: any free port).",
        json_schema_extra=_allowed("a port number from 1 to 65535 (0: any free port)"),
    )
    log_level: str = Field("INFO", description="Logging level.", json_schema_extra=_allowed(", ".join(LOG_LEVELS)))
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="Log lines as plain `text` or one JSON object each.",
        json_schema_extra=_allowed("text or json"),
    )
    shutdown_grace: float = Field(
        8.0,
        gt=0,
        description="Seconds a stop (SIGTERM/SIGINT) may take at most.",
        json_schema_extra=_allowed("a number of seconds greater than 0"),
    )

    @field_validator("exit_words", "discord_allowed_guilds", "discord_allowed_roles", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_words(value)

    @field_validator("koji_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError("not an http:// or https:// URL")
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().strip().encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise ValueError("not a Fernet key") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError("not a logging level")
        return value.strip().upper()

    @model_validator(mode="after")
    def _api_pair(self) -> Settings:
        if self.koji_api_key is not None and self.koji_api_key.get_secret_value().strip() and not self.koji_api_url:
            raise ValueError(
                "KOJI_API_KEY is set but KOJI_API_URL is not: set KOJI_API_URL to the interview API's base URL "
                "(e.g. https://koji.so/api/v1), or remove KOJI_API_KEY to use the built-in sample interview"
            )
        return self

    def database_location(self) -> str:
        """Where the data lives: DATABASE_URL if set, else the SQLite file DATABASE_PATH."""
        if self.database_url is not None and self.database_url.get_secret_value().strip():
            return self.database_url.get_secret_value().strip()
        return self.database_path

    def shares_database(self) -> bool:
        """True when DATABASE_URL names PostgreSQL, which other instances may share (``storage.locations``)."""
        return self.database_location().startswith(("postgresql://", "postgres://"))

    def uses_builtin_server(self) -> bool:
        """True when no real API is configured: run the built-in interview server."""
        return not self.koji_api_key or not self.koji_api_url


def explain(error: ValidationError) -> list[str]:
    """One plain line per broken setting: the variable, the value (never a secret's), what it accepts."""
    lines = []
    for problem in error.errors(include_url=False):
        if not problem["loc"]:  # a rule across settings: its message names them
            lines.append(str(problem["msg"]).removeprefix("Value error, "))
            continue
        name = str(problem["loc"][0])
        field = Settings.model_fields.get(name)
        extra = field.json_schema_extra if field is not None else None
        allowed = extra.get("allowed") if isinstance(extra, dict) else None
        secret = field is not None and "SecretStr" in str(field.annotation)
        shown = "" if secret or problem["input"] is None else f"={problem['input']!r}"
        reason = allowed if allowed else str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{name.upper()}{shown} is not valid: it should be {reason}.")
    return lines
