"""Slack's per-method, per-workspace rate tiers as one budget shared fairly by all conversations.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable

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
#: A conversation counts as active (for fair shares) this long after its last call.
ACTIVE_WINDOW = 60.0


class MethodBucket:
    """The token bucket of one method in one workspace, with a fair queue. Pure: time is passed in."""

    def __init__(self, per_minute: float, now: float, burst: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, min(per_minute / 10.0, 10.0))
        self.tokens = self.capacity
        self.updated = now
        self.blocked_until = 0.0
        self.waiters: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self.last_grant: dict[str, float] = {}
        self._recent: set[str] = set()
        self._recent_at: float | None = None

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def _prune(self) -> None:
        """Forget waiters that gave up (cancelled)."""
        for conversation in [c for c, q in self.waiters.items() if all(f.done() for f in q)]:
            del self.waiters[conversation]

    def _available(self, now: float) -> bool:
        self._refill(now)
        return now >= self.blocked_until and self.tokens >= 1.0

    def _grant(self, conversation: str, now: float) -> None:
        self.tokens -= 1.0
        self.last_grant[conversation] = now
        self._recent.add(conversation)

    def active_conversations(self, now: float, including: str | None = None) -> int:
        """Conversations that called within the last minute or are waiting now (plus ``including``)."""
        if self._recent_at is None or not 0.0 <= now - self._recent_at < 1.0:  # recomputed at most once a second
            cutoff = now - ACTIVE_WINDOW
            self._recent = {c for c, t in self.last_grant.items() if t >= cutoff}
            self._recent_at = now
            for c in [c for c, t in self.last_grant.items() if t < cutoff]:
                del self.last_grant[c]  # forget conversations long quiet
        extra = {c for c in self.waiters if c not in self._recent}
        if including is not None and including not in self._recent:
            extra.add(including)
        return len(self._recent) + len(extra)

    def try_take(self, conversation: str, now: float) -> bool:
        """Take a token for an optional call if spare capacity allows; never ahead of a waiting call."""
        self._prune()
        if self.waiters or not self._available(now):
            return False
        last = self.last_grant.get(conversation)
        if self.tokens < self.capacity / 2 and last is not None:  # scarce: at most a fair share each
            active = self.active_conversations(now, including=conversation)
            if active > 1 and now - last < (active / self.rate):
                return False
        self._grant(conversation, now)
        return True

    def take_now(self, conversation: str, now: float) -> bool:
        """Take a token for a required call if nobody is queued and one is available."""
        self._prune()
        if self.waiters or not self._available(now):
            return False
        self._grant(conversation, now)
        return True

    def enqueue(self, conversation: str, waiter: asyncio.Future[None]) -> None:
        """Queue a required call; served round-robin across conversations by :meth:`pump`."""
        self.waiters.setdefault(conversation, deque()).append(waiter)

    def pump(self, now: float) -> float | None:
        """Grant queued calls while tokens last. Returns seconds until the next token, or None if none waits."""
        while self.waiters:
            conversation, queue = next(iter(self.waiters.items()))
            while queue and queue[0].done():  # cancelled waiters
                queue.popleft()
            if not queue:
                del self.waiters[conversation]
                continue
            if not self._available(now):
                if now < self.blocked_until:
                    return self.blocked_until - now
                return max((1.0 - self.tokens) / self.rate, 0.001)
            queue.popleft().set_result(None)
            self._grant(conversation, now)
            del self.waiters[conversation]
            if queue:  # more from the same conversation: to the back of the line
                self.waiters[conversation] = queue
        return None

    def block(self, now: float, seconds: float) -> None:
        """Slack answered 429: no calls of this method until ``seconds`` from ``now``."""
        self.blocked_until = max(self.blocked_until, now + seconds)
        self.tokens = 0.0
        self.updated = now


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
        self._pumps: dict[tuple[str, str], asyncio.Task[None]] = {}

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
            found = self._buckets[(team, method)] = MethodBucket(limit, self._clock(), self.bursts.get(method))
        return found

    def _conversation_bucket(self, scope: str, method: str, limit: float) -> MethodBucket:
        found = self._by_conversation.get((scope, method))
        if found is None:
            found = MethodBucket(limit, self._clock(), self.bursts.get(method))
            self._by_conversation[(scope, method)] = found
            while len(self._by_conversation) > CONVERSATION_BUCKETS_KEPT:
                oldest = next(iter(self._by_conversation))
                if self._by_conversation[oldest].waiters:  # in use: keep it (rare: nothing waits for setStatus)
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
        """Wait for this conversation's turn to call ``method`` in workspace ``team``."""
        bucket = self.bucket(team, method, conversation)
        if bucket is None or bucket.take_now(conversation, self._clock()):
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        bucket.enqueue(conversation, waiter)
        self._ensure_pump(f"{team}|{conversation}" if method in PER_CONVERSATION else team, method, bucket)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                bucket.tokens += 1.0  # granted but not used: give it back
            raise

    def penalize(self, team: str, method: str, seconds: float, conversation: str = "") -> None:
        """Slack rate-limited ``method`` in ``team`` (in ``conversation`` for a per-conversation method): hold
        the calls it limits for ``seconds``."""
        bucket = self.bucket(team, method, conversation)
        if bucket is not None:
            bucket.block(self._clock(), seconds)

    def _ensure_pump(self, team: str, method: str, bucket: MethodBucket) -> None:
        task = self._pumps.get((team, method))
        if task is None or task.done():
            self._pumps[(team, method)] = asyncio.create_task(self._pump(bucket), name=f"slack-budget-{method}")

    async def _pump(self, bucket: MethodBucket) -> None:
        while True:
            delay = bucket.pump(self._clock())
            if delay is None:
                return
            await asyncio.sleep(delay)

    async def close(self) -> None:
        """Stop the pump tasks (waiting calls are cancelled)."""
        for task in self._pumps.values():
            task.cancel()
        for task in self._pumps.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pumps.clear()
