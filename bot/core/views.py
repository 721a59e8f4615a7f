"""Read-only views of an interview for adapters and embedding bots: no session token, nothing to write back."""

from __future__ import annotations

from dataclasses import dataclass

from bot.api.models import Question
from bot.core.endings import EndReason
from bot.core.keys import ConversationKey
from bot.core.ports import PendingQuestion
from bot.core.store import InterviewRecord, RecordStatus, StoredQuestion

__all__ = ["InterviewStatus", "pending_of", "status_of"]


@dataclass(frozen=True, slots=True)
class InterviewStatus:
    """Where one interview stands (``Bridge.status``). A copy: changing the interview goes through events."""

    key: ConversationKey
    interview_id: str
    status: RecordStatus
    study: str | None
    locale: str | None
    created_at: float
    last_activity_at: float
    turns_sent: int  # respondent messages the API accepted
    waiting_for_reply: bool  # the interviewer spoke last: the inactivity clock runs
    exit_requested: bool  # the respondent asked to stop and has not confirmed yet
    end_reason: EndReason | None
    completed_at: float | None

    @property
    def active(self) -> bool:
        """True while the interview takes messages."""
        return self.status is RecordStatus.ACTIVE

    @property
    def ended(self) -> bool:
        """True once the interview is over for the respondent (also while the API is still being told)."""
        return self.status is not RecordStatus.ACTIVE


def status_of(record: InterviewRecord) -> InterviewStatus:
    """The read-only view of a stored interview (the session token stays behind)."""
    return InterviewStatus(
        key=record.key,
        interview_id=record.interview_id,
        status=record.status,
        study=record.study,
        locale=record.locale,
        created_at=record.created_at,
        last_activity_at=record.last_activity_at,
        turns_sent=record.turns_sent,
        waiting_for_reply=record.expires_at is not None,
        exit_requested=record.exit_requested,
        end_reason=EndReason.parse(record.completion_reason),
        completed_at=record.completed_at,
    )


def pending_of(stored: StoredQuestion | None, record: InterviewRecord) -> PendingQuestion | None:
    """The stored question waiting in ``record``, as adapters show it (None: none waits)."""
    if stored is None:
        return None
    question = Question.model_validate(stored.question)
    return PendingQuestion(stored.interview_id, question, record.key.user, record.locale)
