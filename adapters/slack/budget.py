"""Slack's per-method, per-workspace rate tiers, as configuration of the core's fair scheduler.

Slack limits e.g. ``chat.update`` to about 50 calls a minute *per workspace*, whatever the channel. One
busy interview must not starve the others, so every call of a limited method goes through the workspace's
bucket for that method:

* :meth:`SlackBudget.acquire` (calls that must happen: the final text of a reply) waits its turn in a queue
  served round-robin across conversations;
* :meth:`SlackBudget.try_acquire` (intermediate updates of a streamed reply, which the next update or the
  final one supersedes) only takes spare capacity: never while someone waits, and once tokens run low each
  conversation at most its fair share (one call per ``active conversations / rate`` seconds);
* :meth:`SlackBudget.try_now` (one call per reply that may be replaced by something cheaper, e.g. the thinking
  status or starting a stream) takes a free token or gives up at once.

Several instances on one PostgreSQL database share each workspace's tiers: with :attr:`SlackBudget.shared`
set, a call the process's own bucket lets through is also booked in a window every instance books in
(:meth:`SlackBudget.shared_room`; a required call waits for room, an optional one gives up), so all the
instances together stay within the workspace's tier. Optional calls leave the last :data:`REQUIRED_RESERVE` of
the shared tier to required ones: a required call in one instance polls for room, while an optional one in
another books the moment a slot frees, so without the reserve a busy fleet's intermediate updates starve the
final texts of its replies (the instance's own fair queue cannot see the other instances' calls).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.core import FairScheduler, TokenBucket

#: Calls per minute per workspace (Slack's tiers: Tier 2 ≈ 20, Tier 3 ≈ 50, Tier 4 ≈ 100 a minute). The
#: streaming methods' tiers are not published everywhere: these are cautious. Methods not listed are not
#: budgeted here (``chat.postMessage`` is limited per channel, ~1/s, not per workspace).
DEFAULT_LIMITS: dict[str, float] = {
    "chat.update": 50.0,
    "chat.startStream": 20.0,
    "chat.appendStream": 100.0,
    "chat.stopStream": 20.0,
    "assistant.threads.setStatus": 20.0,
    "assistant.threads.setTitle": 50.0,
    "assistant.threads.setSuggestedPrompts": 50.0,
    "views.publish": 100.0,
    # finding and inviting people (campaigns)
    "conversations.open": 50.0,
    "conversations.history": 50.0,
    "users.info": 100.0,
    "users.list": 20.0,
    "users.lookupByEmail": 50.0,
    "usergroups.users.list": 20.0,
    "conversations.members": 100.0,
}
#: Methods Slack limits per conversation (DM) rather than per workspace: their limit above applies to each
#: conversation on its own. ``assistant.threads.setStatus`` has "special" limits, per DM like chat.postMessage.
PER_CONVERSATION = frozenset({"assistant.threads.setStatus"})
#: Per-conversation buckets kept (least recently used dropped first): a dropped bucket was idle long enough to
#: be full again, so forgetting it changes nothing, and memory stays bounded however many DMs there are.
CONVERSATION_BUCKETS_KEPT = 10_000
#: The window of Slack's tiers (calls per minute), as booked across instances.
TIER_WINDOW = 60.0
#: The share of a shared tier optional calls leave to required ones (at least one call).
REQUIRED_RESERVE = 0.2
#: While a shared tier is full, the longest a required call waits before it looks for room again.
SHARED_POLL = 0.5

log = logging.getLogger("adapters.slack")


class SharedTier(Protocol):
    """One workspace method's window shared by every instance (``storage.pg_budget.PostgresRequestWindow``)."""

    async def take(self, count: int = 1, reserve: int = 0) -> tuple[list[object], float]:
        """Book up to ``count`` calls as the window has room, leaving ``reserve`` free: ``(bookings, 0.0)``; none:
        ``([], seconds to wait)``."""
        ...


#: Makes the shared window named ``key`` allowing ``limit`` calls per ``window`` seconds.
SharedTiers = Callable[[str, int, float], SharedTier]


