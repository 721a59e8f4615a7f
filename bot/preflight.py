"""Checks before a command starts: settings that cannot work are reported once, plainly, with exit status 2.

The settings loader (:mod:`bot.config`) refuses values that do not parse or make no sense; these checks look
at what the values point to: the database file, the stored session tokens against the encryption key, the
research brief, the studies file, an API key that cannot be sent.
"""

from __future__ import annotations

from bot.config import Settings
from bot.core.safe_text import printable

__all__ = ["DATABASE_COMMANDS", "preflight", "report"]

#: The commands that open DATABASE_PATH (the demo keeps a database of its own; the emulator needs none).
DATABASE_COMMANDS = ("run", "chat", "doctor", "invite", "campaign", "forget")


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else None


def database_problems(settings: Settings) -> list[str]:
    """DATABASE_PATH that cannot be used, or unfinished interviews whose tokens the key cannot decrypt."""
    from storage.checks import database_problem, unreadable_tokens

    if _secret(settings.database_url):
        return []  # PostgreSQL: checked when connecting
    problem = database_problem(settings.database_path)
    if problem:
        return [problem]
    unreadable = unreadable_tokens(settings.database_path, _secret(settings.token_encryption_key))
    if unreadable:
        return [
            f"TOKEN_ENCRYPTION_KEY does not open the session tokens of {unreadable} unfinished interview(s) in "
            f"{settings.database_path}: was the key changed? Set it back to the key they were written with "
            "(the interviews continue then); a new key is only for a new database"
        ]
    return []


def _brief_problem(path: str | None) -> str | None:
    from bot.emulator.brief import load_brief

    try:
        load_brief(path)
    except ValueError as error:
        return str(error)
    return None


def _studies_problem(path: str) -> str | None:
    from bot.studies_file import load_studies

    try:
        load_studies(path)
    except ValueError as error:
        return str(error)
    return None


def _api_key_problem(settings: Settings) -> str | None:
    from bot.api.keys import clean_api_key

    try:
        clean_api_key(_secret(settings.koji_api_key) or "")
    except ValueError as error:
        return f"KOJI_API_KEY: {error}"
    return None


def preflight(settings: Settings, command: str, brief: str | None = None) -> list[str]:
    """What stops ``command`` from working with these settings (empty: go ahead)."""
    problems: list[str | None] = []
    if command in DATABASE_COMMANDS:
        problems += database_problems(settings)
    if command in ("run", "chat") and settings.studies_file:
        problems.append(_studies_problem(settings.studies_file))
    if command in ("emulator", "demo") or (command in ("run", "chat") and settings.uses_builtin_server()):
        problems.append(_brief_problem(brief if command == "emulator" else settings.emulator_brief))
    if command in ("run", "chat") and not settings.uses_builtin_server():
        problems.append(_api_key_problem(settings))
    return [p for p in problems if p]


def report(problems: list[str]) -> str:
    """The message for problems that stop a command (printed once, to stderr)."""
    lines = ["interview-bridge: the configuration needs fixing before this can start:"]
    lines += [f"  - {printable(p)}" for p in problems]
    lines.append("`interview-bridge doctor` checks the whole configuration; the README lists every setting.")
    return "\n".join(lines)
