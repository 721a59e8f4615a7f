"""An online, consistent copy of the SQLite database, taken with SQLite's backup API while the bot runs.

The copy is written next to the target under a temporary name and renamed into place once complete and
checked (``PRAGMA integrity_check``), so a half-written backup never carries the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

__all__ = ["BackupError", "backup_sqlite"]


class BackupError(Exception):
    """The backup could not be taken; the message says why (no partial file is left behind)."""


def backup_sqlite(source: str | Path, target: str | Path, *, overwrite: bool = False) -> int:
    """Copy the database ``source`` to ``target`` (a new SQLite file); returns the copy's size in bytes.

    The backup API copies a consistent snapshot of the source even while the bot writes (in WAL mode the bot
    is never blocked); the source is only read. Refuses to overwrite an existing ``target`` unless told to.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"no database at {source} (DATABASE_PATH)")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already; choose a new file name")
    if target.resolve() == source.resolve():
        raise BackupError("the backup must go to another file than the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)  # one step: a single consistent snapshot of every page
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            verdict = dst.execute("PRAGMA integrity_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {verdict}")
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {source}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