class MethodBucket(FairScheduler):
    """One method's tier in one workspace (or one DM): the core's fair scheduler over a token bucket.

    The methods taking ``now`` decide with time passed in (benchmarks and tests run them in virtual time).
    """

    def __init__(
        self, per_minute: float, now: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        burst = burst if burst is not None else max(1.0, min(per_minute / 10.0, 10.0))
        self.bucket = TokenBucket(per_minute / 60.0, burst, now)
        super().__init__(self.bucket, clock=clock)

    @property
    def tokens(self) -> float:
        """Calls that may go at once."""
        return self.bucket.tokens

    @tokens.setter
    def tokens(self, value: float) -> None:
        self.bucket.tokens = value

    def try_take(self, conversation: str, now: float) -> bool:
        """Take a token for an optional call if spare capacity allows; never ahead of a waiting call, and
        while tokens are scarce at most a fair share per conversation."""
        return self.try_acquire(conversation, share=True, now=now) is not None

    def take_now(self, conversation: str, now: float) -> bool:
        """Take a token for a required call if nobody is queued and one is available."""
        return self.try_acquire(conversation, now=now) is not None

    def pump(self, now: float) -> float | None:
        """Grant queued calls while tokens last. Returns seconds until the next token, or None if none waits."""
        return self.serve(now)

    def block(self, now: float, seconds: float) -> None:
        """Slack answered 429: no calls of this method until ``seconds`` from ``now``."""
        self.bucket.block(now, seconds)


class SlackBudget:
    """All buckets: one per (workspace, method), or per (conversation, method) for :data:`PER_CONVERSATION`.

    Shared by every conversation the process serves.
    """

    def __init__(
        self,
        limits: dict[str, float] | None = None,
        *,
        bursts: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``limits``: calls per minute per workspace by method (default :data:`DEFAULT_LIMITS`); ``bursts``: how
        many calls of a method may go at once after a quiet spell (default a tenth of the limit, 1 to 10)."""
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.bursts = dict(bursts or {})
        self._clock = clock
        self._buckets: dict[tuple[str, str], MethodBucket] = {}
        self._by_conversation: OrderedDict[tuple[str, str], MethodBucket] = OrderedDict()
        self.shared: SharedTiers | None = None  # set when other instances share the workspace's tiers
        self.tier_window = TIER_WINDOW
        self._shared: dict[tuple[str, str], SharedTier] = {}

    def bucket(self, team: str, method: str, conversation: str = "") -> MethodBucket | None:
        """The bucket of ``method`` in workspace ``team`` (in ``conversation`` for a per-conversation method);
        None: the method is not budgeted."""
        limit = self.limits.get(method)
        if limit is None:
            return None
        if method in PER_CONVERSATION:
            return self._conversation_bucket(f"{team}|{conversation}", method, limit)
        found = self._buckets.get((team, method))
        if found is None:
            found = self._buckets[(team, method)] = self._new_bucket(method, limit)
        return found

    def _new_bucket(self, method: str, limit: float) -> MethodBucket:
        return MethodBucket(limit, self._clock(), self.bursts.get(method), clock=self._clock)

    def _conversation_bucket(self, scope: str, method: str, limit: float) -> MethodBucket:
        found = self._by_conversation.get((scope, method))
        if found is None:
            found = self._new_bucket(method, limit)
            self._by_conversation[(scope, method)] = found
            while len(self._by_conversation) > CONVERSATION_BUCKETS_KEPT:
                oldest = next(iter(self._by_conversation))
                if self._by_conversation[oldest].waiting():  # in use: keep it (rare: nothing waits for setStatus)
                    self._by_conversation.move_to_end(oldest)
                    break
                del self._by_conversation[oldest]
        else:
            self._by_conversation.move_to_end((scope, method))
        return found

    def try_acquire(self, team: str, method: str, conversation: str) -> bool:
        """An optional call may go now (see :meth:`MethodBucket.try_take`)."""
        bucket = self.bucket(team, method, conversation)
        return True if bucket is None else bucket.try_take(conversation, self._clock())

    def try_now(self, team: str, method: str, conversation: str) -> bool:
        """Take a token if one is free and nobody queues (see :meth:`MethodBucket.take_now`); never waits."""
        bucket = self.bucket(team, method, conversation)
        return True if bucket is None else bucket.take_now(conversation, self._clock())

    async def acquire(self, team: str, method: str, conversation: str) -> None:
        """Wait for this conversation's turn to call ``method`` in workspace ``team`` (round-robin)."""
        bucket = self.bucket(team, method, conversation)
        if bucket is not None:
            await bucket.acquire(conversation)
        await self.shared_room(team, method, wait=True)

    async def shared_room(self, team: str, method: str, *, wait: bool, spare: bool = False) -> bool:
        """Book a call of ``method`` in workspace ``team`` in the tier every instance shares: True when booked
        (or nothing is shared: one instance, a method limited per conversation or not at all). ``wait``: wait
        for room, else give up at once; ``spare`` (an optional call): only if that leaves the reserve of required
        calls free. A database that cannot be reached leaves the process's own budget."""
        limit = self.limits.get(method)
        if self.shared is None or limit is None or method in PER_CONVERSATION:
            return True
        tier = self._shared.get((team, method))
        if tier is None:
            tier = self.shared(f"slack {team} {method}", max(1, int(limit)), self.tier_window)
            self._shared[(team, method)] = tier
        reserve = max(1, int(limit * REQUIRED_RESERVE)) if spare else 0
        while True:
            try:
                booked, room_in = await tier.take(1, reserve)
            except Exception as error:  # the database is away: do not stop the replies for it
                log.warning("slack: the shared %s tier cannot be reached (%s)", method, type(error).__name__)
                return True
            if booked:
                return True
            if not wait:
                return False
            await asyncio.sleep(min(max(room_in, 0.01), SHARED_POLL))

    def penalize(self, team: str, method: str, seconds: float, conversation: str = "") -> None:
        """Slack rate-limited ``method`` in ``team`` (in ``conversation`` for a per-conversation method): hold
        the calls it limits for ``seconds``."""
        bucket = self.bucket(team, method, conversation)
        if bucket is not None:
            bucket.penalize(seconds)

    async def close(self) -> None:
        """Stop the buckets' timers (nothing runs in the background afterwards)."""
        for bucket in [*self._buckets.values(), *self._by_conversation.values()]:
            bucket.close()
