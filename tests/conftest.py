"""Shared test settings. Each area keeps its fixtures in its own folder's conftest.py.

The throwaway PostgreSQL server lives here: started once per session by the first test that needs it, stopped at
the end. Without server binaries the PostgreSQL runs are skipped locally, with one line saying so; with
``CI=true`` that is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Iterator

import asyncpg
import pytest

from tests.pg_server import PostgresServer, ServerUnavailable, running_server

_schemas = itertools.count(1)
_unavailable: list[str] = []


def in_ci() -> bool:
    """True on the CI runner (``CI=true``), where a missing PostgreSQL is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server."""
    if _unavailable:
        if in_ci():
            pytest.fail(_unavailable[0])
        pytest.skip(_unavailable[0])
    try:
        with running_server() as server:
            yield server
    except ServerUnavailable as missing:
        _unavailable.append(f"PostgreSQL unavailable: {missing}")
        if in_ci():
            pytest.fail(f"{_unavailable[0]} (CI=true: the PostgreSQL runs are required)")
        pytest.skip(_unavailable[0])


async def _admin(server: PostgresServer, *statements: str) -> None:
    conn = await asyncpg.connect(server.dsn())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A ``postgresql://`` URL whose connections work in a fresh, empty schema (dropped after the test).

    A plain fixture (its own short event loop), so any test, sync or async, can ask for it.
    """
    schema = f"test_{os.getpid()}_{next(_schemas)}"
    asyncio.run(_admin(postgres_server, f"CREATE SCHEMA {schema}"))
    yield postgres_server.dsn(search_path=schema)
    # a connection the test left open may still hold a lock: give up then, the server is thrown away anyway
    with contextlib.suppress(asyncpg.PostgresError):
        asyncio.run(_admin(postgres_server, "SET lock_timeout = '10s'", f"DROP SCHEMA {schema} CASCADE"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line that says the PostgreSQL runs were skipped, and why."""
    if _unavailable and not in_ci():
        terminalreporter.write_line(f"{_unavailable[0]}: the PostgreSQL runs were skipped", yellow=True)
