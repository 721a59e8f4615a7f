"""Neutral inbound events: what an adapter hands to the core, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.api.models import AnswerValue
from bot.core.keys import ConversationKey


@dataclass(frozen=True, slots=True)
class RespondentInfo:
    """What the adapter knows of the person: becomes the API's ``respondent``."""

    external_id: str
    display_name: str | None = None
    locale: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Guild, role, workspace or user-group ids the platform says the person belongs to (who may take a study).
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Start:
    """An explicit request to start an interview (slash command, button, first DM)."""

    key: ConversationKey
    respondent: RespondentInfo
    study: str | None = None
    event_id: str | None = None
    #: the person agreed to this study's consent text before (the store says so): no consent text is shown again
    consented: bool = False
    #: another bot handed the person over (a handoff): its consent text offers no **Remind me later**
    handed_over: bool = False


@dataclass(frozen=True, slots=True)
class UserText:
    """The respondent typed something. ``attachments`` counts files that came with it (never forwarded)."""

    key: ConversationKey
    text: str
    respondent: RespondentInfo
    event_id: str | None = None
    attachments: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """A structured answer from a component click.

    ``key`` is the conversation the question was posted in; ``actor`` is the platform user who clicked
    (someone else's click is refused). ``interview_id`` and ``question_id`` come from the component, so a
    click on a stale question is recognised. ``locale`` is the clicker's, when the platform tells it: the
    outcome's message is worded for them.
    """

    key: ConversationKey
    actor: str
    interview_id: str
    question_id: str
    value: AnswerValue
    event_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Exit:
    """The respondent wants to stop. ``confirmed=False`` asks them to confirm first."""

    key: ConversationKey
    confirmed: bool = False
    actor: str | None = None
    event_id: str | None = None
    locale: str | None = None  # the actor's, when the platform tells it (for the outcome's message)


@dataclass(frozen=True, slots=True)
class Retry:
    """Retry the turn that failed (the Retry button under a failed reply)."""

    key: ConversationKey
    actor: str | None = None
    event_id: str | None = None
    locale: str | None = None  # the actor's, when the platform tells it (for the outcome's message)


@dataclass(frozen=True, slots=True)
class CancelExit:
    """The respondent chose to continue after asking to exit."""

    key: ConversationKey
    actor: str | None = None
    event_id: str | None = None
    locale: str | None = None  # the actor's, when the platform tells it (for the outcome's message)


@dataclass(frozen=True, slots=True)
class ConsentReply:
    """The person answered a consent text: **I agree** (``agreed``) or **No thanks**."""

    key: ConversationKey
    agreed: bool
    actor: str | None = None
    event_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """``/interview forget-me`` or "delete my data": ``confirmed=False`` asks first; ``cancel`` keeps everything."""

    key: ConversationKey
    confirmed: bool = False
    cancel: bool = False
    actor: str | None = None
    event_id: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class MyData:
    """``/interview my-data``: everything stored about the person, as a JSON file (``Outcome.file``)."""

    key: ConversationKey
    event_id: str | None = None
    locale: str | None = None


PrivacyEvent = ConsentReply | ForgetMe | MyData
InboundEvent = Start | UserText | Answer | Exit | Retry | CancelExit | ConsentReply | ForgetMe | MyData


class OutcomeKind(StrEnum):
    """How the core took an event; adapters answer interactions from it (ephemerally where they can)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the platform event was already handled
    REJECTED = "rejected"  # bad input (empty, too long, attachment only): ``message`` says why
    STALE = "stale"  # a click on a question that is no longer pending
    NOT_YOURS = "not_yours"  # a click on someone else's question
    NO_INTERVIEW = "no_interview"  # nothing to act on
    FAILED = "failed"  # the interview API failed; ``message`` says what to do (the respondent was told)
    UNREACHABLE = "unreachable"  # the platform cannot reach the respondent (DMs closed): ``message`` says so
    ERROR = "error"  # something broke (a platform or storage error): the respondent was not told; show ``message``


@dataclass(frozen=True, slots=True)
class DataFile:
    """A file for the person alone (``/interview my-data``): the adapter delivers it privately."""

    name: str
    content: bytes
    mime: str = "application/json"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The core's answer to one inbound event."""

    kind: OutcomeKind
    message: str | None = None  # already in the reader's language
    interview_id: str | None = None
    file: DataFile | None = None

    @property
    def ok(self) -> bool:
        """True when the event was acted on."""
        return self.kind is OutcomeKind.ACCEPTED
