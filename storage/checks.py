"""Read-only checks of a SQLite database before the bot starts (the CLI and ``doctor`` use them).

They look and never create or change anything: a checker leaves no files behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from pathlib import Path

from storage.crypto import SessionTokenUnreadable, TokenCipher

__all__ = ["database_problem", "unreadable_tokens"]


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (``os.access`` says yes to root on a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def database_problem(database_path: str) -> str | None:
    """Why ``DATABASE_PATH`` cannot be used (a missing or read-only folder, a folder, not SQLite), else None."""
    path = Path(database_path).expanduser()
    folder = path.parent
    named = f"DATABASE_PATH={database_path!r}"
    if path.is_dir():
        return f"{named} is a folder: it should be a file path, e.g. {path / 'bot.db'}"
    if not folder.is_dir():
        return (
            f"DATABASE_PATH={database_path!r}: the folder {folder} does not exist (create it, or choose another path)"
        )
    if not _writable(folder):
        return f"{named}: the folder {folder} is read-only (choose a place the bot can write)"
    if not path.exists():
        return None
    if not os.access(path, os.R_OK | os.W_OK):
        return f"{named}: the file cannot be read and written (check its permissions)"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as error:
        return f"{named} is not an SQLite database ({error}): point it at the bot's database or a new file"
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EROFS):
            return f"{named}: the file cannot be opened ({error.strerror})"
        raise
    return None


def unreadable_tokens(database_path: str, encryption_key: str | None) -> int:
    """How many unfinished interviews have a session token that the configured key cannot decrypt."""
    path = Path(database_path).expanduser()
    if not path.is_file():
        return 0
    cipher = TokenCipher(encryption_key)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT interview_id, session_token, token_encrypted FROM interviews WHERE status <> 'completed'"
            ).fetchall()
    except sqlite3.Error:  # no interviews table yet (a new or foreign file): nothing stored to read
        return 0
    unreadable = 0
    for interview_id, stored, encrypted in found:
        try:
            cipher.open(stored, bool(encrypted), interview_id)
        except SessionTokenUnreadable:
            unreadable += 1
    return unreadable
