"""``interview-bridge doctor``: checks the configuration and says what is missing, in plain words."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from bot.config import Settings
from bot.core.i18n import available_languages, language_of
from bot.core.safe_text import printable
from bot.names import claim
from bot.studies_file import load_studies


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report."""

    ok: bool
    topic: str
    text: str
    blocking: bool = False


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else ""


def check_api(settings: Settings) -> list[Finding]:
    """The interview API: configured, or the built-in server."""
    if settings.uses_builtin_server():
        if settings.koji_api_key and not settings.koji_api_url:
            return [Finding(False, "Interview API", "KOJI_API_KEY is set but KOJI_API_URL is not.", True)]
        return [Finding(True, "Interview API", "no KOJI_API_KEY: the built-in interview server will be used.")]
    from bot.api.keys import clean_api_key, looks_like_koji_key

    try:
        key = clean_api_key(_secret(settings.koji_api_key))
    except ValueError as error:
        return [Finding(False, "Interview API", f"KOJI_API_KEY: {error}.", True)]
    findings = [Finding(True, "Interview API", f"{settings.koji_api_url} with a key of {len(key)} characters.")]
    if not looks_like_koji_key(key):
        findings.append(
            Finding(False, "Interview API", "KOJI_API_KEY is not in a documented format (pk_live_…, koji_sk_…).")
        )
    findings.append(asyncio.run(_probe_api(settings)))
    return findings


async def _probe_api(settings: Settings) -> Finding:
    from bot.api.client import InterviewClient
    from bot.api.errors import ApiUnavailable, Forbidden, InterviewApiError, NotFound, Unauthorized

    async with InterviewClient(settings.koji_api_url, _secret(settings.koji_api_key), max_retries=0) as client:
        try:
            await client.get("doctor-probe-00000000")
        except NotFound:
            return Finding(True, "Interview API", "reachable, and the key is accepted.")
        except Unauthorized:
            return Finding(False, "Interview API", "reachable, but the API key was refused (401).", True)
        except Forbidden:
            return Finding(True, "Interview API", "reachable; the key may lack interview:read (403).")
        except ApiUnavailable:
            return Finding(False, "Interview API", "cannot be reached: check KOJI_API_URL and the network.", True)
        except InterviewApiError as error:
            return Finding(False, "Interview API", f"answered {error.status} {error.code}.")
    return Finding(True, "Interview API", "reachable.")


def check_storage(settings: Settings) -> list[Finding]:
    """The database (an SQLite file or PostgreSQL) and the token encryption key."""
    findings: list[Finding] = []
    location = settings.database_location()
    if settings.shares_database():
        findings.append(_check_postgres(location))
    else:
        findings.extend(_check_sqlite(settings))
    key = _secret(settings.token_encryption_key)
    if not key:
        findings.append(
            Finding(
                False,
                "Encryption",
                "session tokens and transcripts are stored unencrypted; set TOKEN_ENCRYPTION_KEY "
                "(make one with `interview-bridge doctor --generate-key`).",
            )
        )
    else:
        try:
            Fernet(key.encode())
            findings.append(Finding(True, "Encryption", "session tokens and transcripts are encrypted at rest."))
        except ValueError:
            findings.append(Finding(False, "Encryption", "TOKEN_ENCRYPTION_KEY is not a valid Fernet key.", True))
    return findings


