"""The storage port: the record types the core persists and the Store protocol that backends implement.

Nothing here may leak SQL or SQLite: a PostgreSQL backend must be able to implement it as is.
Times are unix seconds (float) from the core's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.core.handoff_store import HandoffCallback as HandoffCallback  # re-exported: the port's records
from bot.core.handoff_store import HandoffRecord as HandoffRecord
from bot.core.handoff_store import HandoffStatus as HandoffStatus
from bot.core.handoff_store import HandoffStore
from bot.core.invitations import InvitationStore
from bot.core.keys import ConversationKey
from bot.core.privacy_store import PrivacyStore

Seen = tuple[str, str] | None  # a platform event as the seen-events memory keys it: (platform, event id)


class RecordStatus(StrEnum):
    """Where an interview stands in the bridge (not only in the API)."""

    ACTIVE = "active"
    COMPLETING = "completing"  # complete() is being called: resume it after a crash
    COMPLETED = "completed"


@dataclass(slots=True)
class InterviewRecord:
    """One interview bound to one conversation."""

    key: ConversationKey
    interview_id: str
    session_token: str  # a secret: encrypted at rest when a key is configured, never logged
    status: RecordStatus = RecordStatus.ACTIVE
    study: str | None = None
    locale: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    last_activity_at: float = 0.0
    nudge_at: float | None = None  # when to send the inactivity reminder (None: none due)
    expires_at: float | None = None  # when to complete with reason=timeout (None: no deadline running)
    exit_requested: bool = False  # waiting for the respondent to confirm "exit"
    turns_sent: int = 0  # respondent messages the API accepted
    completion_reason: str | None = None
    completed_at: float | None = None
    failed_turn: bool = False  # the last turn failed; Retry resends it
    platform_state: dict[str, Any] = field(default_factory=dict)  # adapter data (thread ts, DM channel id)

    def __repr__(self) -> str:  # never print the session token
        return (
            f"InterviewRecord(key={self.key.as_str()!r}, interview_id={self.interview_id!r}, "
            f"status={self.status.value!r}, turns_sent={self.turns_sent})"
        )


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A respondent message stored before it is sent. ``answer`` is set for structured answers."""

    id: int
    interview_id: str
    content: str
    created_at: float
    answer: dict[str, Any] | None = None  # {"question_id": ..., "value": ...}


@dataclass(frozen=True, slots=True)
class Turn:
    """A respondent turn in flight: stored before the request is made, so a crash can recover it."""

    id: int
    interview_id: str
    content: str
    created_at: float
    answer: dict[str, Any] | None = None
    turns_before: int = 0  # respondent messages the API had accepted before this one
    #: ``begin_turn`` found it already in flight (a restart, a retry, another instance's lapsed lease): it may
    #: have reached the API, so it is looked up before it is sent again.
    resumed: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class TurnLease:
    """A claim on a turn in flight: ``owner`` (an instance) runs it until ``until`` unless it renews the lease."""

    owner: str
    until: float


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    """A structured question waiting for its answer. ``question`` is the API's question as JSON."""

    interview_id: str
    question_id: str
    question: dict[str, Any]
    asked_at: float


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One line of the local mirror of an interview's transcript."""

    interview_id: str
    role: str  # "interviewer" | "respondent"
    content: str
    at: float


class AnalysisStatus(StrEnum):
    """Where the interview service's analysis of a completed interview stands, as far as the bot knows."""

    WAITING = "waiting"  # polled with backoff until it is completed or failed (or a webhook brings it)
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(slots=True)
class AnalysisRecord:
    """The analysis of one completed interview, stored locally (by polling or the webhook, whichever is first).

    ``next_poll_at`` is the timer of the polling route (None once it is over); ``posted`` is set once the results
    channel got what it should of this interview (its card, or its share of an aggregate).
    """

    interview_id: str
    study: str | None
    status: AnalysisStatus = AnalysisStatus.WAITING
    analysis: dict[str, Any] | None = None
    attempts: int = 0
    next_poll_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    posted: bool = False


