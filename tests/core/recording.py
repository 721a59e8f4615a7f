"""A platform stand-in for core tests: an Adapter that records what the core asks it to show."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.keys import ConversationKey
from bot.core.ports import Notice, NoticeKind, PendingQuestion, RespondentUnreachable


@dataclass
class RecordedReply:
    """One reply stream as the platform would show it."""

    key: ConversationKey
    statuses: list[str] = field(default_factory=list)
    appends: list[str] = field(default_factory=list)
    final: str | None = None
    question: PendingQuestion | None = None
    failed: Notice | None = None
    text_at_failure: str | None = None

    @property
    def shown(self) -> str:
        """What the respondent sees."""
        return self.final if self.final is not None else "".join(self.appends)


class RecordingReply:
    def __init__(self, adapter: RecordingAdapter, reply: RecordedReply) -> None:
        self._adapter = adapter
        self.reply = reply

    async def status(self, text: str) -> None:
        self.reply.statuses.append(text)

    async def append(self, text: str) -> None:
        self._adapter.check_reachable(self.reply.key)
        if self._adapter.broken_appends:
            raise RuntimeError("a platform bug")
        self.reply.appends.append(text)

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        self._adapter.check_reachable(self.reply.key)
        if self._adapter.broken_finishes:
            self._adapter.broken_finishes -= 1
            raise RuntimeError("the platform refused the final update")
        self.reply.final = text
        self.reply.question = question
        self._adapter.changed.set()

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        self.reply.failed = notice
        self.reply.text_at_failure = text_so_far
        self._adapter.changed.set()
        if self._adapter.on_fail is not None:  # e.g. a respondent who clicks Retry the instant it shows
            await self._adapter.on_fail(self.reply)


class RecordingAdapter:
    """Records replies and notices per conversation; can play a respondent who blocked the bot."""

    def __init__(self, platform: str = "test", update_interval: float = 0.0) -> None:
        self.platform = platform
        self.update_interval = update_interval
        self.replies: list[RecordedReply] = []
        self.notices: list[tuple[ConversationKey, Notice]] = []
        self.questions: list[PendingQuestion] = []
        self.unreachable: set[str] = set()
        self.refused = 0  # calls refused because the respondent was unreachable
        self.broken_appends = False  # append raises an unexpected error (a bug in platform code)
        self.broken_finishes = 0  # the next N finishes raise (a platform error once the API has answered)
        self.broken_notify: Exception | None = None  # notify raises this (a platform's own error, e.g. HTTP 500)
        self.on_fail: Callable[[RecordedReply], Awaitable[None]] | None = None
        self.changed = asyncio.Event()

    def check_reachable(self, key: ConversationKey) -> None:
        if key.user in self.unreachable:
            self.refused += 1
            raise RespondentUnreachable(f"user {key.user} blocked the bot")

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> RecordingReply:
        self.check_reachable(key)
        reply = RecordedReply(key)
        self.replies.append(reply)
        return RecordingReply(self, reply)

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        self.check_reachable(key)
        self.questions.append(pending)

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        self.check_reachable(key)
        if self.broken_notify is not None:
            raise self.broken_notify
        self.notices.append((key, notice))
        self.changed.set()

    def replies_of(self, key: ConversationKey) -> list[RecordedReply]:
        return [r for r in self.replies if r.key == key]

    def notices_of(self, key: ConversationKey, kind: NoticeKind | None = None) -> list[Notice]:
        return [n for k, n in self.notices if k == key and (kind is None or n.kind is kind)]

    def last_question(self, key: ConversationKey) -> PendingQuestion | None:
        finished = [r for r in self.replies_of(key) if r.final is not None]
        return finished[-1].question if finished else None
