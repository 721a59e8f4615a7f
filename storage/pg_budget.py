"""The request window of one API key shared by every instance on the database (:mod:`bot.api.shared_window`).

One row per request booked in the last window, in ``api_budget``: from ``starts_at`` (when it may be sent) to
``expires_at`` (when the server no longer counts it). A booking takes the key's advisory lock for its
transaction, drops the rows that left the window, counts the rest and, if there is room, adds its own: so
bookings of all instances are serialised per key and the window never holds more than the limit. Times come
from the database's clock, the one clock every instance shares.

A booking first counts ``window`` + :data:`MARGIN` from its start (the server stamps a request somewhere between
send and response, and the request is on its way); once the response arrived it counts ``window`` from then and
its end is final (``settled``), as in the process's own budget. A dead instance's bookings simply run out.

**Booking ahead.** When the window is full, :meth:`PostgresRequestWindow.book` takes over the settled booking
that ends next, in the same statement: its row is replaced by the new request's, which starts where the old one
ends (``starts_at``), and the caller sleeps until then instead of asking again. The row count never changes, so the
window never holds more than the limit; the old request leaves the server's window by the time the new one may
be sent, because the old end is its response plus ``window``. Only settled bookings are taken over: a request
in flight may still end later than booked (its response is slower than the margin). A booking given back
before its start keeps its row until the start (the old request still counts until then) and is then the next
to be taken over, so nothing is lost either way.
"""

from __future__ import annotations

import time

import asyncpg

from storage.pg_locks import LockSpace, name_key

MARGIN = 0.25
"""Seconds added to an unsettled booking for the time its request takes to reach the server."""
AHEAD_PER_CALL = 1
"""How many full-window slots one call books ahead. The key's lock serves waiting calls in the order they came,
so instances that all wait take the slots that free next in turn, one each, not a window's worth at once."""
_NOW = "extract(epoch FROM clock_timestamp())::float8"
# forget what left the window, count the rest, book what fits now and take over (at most $6 of) the settled
# bookings that end next for the rest: one statement, under the key's lock. $3: an unsettled booking's length.
_BOOK = f"""
WITH now AS (SELECT {_NOW} AS t),
gone AS (DELETE FROM api_budget b USING now WHERE b.key = $1 AND b.expires_at <= now.t),
live AS (SELECT count(*)::int AS n, min(b.expires_at) AS soonest FROM api_budget b, now
         WHERE b.key = $1 AND b.expires_at > now.t),
room AS (SELECT GREATEST(LEAST($4::int, $2::int - $5::int - live.n), 0) AS k, live.n FROM live),
booked AS (INSERT INTO api_budget (key, starts_at, expires_at)
           SELECT $1, now.t, now.t + $3 FROM room, now, generate_series(1, room.k)
           RETURNING id, starts_at),
next AS (SELECT b.id FROM api_budget b, now WHERE b.key = $1 AND b.settled AND b.expires_at > now.t
         ORDER BY b.expires_at, b.id
         LIMIT (SELECT CASE WHEN room.n <= $2::int THEN LEAST($6::int, $4::int - room.k) ELSE 0 END FROM room)),
over AS (DELETE FROM api_budget b USING next WHERE b.id = next.id RETURNING b.expires_at AS t),
ahead AS (INSERT INTO api_budget (key, starts_at, expires_at) SELECT $1, over.t, over.t + $3 FROM over
          RETURNING id, starts_at),
mine AS (SELECT id, starts_at FROM booked UNION ALL SELECT id, starts_at FROM ahead)
SELECT ARRAY(SELECT id FROM mine ORDER BY starts_at, id),
       ARRAY(SELECT GREATEST(mine.starts_at - now.t, 0) FROM mine, now ORDER BY mine.starts_at, mine.id),
       live.soonest - now.t
FROM live, now
"""
# the request never went out: a booking that took over a slot keeps it until its start, then it is free
_RELEASE = f"""
WITH now AS (SELECT {_NOW} AS t),
kept AS (UPDATE api_budget b SET expires_at = b.starts_at, settled = true FROM now
         WHERE b.id = $1 AND b.starts_at > now.t RETURNING b.id)
DELETE FROM api_budget b USING now WHERE b.id = $1 AND b.starts_at <= now.t
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

    async def _book(self, count: int, reserve: int, ahead: int) -> tuple[list[tuple[int, float]], float]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LockSpace.BUDGET, name_key(self.key))
            # a new statement, so a new snapshot: it sees every booking committed before the lock was ours
            row = await conn.fetchrow(_BOOK, self.key, self.limit, self.window + MARGIN, count, reserve, ahead)
            answered = time.monotonic()  # the statement's clock read was before this
        assert row is not None
        bookings, starts, wait = row
        since = time.monotonic() - answered  # the commit's round trip: the wait is counted from the answer
        if bookings:
            return [(int(b), max(0.0, float(s) - since)) for b, s in zip(bookings, starts, strict=True)], 0.0
        return [], max(0.0, float(wait or 0.0) - since)

    async def take(self, count: int = 1, reserve: int = 0) -> tuple[list[object], float]:
        """Book up to ``count`` requests as the window has room now: ``(booking ids, 0.0)``; none: ``([], wait)``.

        ``reserve``: leave that many requests of the window free (for calls that must happen)."""
        bookings, wait = await self._book(count, reserve, 0)
        return [booking for booking, _ in bookings], wait

    async def book(self, count: int = 1) -> tuple[list[tuple[object, float]], float]:
        """Book up to ``count`` requests: ``([(booking id, seconds from now until it may be sent), …], 0.0)``,
        soonest first, counted from the database's answer (so never too short). Where the window has room a
        request may go at once (0.0); where it is full, a booking takes over the settled booking that ends next
        (at most :data:`AHEAD_PER_CALL` a call) and may go when that one ends. Nothing to book or take over
        (every slot is in flight or booked ahead): ``([], seconds until the soonest booking ends)``."""
        bookings, wait = await self._book(count, 0, AHEAD_PER_CALL)
        return [(booking, start) for booking, start in bookings], wait

    async def settle(self, token: object, answered_at: float | None = None) -> None:
        """The response arrived (at ``answered_at`` on ``time.monotonic``, default now): the booking counts
        ``window`` from then (the server counted it before), and that end is final. The time between the response
        and this statement (a busy loop, a pool connection to wait for) is taken off, so it costs no capacity; what
        it cannot measure (the statement's way to the database) only makes the booking end a little later, never
        earlier."""
        sql = f"UPDATE api_budget SET expires_at = {_NOW} + $2, settled = true WHERE id = $1"
        async with self._pool.acquire() as conn:
            late = 0.0 if answered_at is None else max(0.0, time.monotonic() - answered_at)
            await conn.execute(sql, token, self.window - late)

    async def release(self, token: object) -> None:
        """The request never reached the server: its booking goes (one that took over a slot ahead keeps it until
        its start, when the request it stood in for leaves the window)."""
        async with self._pool.acquire() as conn:
            await conn.execute(_RELEASE, token)
