"""The terminal adapter: the interview in a terminal or over a pipe.

Everything it prints goes through :func:`bot.core.safe_text.printable`: the interviewer's words, echoed
answers and notices are shown with control characters made visible, so no text can clear the screen,
move the cursor or recolour the terminal.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from adapters.terminal.render import render_question
from bot.core import (
    Action,
    Catalogue,
    ConversationKey,
    Notice,
    NoticeKind,
    PendingQuestion,
    agree_label,
    cancel_word,
    catalogue,
    confirm_word,
    decline_label,
    exit_word,
    printable,
    retry_word,
    start_word,
)

#: Notices after which the terminal chat is over: the interview ended, consent was declined, the person was erased.
_ENDING = (NoticeKind.ENDED, NoticeKind.DECLINED, NoticeKind.ERASED)


def action_hint(tr: Catalogue, action: Action) -> str | None:
    """The words that act as a notice's button on the terminal."""
    if action is Action.RETRY:
        return tr.gettext("type “{word}” to try again").format(word=retry_word(tr))
    if action is Action.END:
        return tr.gettext("type “{word}” to end the interview").format(word=exit_word(tr))
    if action is Action.NEW_INTERVIEW:
        return tr.gettext("type “{word}” to start another interview").format(word=start_word(tr))
    if action is Action.AGREE:
        return tr.gettext("type “{words}” to begin").format(words=agree_label(tr))
    if action is Action.DECLINE:
        return tr.gettext("type “{words}” to decline").format(words=decline_label(tr))
    if action is Action.FORGET:
        return tr.gettext("type “{word}” to erase").format(word=confirm_word(tr))
    if action is Action.KEEP:
        return tr.gettext("type “{word}” to keep it").format(word=cancel_word(tr))
    return None


def speaker(tr: Catalogue) -> str:
    """The label before the interviewer's words."""
    return tr.gettext("Interviewer:")


class TerminalReply:
    """One interviewer reply, printed as it streams."""

    def __init__(self, adapter: TerminalAdapter, tr: Catalogue) -> None:
        self._adapter = adapter
        self._tr = tr
        self._shown = ""

    async def status(self, text: str) -> None:
        """Print a status line (e.g. waiting in the queue)."""
        self._adapter.write(f"  ({text})\n")

    async def append(self, text: str) -> None:
        """Print the next piece of the reply."""
        if not self._shown:
            self._adapter.write(f"\n{speaker(self._tr)} ")
        self._shown += text
        self._adapter.write(text)

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        """Print what is missing of ``text`` and the question's choices."""
        if self._shown and text.startswith(self._shown):
            self._adapter.write(text[len(self._shown) :] + "\n")
        else:
            if self._shown:
                self._adapter.write("\n")
            self._adapter.write(f"\n{speaker(self._tr)} {text}\n")
        self._shown = text
        self._adapter.pending = question
        if question is not None:
            self._adapter.show_choices(question)
        self._adapter.turn_done()

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        """End the broken reply with a note and what to do."""
        if self._shown:
            self._adapter.write("\n")
        await self._adapter.notify(self._adapter.key, notice)
        self._adapter.turn_done()


class TerminalAdapter:
    """Prints to ``output``; the chat loop in :mod:`adapters.terminal.chat` reads the respondent's lines."""

    platform = "terminal"

    def __init__(self, output: TextIO, key: ConversationKey, *, update_interval: float = 0.05) -> None:
        self.output = output
        self.key = key
        self.update_interval = update_interval
        self.pending: PendingQuestion | None = None
        self.last_actions: tuple[Action, ...] = ()
        self.last_notice: NoticeKind | None = None  # the kind of the latest notice (a pending exit confirmation)
        self.replied = False  # a reply began since the chat opened
        self.ended = asyncio.Event()
        self._turn = asyncio.Event()

    def write(self, text: str) -> None:
        """Write and flush (a pipe shows progress too); control characters are shown, never obeyed."""
        self.output.write(printable(text))
        self.output.flush()

    def show_choices(self, pending: PendingQuestion) -> None:
        """Print a structured question's choices."""
        for line in render_question(catalogue(pending.locale), pending.question):
            self.write(line + "\n")

    def turn_done(self) -> None:
        """A reply finished or failed."""
        self._turn.set()

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> TerminalReply:
        """A new reply starts."""
        self._turn.clear()
        self.replied = True
        self.last_notice = None
        return TerminalReply(self, catalogue(locale))

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        """Print a question on its own."""
        self.pending = pending
        self.write(f"\n{speaker(catalogue(pending.locale))} {pending.question.text}\n")
        self.show_choices(pending)

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        """Print the bot's own message and the words that act as its buttons."""
        self.last_actions = notice.actions
        self.last_notice = notice.kind
        ending = notice.kind in _ENDING  # the chat ends with the interview
        tr = catalogue(notice.locale)
        hints = [hint for a in notice.actions if (hint := action_hint(tr, a)) and not ending]
        suffix = f" ({'; '.join(hints)})" if hints else ""
        self.write(f"\n— {notice.text}{suffix}\n")
        if ending:
            self.pending = None
            self.ended.set()