def _check_sqlite(settings: Settings) -> list[Finding]:
    """The SQLite file: writable folder, usable file."""
    findings = []
    path = Path(settings.database_path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists() or not os.access(folder, os.W_OK):
        findings.append(Finding(False, "Database", f"cannot write in {folder.resolve()} (DATABASE_PATH).", True))
    elif not path.exists():
        findings.append(Finding(True, "Database", f"{path.resolve()} will be created at the first run."))
    else:  # look, never create or change: a checker leaves no files behind
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                db.execute("PRAGMA schema_version").fetchone()
            findings.append(Finding(True, "Database", f"{path.resolve()}"))
        except sqlite3.Error as error:
            findings.append(Finding(False, "Database", f"{path} is not a usable SQLite file: {error}", True))
    return findings


def _check_postgres(dsn: str) -> Finding:
    """PostgreSQL: reachable, and at which schema version (never prints the password)."""
    claim("storage")
    from storage.dsn import describe_dsn
    from storage.pg_migrations import MIGRATIONS, probe

    where = describe_dsn(dsn)
    try:
        version = asyncio.run(probe(dsn))
    except Exception as error:  # refused, unknown host, authentication, missing database: say which, briefly
        return Finding(False, "Database", f"PostgreSQL at {where} cannot be used: {type(error).__name__}.", True)
    if version == 0:
        return Finding(True, "Database", f"PostgreSQL at {where}: reachable; the schema is created at the first run.")
    if version > len(MIGRATIONS):
        return Finding(False, "Database", f"PostgreSQL at {where} was written by a newer interview-bridge.", True)
    return Finding(True, "Database", f"PostgreSQL at {where}: reachable, schema version {version}.")


def check_platforms(settings: Settings) -> list[Finding]:
    """Discord and Slack credentials."""
    findings = []
    discord = _secret(settings.discord_token)
    if discord:
        shape_ok = discord.count(".") == 2
        findings.append(
            Finding(
                shape_ok,
                "Discord",
                "DISCORD_TOKEN is set."
                if shape_ok
                else "DISCORD_TOKEN does not look like a bot token (three parts separated by dots).",
                not shape_ok,
            )
        )
        if not settings.discord_gateway:
            findings.append(_rest_only(settings))
    slack = _secret(settings.slack_bot_token)
    if slack:
        if not slack.startswith("xoxb-"):
            findings.append(Finding(False, "Slack", "SLACK_BOT_TOKEN should start with xoxb-.", True))
        app_token = _secret(settings.slack_app_token)
        signing = _secret(settings.slack_signing_secret)
        if app_token and not app_token.startswith("xapp-"):
            findings.append(Finding(False, "Slack", "SLACK_APP_TOKEN should start with xapp-.", True))
        elif app_token:
            findings.append(Finding(True, "Slack", "Socket Mode (SLACK_APP_TOKEN) — no public URL needed."))
        elif signing:
            findings.append(
                Finding(True, "Slack", f"HTTP mode on port {settings.slack_http_port} (SLACK_SIGNING_SECRET).")
            )
        else:
            findings.append(
                Finding(
                    False,
                    "Slack",
                    "set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) so Slack can reach the bot.",
                    True,
                )
            )
    if not discord and not slack:
        findings.append(
            Finding(
                False,
                "Platforms",
                "neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is set: "
                "`interview-bridge run` has nothing to serve (`make demo` still works).",
            )
        )
    return findings


def _rest_only(settings: Settings) -> Finding:
    """DISCORD_GATEWAY=false: fine beside a gateway instance on one PostgreSQL, useless alone."""
    if settings.shares_database():
        return Finding(
            True,
            "Discord",
            "DISCORD_GATEWAY=false: REST only. This instance receives no DM or click; it takes over Discord turns, "
            "sweeps and handoffs. Exactly one instance on the same DATABASE_URL must open the gateway.",
        )
    return Finding(
        False,
        "Discord",
        "DISCORD_GATEWAY=false needs DATABASE_URL=postgresql://… shared with an instance that opens the gateway: "
        "alone, nothing would receive the DMs.",
        True,
    )


def check_privacy(settings: Settings) -> list[Finding]:
    """Retention, and anonymous studies whose transcripts would be stored unencrypted."""
    days = f"{settings.retention_days:g}"
    findings = [Finding(True, "Retention", f"transcripts of ended interviews are purged after {days} days.")]
    if not settings.studies_file:
        return findings
    try:
        book = load_studies(settings.studies_file)
    except (OSError, ValueError):
        return findings  # the studies check says what is wrong with the file
    anonymous = [study.id for study in book.studies if study.anonymous]
    if anonymous and not _secret(settings.token_encryption_key):
        text = (
            f"{', '.join(anonymous)} {'is' if len(anonymous) == 1 else 'are'} anonymous but encryption is off: "
            "transcripts are stored in plain text; set TOKEN_ENCRYPTION_KEY."
        )
        findings.append(Finding(False, "Privacy", text))
    return findings


def check_language(settings: Settings) -> list[Finding]:
    """KOJI_LOCALE against the languages the text catalogue ships."""
    shipped = ", ".join(sorted(available_languages()))
    locale = settings.koji_locale
    if not locale:
        return [Finding(True, "Language", f"each person's platform language where shipped ({shipped}), else English.")]
    language = language_of(locale)
    if language == "en" and not locale.lower().startswith("en"):
        text = f"KOJI_LOCALE={locale} has no text catalogue, so the bot speaks English there (shipped: {shipped})."
        return [Finding(False, "Language", text)]
    return [Finding(True, "Language", f"'{language}' where the platform tells no language (KOJI_LOCALE={locale}).")]


def doctor(settings: Settings, *, generate_key: bool = False) -> int:
    """Print the report; exit status 1 if something blocks `run`."""
    if generate_key:
        print(Fernet.generate_key().decode())
        return 0
    findings = check_api(settings) + check_storage(settings) + check_privacy(settings) + check_platforms(settings)
    findings += check_language(settings)
    for finding in findings:
        mark = "✓" if finding.ok else ("✗" if finding.blocking else "!")
        print(printable(f"{mark} {finding.topic}: {finding.text}", keep_newlines=False))
    blocking = [f for f in findings if f.blocking]
    notes = sum(1 for f in findings if not f.ok and not f.blocking)
    if blocking:
        print(f"\n{len(blocking)} problem(s) to fix before `interview-bridge run`.")
    else:
        print("\nReady." + (f" {notes} note(s) above are worth a look." if notes else ""))
    return 1 if blocking else 0