class ActiveInterviewExists(Exception):
    """``create_interview`` found an active interview for the same conversation key."""


class UnknownInterview(LookupError):
    """A write names an interview that is not stored (``update_interview``, a message, question or line for it)."""


class Store(InvitationStore, PrivacyStore, HandoffStore, Protocol):
    """Everything the core persists (the invitation tables' methods are in :class:`InvitationStore`, consent and
    erasure in :class:`PrivacyStore`, handoffs in :class:`HandoffStore`). Each method is atomic."""

    async def open(self) -> None:
        """Connect and apply pending migrations."""

    async def close(self) -> None:
        """Release the connection."""

    # --- interviews ---
    async def create_interview(self, record: InterviewRecord) -> None:
        """Insert; raises :class:`ActiveInterviewExists` if the key already has a non-completed one."""

    async def update_interview(self, record: InterviewRecord) -> None:
        """Write every field of ``record`` (by ``interview_id``), except that ``turns_sent`` never goes down.

        ``finish_turn`` counts turns in storage, so a record read before a turn finished must not undo the count.
        Raises :class:`UnknownInterview` if it is not stored, :class:`ActiveInterviewExists` if the change would
        give its conversation a second non-completed interview.
        """

    async def get_interview(self, interview_id: str) -> InterviewRecord | None:
        """By interview id, whatever its status."""
        ...

    async def active_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The non-completed interview of this conversation, if any."""
        ...

    async def latest_interview(self, key: ConversationKey) -> InterviewRecord | None:
        """The most recent interview of this conversation, whatever its status."""
        ...

    async def interviews_of_user(self, platform: str, user: str, limit: int = 20) -> list[InterviewRecord]:
        """A user's interviews on a platform, newest first (App Home, ``/interview status``)."""
        ...

    async def unfinished_interviews(self) -> list[InterviewRecord]:
        """Every non-completed interview (resumed at start-up)."""
        ...

    async def resumable_interviews(self) -> list[InterviewRecord]:
        """Interviews with work left after a stop: active with a turn in flight or queued messages, or completing.

        What start-up resumes; found through the (small) tables of work in flight, so it costs the same with a
        million open interviews as with ten.
        """
        ...

    async def due_interviews(self, now: float, limit: int = 100) -> list[InterviewRecord]:
        """Active interviews whose ``nudge_at`` or ``expires_at`` is at or before ``now``."""
        ...

    # --- messages and turns ---
    async def enqueue_message(
        self, interview_id: str, content: str, now: float, answer: dict[str, Any] | None = None, *, event: Seen = None
    ) -> QueuedMessage:
        """Keep a respondent message until it is sent; ``event`` (platform, event id) is marked seen with it."""
        ...

    async def queued_messages(self, interview_id: str) -> list[QueuedMessage]:
        """Messages not yet sent, oldest first."""
        ...

    async def begin_turn(
        self, interview_id: str, now: float, joiner: str = "\n\n", lease: TurnLease | None = None
    ) -> Turn | None:
        """Atomically turn queued messages into the turn in flight and return it.

        Consecutive plain messages are joined with ``joiner``; a structured answer always travels alone.
        Returns the existing turn in flight if there is one (``resumed``), None if nothing is queued.
        With ``lease`` (several instances share the database) the turn is claimed for ``lease.owner``; an
        existing turn whose lease another owner still holds at ``now`` is not returned (None): it is theirs.
        """
        ...

    async def renew_turn_leases(self, owner: str, until: float, interview_ids: Sequence[str]) -> int:
        """Extend to ``until`` the leases ``owner`` holds on the turns of ``interview_ids``; returns how many."""
        ...

    async def release_turn(self, turn_id: int, owner: str) -> None:
        """``owner`` stops running the turn (it failed and waits for Retry): the turn stays, unclaimed."""

    async def lapsed_turns(self, now: float, limit: int = 100) -> list[str]:
        """Interviews whose turn in flight has a lease that ran out before ``now`` (its instance died)."""
        ...

    async def stranded_interviews(self, before: float, limit: int = 100) -> list[str]:
        """Interviews with messages queued before ``before`` and no turn in flight (their instance died between
        storing a message and beginning its turn)."""
        ...

    async def turn_in_flight(self, interview_id: str) -> Turn | None:
        """The turn stored by ``begin_turn`` and not yet finished."""
        ...

    async def finish_turn(self, turn_id: int, reply: str | None, now: float) -> None:
        """The turn is done: mirror the respondent text and ``reply`` (if any) into the transcript."""

    async def requeue_turn(self, turn_id: int) -> None:
        """The turn provably never reached the API: put its message back at the head of the queue."""

    # --- questions ---
    async def set_pending_question(self, question: StoredQuestion) -> None:
        """Replace the interview's pending question."""

    async def pending_question(self, interview_id: str) -> StoredQuestion | None:
        """The question waiting for an answer, if any."""
        ...

    async def resolve_question(self, interview_id: str, question_id: str) -> bool:
        """Atomically clear the pending question if it is ``question_id``; True for the one caller who did."""
        ...

    # --- platform events ---
    async def mark_event(self, platform: str, event_id: str, now: float) -> bool:
        """Remember a platform event id; False if it was seen before (a redelivery)."""
        ...

    async def event_seen(self, platform: str, event_id: str) -> bool:
        """True if the event id was marked (by ``mark_event`` or ``enqueue_message``)."""
        ...

    async def prune_events(self, before: float) -> int:
        """Forget event ids older than ``before``; returns how many were removed."""
        ...

    # --- transcript mirror ---
    async def append_transcript(self, interview_id: str, role: str, content: str, now: float) -> None:
        """Add one line to the local transcript mirror."""

    async def transcript(self, interview_id: str) -> list[TranscriptLine]:
        """The local mirror, oldest first."""
        ...

    # --- adapter key/value (small state adapters must keep across restarts) ---
    async def put_state(self, scope: str, key: str, value: dict[str, Any] | None) -> None:
        """Set (or with None, delete) a small JSON value."""

    async def get_state(self, scope: str, key: str) -> dict[str, Any] | None:
        """Read a value written by ``put_state``."""
        ...

    # --- studies and their results ---
    async def interviews_of_study(self, study: str) -> list[InterviewRecord]:
        """Every interview of a study, oldest first (counts, exports)."""
        ...

    async def watch_analysis(self, interview_id: str, study: str | None, next_poll_at: float, now: float) -> bool:
        """Start waiting for an interview's analysis (polled from ``next_poll_at``); False if already watched."""
        ...

    async def get_analysis(self, interview_id: str) -> AnalysisRecord | None:
        """The stored analysis record of one interview."""
        ...

    async def save_analysis(self, record: AnalysisRecord) -> None:
        """Write every field of ``record`` (by ``interview_id``; inserted if missing)."""

    async def settle_analysis(
        self, interview_id: str, study: str | None, status: AnalysisStatus, analysis: dict[str, Any] | None, now: float
    ) -> bool:
        """Atomically store the outcome of an analysis still waiting (or not yet watched); True for the one caller
        who did — polling and the webhook, on any instance, land an analysis once."""
        ...

    async def reschedule_analysis(self, interview_id: str, attempts: int, next_poll_at: float, now: float) -> bool:
        """Set the next poll of an analysis still waiting (False if it was landed meanwhile: nothing changes)."""
        ...

    async def due_analyses(self, now: float, limit: int = 20) -> list[AnalysisRecord]:
        """Waiting analyses whose ``next_poll_at`` is at or before ``now``, most overdue first."""
        ...

    async def analyses_of_study(self, study: str) -> list[AnalysisRecord]:
        """Every analysis record of a study, oldest first."""
