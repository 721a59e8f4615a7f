"""Lifecycle hooks: an embedding bot learns when an interview starts and when (and why) it ends.

Several subscribers may listen. Each runs in its own task, outside the conversation's lock (a subscriber may
call the bridge again, e.g. to start the next interview); one that raises is logged and harms nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.endings import EndReason
from bot.core.keys import ConversationKey

__all__ = ["DeclinedHook", "EndedHook", "Hooks", "StartedHook"]

log = logging.getLogger("bot.core.hooks")

#: ``on_started(key, interview_id)``
StartedHook = Callable[[ConversationKey, str], Awaitable[None]]
#: ``on_ended(key, interview_id, reason)``
EndedHook = Callable[[ConversationKey, str, EndReason], Awaitable[None]]
#: ``on_declined(key, study)``: the person answered a study's consent text with "No thanks"
DeclinedHook = Callable[[ConversationKey, str], Awaitable[None]]


class Hooks:
    """The subscribers of the start and the end of interviews, and the tasks running them."""

    def __init__(self) -> None:
        self.started: list[StartedHook] = []
        self.ended: list[EndedHook] = []
        self.declined: list[DeclinedHook] = []
        self._running: set[asyncio.Task[None]] = set()

    def remove(self, hook: StartedHook | EndedHook | DeclinedHook) -> None:
        """Unsubscribe ``hook`` (from every list; unknown hooks are ignored)."""
        self.started = [h for h in self.started if h is not hook]
        self.ended = [h for h in self.ended if h is not hook]
        self.declined = [h for h in self.declined if h is not hook]

    def fire_started(self, key: ConversationKey, interview_id: str) -> None:
        """Tell every ``on_started`` subscriber (in the background)."""
        for hook in list(self.started):
            self._spawn(hook(key, interview_id), "on_started", interview_id)

    def fire_ended(self, key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        """Tell every ``on_ended`` subscriber (in the background)."""
        for hook in list(self.ended):
            self._spawn(hook(key, interview_id, reason), "on_ended", interview_id)

    def fire_declined(self, key: ConversationKey, study: str) -> None:
        """Tell every ``on_declined`` subscriber (in the background)."""
        for hook in list(self.declined):
            self._spawn(hook(key, study), "on_declined", study)

    def _spawn(self, call: Awaitable[None], name: str, interview_id: str) -> None:
        async def run() -> None:
            try:
                await call
            except Exception:  # a subscriber's bug is its own: the core goes on
                log.exception("%s subscriber failed interview=%s", name, interview_id)

        task = asyncio.create_task(run(), name=f"hook:{name}:{interview_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        """Wait until every subscriber call started so far has returned."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
