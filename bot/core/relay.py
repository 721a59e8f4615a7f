"""Relays one streamed reply to an adapter, coalescing chunks to the adapter's update interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.api.models import (
    ErrorEvent,
    Question,
    QuestionEvent,
    QueuePosition,
    StatusEvent,
    StreamEvent,
    TextDelta,
    TextReplace,
)
from bot.core import texts
from bot.core.i18n import Catalogue, catalogue
from bot.core.ports import Notice, PendingQuestion, ReplyStream, RespondentUnreachable

log = logging.getLogger(__name__)


class StreamErrorReported(Exception):
    """The API reported an error inside the stream."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class ReplyRelay:
    """Feeds stream events to a :class:`ReplyStream`, never more often than ``interval`` seconds.

    Text that arrives between two updates is kept and delivered by a timer, so a slow stream still shows
    progress; ``finish`` always hands the adapter the whole text.
    """

    def __init__(self, stream: ReplyStream, interval: float, tr: Catalogue | None = None) -> None:
        self._stream = stream
        self._tr = tr or catalogue(None)  # the respondent's language, for the queue status
        self._interval = max(0.0, interval)
        self._text = ""
        self._shown = 0  # characters handed to the stream so far
        self._replaced = False
        self._last_update = float("-inf")
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._timer_sleeping = False
        self.question: Question | None = None
        self.is_complete = False
        self.status: str | None = None
        #: the platform said the respondent cannot be reached while the reply streamed
        self.unreachable = False
        #: loop times of the first text received from the API and of the first text the adapter showed
        self.first_text_at: float | None = None
        self.first_visible_at: float | None = None

    @property
    def text(self) -> str:
        """The reply received so far."""
        return self._text

    async def queued(self, position: QueuePosition) -> None:
        """Tell the respondent the request is waiting for the shared API budget."""
        if not self._text and not self.unreachable:
            try:
                await self._stream.status(texts.queued(self._tr, position))
            except RespondentUnreachable:
                self.unreachable = True

    async def feed(self, event: StreamEvent) -> None:
        """Take one event from the API stream."""
        if isinstance(event, TextDelta):
            if self.first_text_at is None and event.text:
                self.first_text_at = asyncio.get_running_loop().time()
            self._text += event.text
            await self._update()
        elif isinstance(event, TextReplace):
            self._replaced = not event.text.startswith(self._text[: self._shown])
            self._text = event.text
            if not self._replaced:
                await self._update()
        elif isinstance(event, QuestionEvent):
            self.question = event.question
        elif isinstance(event, StatusEvent):
            self.status = event.status
            self.is_complete = event.is_complete or event.status == "completed"
        elif isinstance(event, ErrorEvent):
            raise StreamErrorReported(event.code, event.message)

    async def _update(self) -> None:
        loop = asyncio.get_running_loop()
        due = self._last_update + self._interval
        if loop.time() >= due:
            await self._push()
        elif self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._push_at(due))

    async def _push_at(self, due: float) -> None:
        self._timer_sleeping = True
        try:
            await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))
        finally:
            self._timer_sleeping = False
        await self._push()

    async def _push(self) -> None:
        async with self._lock:
            if self._replaced or len(self._text) <= self._shown:
                return
            if self.unreachable:
                return
            chunk = self._text[self._shown :]
            self._shown = len(self._text)
            self._last_update = asyncio.get_running_loop().time()
            try:
                await self._stream.append(chunk)
            except RespondentUnreachable:  # keep receiving the reply: it is stored even if nobody sees it
                self.unreachable = True
                return
            self._shown_first()

    def _shown_first(self) -> None:
        if self.first_visible_at is None:
            self.first_visible_at = asyncio.get_running_loop().time()

    async def _stop_timer(self) -> None:
        """Cancel a timer still waiting; let one already updating the adapter finish its call."""
        if self._timer is None or self._timer.done():
            return
        if self._timer_sleeping:
            self._timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._timer

    async def finish(self, text: str, pending: PendingQuestion | None) -> None:
        """Deliver the whole reply and its question (raises RespondentUnreachable if nobody can see it)."""
        await self._stop_timer()
        async with self._lock:
            if self.unreachable:
                raise RespondentUnreachable("the respondent became unreachable during the reply")
            await self._stream.finish(text, pending)
            if text:
                self._shown_first()

    async def fail(self, notice: Notice) -> None:
        """End the message visibly with ``notice`` (raises RespondentUnreachable if nobody can see it)."""
        await self._stop_timer()
        async with self._lock:
            if self.unreachable:
                raise RespondentUnreachable("the respondent became unreachable during the reply")
            await self._stream.fail(self._text, notice)
