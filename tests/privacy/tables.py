"""Every row of every table of a database (SQLite file or PostgreSQL schema), as text, for searching."""

from __future__ import annotations

import sqlite3

import asyncpg

from storage.locations import is_postgres, sqlite_path


async def every_row(database: str) -> dict[str, list[str]]:
    """``{table: [row as text, …]}`` for every table, read straight from the database (no store in between)."""
    if is_postgres(database):
        conn = await asyncpg.connect(database)
        try:
            names = [
                r[0]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                )
            ]
            return {name: [str(tuple(row)) for row in await conn.fetch(f'SELECT * FROM "{name}"')] for name in names}
        finally:
            await conn.close()
    db = sqlite3.connect(sqlite_path(database))
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: [str(row) for row in db.execute(f'SELECT * FROM "{name}"')] for name in names}
    finally:
        db.close()


def containing(rows: dict[str, list[str]], *needles: str) -> dict[str, list[str]]:
    """The rows (by table) holding any of ``needles``."""
    found = {table: [row for row in table_rows if any(n in row for n in needles)] for table, table_rows in rows.items()}
    return {table: hits for table, hits in found.items() if hits}
