"""The terminal chat loop: reads the respondent's lines (a terminal or a pipe) and hands them to the bridge.

Each line waits for the interviewer's reply before the next is read, so piped input plays out as a
conversation. At the end of piped input the interview is completed as ``respondent_left`` and the loop ends.

On a terminal: Ctrl-C pauses (the chat ends at once, mid-reply or at the prompt; the interview stays stored
and the next start continues it, showing the pending question again); Ctrl-D asks before ending the interview
(a second Ctrl-D confirms). The person is greeted by the name they give (``--name``, or asked), never by
their login; their locale comes from ``LC_ALL``/``LC_MESSAGES``/``LANG``.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import signal
from typing import TextIO

from adapters.terminal.adapter import TerminalAdapter
from adapters.terminal.console import TERMINAL_LINE_LIMIT, LineReader, terminal_locale
from bot.core import (
    Action,
    Bridge,
    Catalogue,
    ConversationKey,
    Exit,
    InboundEvent,
    NoticeKind,
    OutcomeKind,
    RespondentInfo,
    Retry,
    Start,
    UserText,
    catalogue,
    retry_word,
)

SHOWN_OUTCOMES = {OutcomeKind.STALE, OutcomeKind.NOT_YOURS, OutcomeKind.NO_INTERVIEW, OutcomeKind.FAILED}
#: The exit status of a chat paused with Ctrl-C (as a shell reports SIGINT).
PAUSED = 130


def terminal_key(user: str | None = None) -> ConversationKey:
    """The conversation key of the terminal chat for ``user`` (default: the login name; it stays local)."""
    return ConversationKey("terminal", "", "console", user or getpass.getuser())


class TerminalChat:
    """One respondent at one terminal."""

    def __init__(
        self,
        bridge: Bridge,
        stdin: TextIO,
        stdout: TextIO,
        *,
        user: str | None = None,
        study: str | None = None,
        name: str | None = None,
        resume_command: str = "interview-bridge chat",
    ) -> None:
        self.bridge = bridge
        self.stdin = stdin
        self.key = terminal_key(user)
        self.adapter = TerminalAdapter(stdout, self.key)
        self.study = study
        self.name = (name or "").strip() or None
        self.resume_command = resume_command
        self.interactive = stdin.isatty()
        self.paused = False
        # the service sees a pseudonym, never the login name
        pseudonym = "terminal-" + hashlib.sha256(self.key.user.encode()).hexdigest()[:16]
        self.respondent = RespondentInfo(
            external_id=pseudonym, display_name=self.name, locale=terminal_locale(), metadata={"client": "terminal"}
        )
        bridge.register(self.adapter)

    @property
    def tr(self) -> Catalogue:
        """The respondent's catalogue (their ``LANG``, else KOJI_LOCALE)."""
        return catalogue(self.respondent.locale or self.bridge.config.locale)

    async def run(self) -> int:
        """Chat until the interview ends or the input does. Returns the process exit status."""
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers off the main thread
            loop.add_signal_handler(signal.SIGINT, self._pause, task)
        try:
            return await self._chat(LineReader(self.stdin, interactive=self.interactive))
        except asyncio.CancelledError:
            if not self.paused or task is None:
                raise
            task.uncancel()
            note = self.tr.gettext(
                "⏸ Paused — your interview is kept. To continue where you left off, run: {command}"
            ).format(command=self.resume_command)
            self.adapter.write(f"\n\n{note}\n")
            return PAUSED
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    def _pause(self, task: asyncio.Task[object] | None) -> None:
        """Ctrl-C: stop at once; the interview stays as it is (a reply cut now is shown whole next time)."""
        if self.paused or task is None:
            return
        self.paused = True
        task.cancel()

    async def _chat(self, reader: LineReader) -> int:
        if not await self._open(reader):
            return 1
        while not self.adapter.ended.is_set():
            if self.interactive:
                self.adapter.write("\n" + self.tr.gettext("You:") + " ")
            text = await reader.readline()
            if text is None:
                if not await self._end_of_input():
                    break
                continue
            if not self.interactive:
                self.adapter.write(f"\n{self.tr.gettext('You:')} {text}\n")
            elif len(text.encode()) >= TERMINAL_LINE_LIMIT:
                self.adapter.write(f"— {self._cut_line()}\n")
                continue
            outcome = await self.bridge.handle(self._event(text))
            if outcome.kind in SHOWN_OUTCOMES and outcome.message:
                self.adapter.write(f"— {outcome.message}\n")
            await self.bridge.wait_until_idle(self.key)
        return 0

    async def _end_of_input(self) -> bool:
        """The end of input: a pipe ends the interview; Ctrl-D asks first (a second one confirms).

        Returns whether the chat goes on.
        """
        if self.adapter.ended.is_set():
            return False
        confirming = self.adapter.last_notice is NoticeKind.CONFIRM_EXIT
        if self.interactive and not confirming:
            self.adapter.write("\n")
            await self.bridge.handle(Exit(self.key, actor=self.key.user))
            return True
        await self.bridge.handle(Exit(self.key, confirmed=True))
        return False

    def _cut_line(self) -> str:
        return self.tr.gettext(
            "That line reached your terminal's limit of {limit} bytes, so the terminal may have cut it off — "
            "nothing was sent. Please split it into shorter messages (or pipe a file into the chat)."
        ).format(limit=TERMINAL_LINE_LIMIT)

    async def _open(self, reader: LineReader) -> bool:
        record = await self.bridge.current(self.key)
        if record is not None:
            self.adapter.write(self.tr.gettext("(continuing your interview where you left off)") + "\n")
            await self.bridge.wait_until_idle(self.key)
            if not self.adapter.replied:  # nothing was resumed and shown: show where the interview stands
                await self._show_where_it_stands()
            return True
        if self.name is None and self.interactive:
            self.adapter.write(self.tr.gettext("What should the interviewer call you? (Enter to skip)") + " ")
            self.name = ((await reader.readline()) or "").strip() or None
            self.respondent = RespondentInfo(
                external_id=self.respondent.external_id,
                display_name=self.name,
                locale=self.respondent.locale,
                metadata=self.respondent.metadata,
            )
        outcome = await self.bridge.handle(Start(self.key, self.respondent, self.study))
        return outcome.kind is not OutcomeKind.FAILED

    async def _show_where_it_stands(self) -> None:
        """The interviewer's last words again, with the pending question's choices (after a pause or a restart)."""
        said = await self.bridge.last_said(self.key)
        pending = await self.bridge.pending(self.key)
        if said is None:
            if pending is not None:
                await self.adapter.show_question(self.key, pending)
            return
        self.adapter.write(f"\n{self.tr.gettext('Interviewer:')} {said}\n")
        if pending is not None:
            self.adapter.pending = pending
            self.adapter.show_choices(pending)

    def _event(self, text: str) -> InboundEvent:
        word = text.strip().lower()
        if word in ("retry", retry_word(self.tr).lower()) and Action.RETRY in self.adapter.last_actions:
            self.adapter.last_actions = ()
            return Retry(self.key, actor=self.key.user)
        return UserText(self.key, text, self.respondent)
