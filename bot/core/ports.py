"""What the core asks of an adapter: rendering reply streams, questions and notices on one platform."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.api.models import Question
from bot.core.keys import ConversationKey


class Action(StrEnum):
    """Buttons (or typed words, on the terminal) an adapter offers under a notice or a reply."""

    RETRY = "retry"
    END = "end"  # ask to end the interview (leads to a confirmation)
    CONFIRM_EXIT = "confirm_exit"
    CANCEL_EXIT = "cancel_exit"
    NEW_INTERVIEW = "new_interview"
    AGREE = "agree"  # "I agree" under a consent text: the interview starts
    DECLINE = "decline"  # "No thanks": nothing is sent, the study is not offered again
    FORGET = "forget"  # confirms "erase everything about me"
    KEEP = "keep"  # cancels it


class NoticeKind(StrEnum):
    """What a notice is about, so an adapter can style it."""

    INFO = "info"
    REJECTED = "rejected"  # the message was not sent (empty, too long, attachment only)
    CONFIRM_EXIT = "confirm_exit"
    NUDGE = "nudge"  # inactivity reminder
    ENDED = "ended"  # the interview is over (thank-you / closing message)
    OFFER_NEW = "offer_new"
    ERROR = "error"
    CHOOSE_STUDY = "choose_study"  # several studies are open: ``studies`` lists them to pick from
    CONSENT = "consent"  # the study's consent text with I agree / No thanks: nothing is sent before agreeing
    DECLINED = "declined"  # "No thanks" was taken: nothing started (the terminal chat ends here)
    CONFIRM_FORGET = "confirm_forget"  # "erase everything about you?" with Erase / Keep
    ERASED = "erased"  # everything about the person was erased (the terminal chat ends here)


@dataclass(frozen=True, slots=True)
class Notice:
    """A short message from the bot itself (not the interviewer), with optional actions."""

    kind: NoticeKind
    text: str
    actions: tuple[Action, ...] = ()
    studies: tuple[tuple[str, str], ...] = ()  # (study id, study name) to choose from (CHOOSE_STUDY)
    #: the respondent's locale: the adapter words its buttons in it (``catalogue(notice.locale)``)
    locale: str | None = None
    #: the study a consent text is about (Discord adds **Remind me later** for it)
    study: str | None = None


@dataclass(frozen=True, slots=True)
class PendingQuestion:
    """A structured question waiting for its answer in one conversation."""

    interview_id: str
    question: Question
    owner: str  # the platform user id of the respondent
    #: the interview's locale: the adapter words the question's controls in it
    locale: str | None = None


class ReplyStream(Protocol):
    """One interviewer reply being shown as it grows.

    The core calls ``status`` while the request waits, then ``append`` with the text that arrived since
    the last call (no more often than the adapter's ``update_interval``), then exactly one of
    ``finish`` (with the whole text, which the adapter must make sure is shown in full) or ``fail``.
    """

    async def status(self, text: str) -> None:
        """Show a transient status (e.g. "queued: 3rd in line, about 20 s") in place of the reply."""

    async def append(self, text: str) -> None:
        """Add ``text`` to the reply shown so far."""

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        """The reply is complete: show exactly ``text``; render ``question`` with it (or right after)."""

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        """The reply broke: end the message visibly with ``notice`` (and its actions, e.g. Retry / End)."""


class Adapter(Protocol):
    """A platform the core talks through: Discord, Slack, the terminal."""

    #: The ``platform`` part of conversation keys this adapter serves.
    platform: str
    #: Minimum seconds between two updates of one reply stream (edits on Discord, appends on Slack).
    update_interval: float

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> ReplyStream:
        """Show at once that the interviewer is replying (placeholder, typing, thinking status).

        ``locale`` is the interview's: the stream words its own texts (buttons, status) in it.
        """
        ...

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        """Render a structured question on its own (e.g. one restored after a restart)."""

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        """Send a notice into the conversation."""


class RespondentUnreachable(Exception):
    """Raised by an adapter when the respondent can no longer be reached (DMs closed, bot blocked, app removed).

    The core stops sending to that conversation; at the inactivity deadline the interview completes with
    reason ``respondent_left`` instead of ``timeout``.
    """


@dataclass(frozen=True, slots=True)
class ResultsFile:
    """A file posted with results (a PNG chart, a CSV export)."""

    filename: str
    content: bytes
    title: str


@dataclass(frozen=True, slots=True)
class ResultsCard:
    """What the team sees in a study's results channel: a summary of one interview, or aggregates.

    Every text is already in the study's language. ``fields`` are (label, value) pairs shown in order; adapters
    render the card as a Discord embed or Slack Block Kit.
    """

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    quote: str | None = None
    footer: str | None = None


@runtime_checkable
class ResultsChannel(Protocol):
    """An adapter that can post results into a team's channel (not a respondent's conversation)."""

    async def post_results(self, channel: str, card: ResultsCard, files: Sequence[ResultsFile] = ()) -> str | None:
        """Post ``card`` (and ``files``) to ``channel``; files are uploaded as the platform does it. Returns the
        card's message id in the channel (what :meth:`ResultsEraser.delete_results` takes), if the platform gave
        one."""

    async def send_file_privately(self, key: ConversationKey, file: ResultsFile, text: str) -> None:
        """Hand ``file`` to the person of ``key`` only (their DM), with ``text``."""


@runtime_checkable
class ResultsEraser(Protocol):
    """An adapter that can delete a results card it posted (an erasure takes the respondent's cards with it)."""

    async def delete_results(self, channel: str, message: str) -> bool:
        """Delete the card ``message`` in ``channel``: True when it is gone (now, or deleted by someone before),
        False when it could not be deleted now (the platform refused, or failed: worth another try later)."""
        ...
