"""``interview-bridge migrate-store --from … --to …``: move the data between SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

import asyncpg

from storage.dsn import describe_dsn
from storage.migrations import SchemaTooNew
from storage.transfer import TargetNotEmpty, copy_store


def migrate_store(source: str, target: str, out: TextIO = sys.stdout) -> int:
    """Copy every row; prints the rows per table. 0 on success, 1 if the copy failed, 2 for bad arguments."""
    out.write(f"copying {describe_dsn(source)} → {describe_dsn(target)}\n")
    try:
        counts = asyncio.run(copy_store(source, target))
    except (ValueError, TargetNotEmpty, SchemaTooNew) as error:
        print(f"interview-bridge migrate-store: {error}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # connection refused, authentication, a missing database: the driver's one-line message (no password)
        print(f"interview-bridge migrate-store: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for table, rows in counts.items():
        out.write(f"  {table:<18} {rows:>12,} rows\n")
    out.write("done: the target holds the same rows; point DATABASE_URL / DATABASE_PATH at it.\n")
    return 0
