"""The terminal chat loop: reads the respondent's lines (a terminal or a pipe) and hands them to the bridge.

Each line waits for the interviewer's reply before the next is read, so piped input plays out as a
conversation. At the end of the input the interview is completed as ``respondent_left`` and the loop ends.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from typing import TextIO

from adapters.terminal.adapter import TerminalAdapter
from bot.core import (
    Action,
    Bridge,
    Catalogue,
    ConversationKey,
    Exit,
    InboundEvent,
    OutcomeKind,
    RespondentInfo,
    Retry,
    Start,
    UserText,
    catalogue,
    retry_word,
)

SHOWN_OUTCOMES = {OutcomeKind.STALE, OutcomeKind.NOT_YOURS, OutcomeKind.NO_INTERVIEW, OutcomeKind.FAILED}


def terminal_key(user: str | None = None) -> ConversationKey:
    """The conversation key of the terminal chat for ``user`` (default: the login name)."""
    return ConversationKey("terminal", "", "console", user or getpass.getuser())


class TerminalChat:
    """One respondent at one terminal."""

    def __init__(
        self, bridge: Bridge, stdin: TextIO, stdout: TextIO, *, user: str | None = None, study: str | None = None
    ) -> None:
        self.bridge = bridge
        self.stdin = stdin
        self.key = terminal_key(user)
        self.adapter = TerminalAdapter(stdout, self.key)
        self.study = study
        self.interactive = stdin.isatty()
        locale = (os.environ.get("LANG") or "").split(".")[0].replace("_", "-") or None
        self.respondent = RespondentInfo(
            external_id=self.key.user, display_name=self.key.user, locale=locale, metadata={"client": "terminal"}
        )
        bridge.register(self.adapter)

    @property
    def tr(self) -> Catalogue:
        """The respondent's catalogue (their ``LANG``, else KOJI_LOCALE)."""
        return catalogue(self.respondent.locale or self.bridge.config.locale)

    async def run(self) -> int:
        """Chat until the interview ends or the input does. Returns the process exit status."""
        if not await self._open():
            return 1
        while not self.adapter.ended.is_set():
            if self.interactive:
                self.adapter.write("\n" + self.tr.gettext("You:") + " ")
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:  # end of input: the respondent left
                if not self.adapter.ended.is_set():
                    await self.bridge.handle(Exit(self.key, confirmed=True))
                break
            text = line.rstrip("\r\n")
            if not self.interactive:
                self.adapter.write(f"\n{self.tr.gettext('You:')} {text}\n")
            event = self._event(text)
            if event is None:
                continue
            outcome = await self.bridge.handle(event)
            if outcome.kind in SHOWN_OUTCOMES and outcome.message:
                self.adapter.write(f"— {outcome.message}\n")
            await self.bridge.wait_until_idle(self.key)
        return 0

    async def _open(self) -> bool:
        record = await self.bridge.current(self.key)
        if record is not None:
            self.adapter.write(self.tr.gettext("(continuing your interview where you left off)") + "\n")
            await self.bridge.wait_until_idle(self.key)
            pending = await self.bridge.pending(self.key)
            if pending is not None:
                await self.adapter.show_question(self.key, pending)
            return True
        outcome = await self.bridge.handle(Start(self.key, self.respondent, self.study))
        return outcome.kind is not OutcomeKind.FAILED

    def _event(self, text: str) -> InboundEvent | None:
        word = text.strip().lower()
        if word in ("retry", retry_word(self.tr).lower()) and Action.RETRY in self.adapter.last_actions:
            self.adapter.last_actions = ()
            return Retry(self.key, actor=self.key.user)
        return UserText(self.key, text, self.respondent)
