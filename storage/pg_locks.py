"""The advisory-lock keys of the PostgreSQL backend.

PostgreSQL's advisory locks take two 32-bit keys. The first names what is locked (a :class:`LockSpace`, picked
so that another application sharing the database is unlikely to use the same numbers), the second which one:
a constant, or a stable 32-bit hash of a name (a conversation key, a job). Two names with the same hash merely
share a lock, which is safe: they wait for each other, nothing more.
"""

from __future__ import annotations

import zlib
from enum import IntEnum


class LockSpace(IntEnum):
    """The first key of every advisory lock the bridge takes."""

    SCHEMA = 0x1B1D_0001  # migrations
    CONVERSATION = 0x1B1D_0002  # one conversation's events, across instances
    LEADER = 0x1B1D_0003  # one sweeper (inactivity sweep, reminders, retries) at a time
    BUDGET = 0x1B1D_0004  # the shared request window of one API key


MIGRATION_LOCK = 1
"""The second key of the migration lock."""


def name_key(name: str) -> int:
    """A stable signed 32-bit key for ``name`` (CRC-32; the same in every process and every release)."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value
