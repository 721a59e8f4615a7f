"""Configuration from the environment and ``.env`` (pydantic-settings). Every setting is in the README."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.policy import AfterCompletion


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
    koji_api_url: str = Field("", description="Base URL of the interview API (empty: the built-in server).")
    koji_api_key: SecretStr | None = Field(None, description="API key (empty: the built-in server).")
    koji_study: str | None = Field(None, description="Study (project) to interview for, if the API needs one.")
    koji_rate_limit: int = Field(60, description="Requests per minute allowed for the API key.")
    koji_locale: str | None = Field(
        None, description="Locale when the platform tells none (e.g. de): the bot's language and the interview's."
    )
    koji_webhook_secret: SecretStr | None = Field(
        None, description="Signing secret of the interview service's webhook: analyses arrive at POST /webhooks/koji."
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
        None, description="Fernet key to encrypt session tokens at rest (`interview-bridge doctor` makes one)."
    )

    # --- conversation behaviour ---
    inactivity_timeout: float = Field(1800.0, description="Seconds of silence before completing (timeout).")
    inactivity_nudge: float = Field(300.0, description="Seconds before the timeout to send a reminder (0: none).")
    max_message_length: int = Field(4000, description="Longest respondent message forwarded, in characters.")
    exit_words: Annotated[tuple[str, ...], NoDecode] = Field(
        ("exit", "stop", "quit", "/exit", "/stop"), description="Words that end an interview (after a confirm)."
    )
    after_completion: AfterCompletion = Field(
        AfterCompletion.OFFER, description="What a message after the end does: offer, auto or never."
    )

    # --- Discord ---
    discord_token: SecretStr | None = Field(None, description="Bot token; enables the Discord adapter.")
    discord_api_url: str | None = Field(None, description="REST base override (tests, proxies).")
    discord_gateway_url: str | None = Field(None, description="Gateway URL override (tests, proxies).")
    discord_allowed_guilds: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Guild ids whose members may be interviewed (empty: anyone sharing a server)."
    )
    discord_allowed_roles: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Role ids required in an allowed guild (empty: any role)."
    )
    discord_edit_interval: float = Field(1.0, description="Seconds between edits of one streamed reply.")

    # --- Slack ---
    slack_bot_token: SecretStr | None = Field(None, description="xoxb- token; enables the Slack adapter.")
    slack_app_token: SecretStr | None = Field(None, description="xapp- token for Socket Mode.")
    slack_signing_secret: SecretStr | None = Field(None, description="Signing secret for HTTP mode.")
    slack_api_url: str | None = Field(None, description="Web API base override (tests, proxies).")
    slack_http_port: int = Field(3000, description="Port of the HTTP-mode events endpoint.")
    slack_http_host: str = Field("0.0.0.0", description="Address the HTTP-mode endpoint listens on.")
    slack_update_interval: float = Field(1.0, description="Seconds between updates of one streamed reply.")

    # --- the built-in interview server (used when no API key is set) ---
    emulator_brief: str | None = Field(None, description="Brief YAML for the built-in server (default: sample).")
    emulator_token_rate: float = Field(40.0, description="Tokens per second the built-in server streams.")

    # --- operations ---
    http_host: str = Field("127.0.0.1", description="Address of the bot's HTTP server (health, metrics, APIs).")
    http_port: int = Field(8080, description="Port of the bot's HTTP server (0: any free port).")
    log_level: str = Field("INFO", description="Logging level.")
    log_format: LogFormat = Field(LogFormat.TEXT, description="Log lines as plain `text` or one JSON object each.")
    shutdown_grace: float = Field(8.0, gt=0, description="Seconds a stop (SIGTERM/SIGINT) may take at most.")

    @field_validator("exit_words", "discord_allowed_guilds", "discord_allowed_roles", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_words(value)

    def database_location(self) -> str:
        """Where the data lives: DATABASE_URL if set, else the SQLite file DATABASE_PATH."""
        if self.database_url is not None and self.database_url.get_secret_value().strip():
            return self.database_url.get_secret_value().strip()
        return self.database_path

    def uses_builtin_server(self) -> bool:
        """True when no real API is configured: run the built-in interview server."""
        return not self.koji_api_key or not self.koji_api_url
