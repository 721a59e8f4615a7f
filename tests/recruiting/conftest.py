"""Recruiting fixtures: a real store on both backends, a manual clock, a study book."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import ManualClock
from bot.core.studies import Study, StudyBook
from storage.postgres import PostgresStore
from storage.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file path, or the DSN of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "bridge.db")
    return str(request.getfixturevalue("pg_dsn"))


@pytest.fixture
async def store(database: str) -> AsyncIterator[SQLiteStore | PostgresStore]:
    """An open store on a fresh database."""
    opened = PostgresStore(database) if database.startswith("postgresql") else SQLiteStore(database)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    """Monday 2027-01-04 08:00 UTC (09:00 in Berlin)."""
    return ManualClock(1_799_049_600.0)


@pytest.fixture
def book() -> StudyBook:
    """Two studies: onboarding (open) and pricing."""
    return StudyBook(
        (
            Study(id="onboarding", name="Onboarding", consent="We keep your answers for 90 days."),
            Study(id="pricing", name="Pricing"),
        ),
        from_file=True,
    )
