"""The request window of one API key shared by every instance on the database (:mod:`bot.api.shared_window`).

One row per request booked in the last window, in ``api_budget``. A booking takes the key's advisory lock for
its transaction, drops the rows that left the window, counts the rest and, if there is room, adds its own: so
bookings of all instances are serialised per key and never exceed the limit. Times come from the database's
clock, the one clock every instance shares. A booking first counts ``window`` (+ a margin for the trip) from the
grant; once the response arrived it counts ``window`` from then (the server stamps a request somewhere in
between), as the process's own budget does. A dead instance's bookings simply run out.
"""

from __future__ import annotations

import time

import asyncpg

from storage.pg_locks import LockSpace, name_key

MARGIN = 0.25
"""Seconds added to a booking for the time its request takes to reach the server."""
_NOW = "extract(epoch FROM clock_timestamp())::float8"
# forget what left the window, count the rest and book what fits: one statement, under the key's lock
_TAKE = f"""
WITH now AS (SELECT {_NOW} AS t),
gone AS (DELETE FROM api_budget b USING now WHERE b.key = $1 AND b.expires_at <= now.t),
live AS (SELECT count(*) AS n, min(b.expires_at) AS soonest FROM api_budget b, now
         WHERE b.key = $1 AND b.expires_at > now.t),
booked AS (INSERT INTO api_budget (key, expires_at)
           SELECT $1, now.t + $3 FROM live, now, generate_series(1, LEAST($4::int, $2::int - $5::int - live.n::int))
           RETURNING id)
SELECT ARRAY(SELECT id FROM booked), live.soonest - now.t FROM live, now
"""


class PostgresRequestWindow:
    """The shared window of the key named ``key`` (a fingerprint): ``limit`` requests per ``window`` seconds."""

    def __init__(self, pool: asyncpg.Pool, key: str, limit: int, window: float) -> None:
        self._pool = pool
        self.key = key
        self.limit = limit
        self.window = window

    def __repr__(self) -> str:
        return f"PostgresRequestWindow({self.key!r}, limit={self.limit}, window={self.window})"

    async def take(self, count: int = 1, reserve: int = 0) -> tuple[list[object], float]:
        """Book up to ``count`` requests as the window has room: ``(booking ids, 0.0)``; none: ``([], wait)``.

        ``reserve``: leave that many requests of the window free (for calls that must happen)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LockSpace.BUDGET, name_key(self.key))
            # a new statement, so a new snapshot: it sees every booking committed before the lock was ours
            row = await conn.fetchrow(_TAKE, self.key, self.limit, self.window + MARGIN, count, reserve)
        assert row is not None
        bookings, wait = row
        if bookings:
            return [int(booking) for booking in bookings], 0.0
        return [], max(0.0, float(wait or 0.0))

    async def settle(self, token: object, answered_at: float | None = None) -> None:
        """The response arrived (at ``answered_at`` on ``time.monotonic``, default now): the booking counts
        ``window`` from then (the server counted it before). The time between the response and this statement
        (a busy loop, a pool connection to wait for) is taken off, so it costs no capacity; what it cannot measure
        (the statement's way to the database) only makes the booking end a little later, never earlier."""
        sql = f"UPDATE api_budget SET expires_at = {_NOW} + $2 WHERE id = $1"
        async with self._pool.acquire() as conn:
            late = 0.0 if answered_at is None else max(0.0, time.monotonic() - answered_at)
            await conn.execute(sql, token, self.window - late)

    async def release(self, token: object) -> None:
        """The request never reached the server: its booking goes."""
        async with self._pool.acquire() as conn:
            await conn.execute("DELETE FROM api_budget WHERE id = $1", token)
