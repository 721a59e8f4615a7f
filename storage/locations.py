"""Which backend a database location names: ``postgresql://…`` is PostgreSQL, anything else an SQLite file."""

from __future__ import annotations

from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


def is_postgres(location: str) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return location.startswith(POSTGRES_SCHEMES)


def sqlite_path(location: str) -> str:
    """The file of an SQLite location: ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or a plain path."""
    if location.startswith(SQLITE_SCHEME):
        path = location[len(SQLITE_SCHEME) :]
        if not path.startswith("/") or path == "/":
            raise ValueError("an SQLite URL looks like sqlite:///relative/file.db or sqlite:////absolute/file.db")
        return path[1:]
    if "://" in location:
        scheme = location.split("://", 1)[0]
        raise ValueError(f"unsupported database URL scheme {scheme!r}: use postgresql://… or sqlite:///…")
    return location


def store_at(location: str, *, encryption_key: str | None = None) -> SQLiteStore | PostgresStore:
    """An unopened store for ``location`` (raises ValueError for a location no backend understands)."""
    if is_postgres(location):
        return PostgresStore(location, encryption_key=encryption_key)
    return SQLiteStore(sqlite_path(location), encryption_key=encryption_key)
