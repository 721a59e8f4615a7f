"""``interview-bridge migrate-store --from … --to … [--erasures-from …]``: move the data between SQLite and
PostgreSQL, leaving out what belongs to people who were forgotten."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

import asyncpg

from storage.dsn import describe_dsn
from storage.migrations import SchemaTooNew
from storage.transfer import TargetNotEmpty, copy_store


def migrate_store(source: str, target: str, out: TextIO = sys.stdout, erasures_from: Sequence[str] = ()) -> int:
    """Copy every row but those of forgotten people; prints the rows per table and what was left out. 0 on
    success, 1 if the copy failed, 2 for bad arguments."""
    out.write(f"copying {describe_dsn(source)} → {describe_dsn(target)}\n")
    for other in erasures_from:
        out.write(f"honouring the erasure log of {describe_dsn(other)} too\n")
    try:
        copied = asyncio.run(copy_store(source, target, erasures_from=erasures_from))
    except (ValueError, TargetNotEmpty, SchemaTooNew) as error:
        print(f"interview-bridge migrate-store: {error}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # connection refused, authentication, a missing database: the driver's one-line message (no password)
        print(f"interview-bridge migrate-store: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for table, rows in copied.rows.items():
        out.write(f"  {table:<18} {rows:>12,} rows\n")
    if copied.skipped:
        left_out = sum(copied.skipped.values())
        out.write(
            f"left out {left_out:,} rows of {copied.people:,} people in the erasure log (from before their erasure): "
            + ", ".join(f"{table} {rows:,}" for table, rows in sorted(copied.skipped.items()))
            + "\n"
        )
    else:
        out.write("left out nothing: no rows of anyone in the erasure log\n")
    if copied.carried:
        out.write(f"the target's erasure log gained {copied.carried:,} entries from --erasures-from\n")
    if copied.unmatched:
        out.write(
            f"warning: {copied.unmatched:,} erasure-log entries of --erasures-from belong to another install (another "
            "secret): they were honoured now but cannot be carried into the target\n"
        )
    same = "the same rows, but those left out" if copied.skipped else "the same rows"
    out.write(f"done: the target holds {same}; point DATABASE_URL / DATABASE_PATH at it.\n")
    return 0
