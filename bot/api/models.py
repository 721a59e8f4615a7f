"""Typed payloads of the interview API, shared by the client, the built-in server and the core.

These are the edge models (pydantic). The wire format they map to is described in
``docs/api-wire-format.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class QuestionType(StrEnum):
    """The six structured question types of a study."""

    OPEN_ENDED = "open_ended"
    SCALE = "scale"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    RANKING = "ranking"
    YES_NO = "yes_no"


class CompletionReason(StrEnum):
    """Why an interview ended, as the API names it."""

    NATURAL = "natural"
    RESPONDENT_LEFT = "respondent_left"
    TIMEOUT = "timeout"
    MANUAL = "manual"


InterviewStatus = Literal["active", "completing", "completed"]

#: A structured answer's value: number (scale), string (single choice),
#: list of strings (multiple choice, ranking), bool (yes/no), string (open-ended).
AnswerValue = int | float | str | bool | list[str]


class Question(BaseModel):
    """A structured question the interviewer presents, to be rendered as buttons, selects or a modal."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    id: str
    type: QuestionType
    text: str
    options: tuple[str, ...] = ()
    allow_other: bool = False
    scale_min: int = 1
    scale_max: int = 5
    min_label: str | None = None
    max_label: str | None = None
    min_choices: int = 1
    max_choices: int | None = None


class Respondent(BaseModel):
    """Who is being interviewed, as sent with ``start``."""

    external_id: str | None = None
    display_name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class StartedInterview(BaseModel):
    """The answer to ``start``."""

    interview_id: str
    session_token: str = Field(repr=False)  # a secret: never in a repr or a log line
    initial_message: str
    question: Question | None = None


class TranscriptEntry(BaseModel):
    """One message of an interview's transcript as ``GET /interviews/:id`` returns it."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["interviewer", "respondent"]
    content: str
    created_at: str | None = None
    question: Question | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        """Accept the other spellings: ``assistant``/``user`` roles, ``sender``, ``text``, ``timestamp``."""
        if not isinstance(data, dict):
            return data
        shaped = dict(data)
        role = str(shaped.get("role") or shaped.get("sender") or shaped.get("type") or "").lower()
        shaped["role"] = _ROLES.get(role, role)
        if "content" not in shaped:
            shaped["content"] = shaped.get("text", shaped.get("message", ""))
        if "created_at" not in shaped and "timestamp" in shaped:
            shaped["created_at"] = shaped["timestamp"]
        if shaped.get("question") is None and isinstance(shaped.get("widget"), dict):
            shaped["question"] = shaped["widget"]
        return shaped


_ROLES = {
    "assistant": "interviewer",
    "ai": "interviewer",
    "bot": "interviewer",
    "interviewer": "interviewer",
    "user": "respondent",
    "participant": "respondent",
    "human": "respondent",
    "respondent": "respondent",
}
_STATUSES = {
    "completed": "completed",
    "complete": "completed",
    "finished": "completed",
    "ended": "completed",
    "completing": "completing",
    "wrapping_up": "completing",
}


class InterviewDetails(BaseModel):
    """The answer to ``get``: status, transcript and (after completion) analysis."""

    model_config = ConfigDict(extra="ignore")

    interview_id: str
    status: InterviewStatus
    is_complete: bool = False
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    analysis_status: str | None = None
    analysis: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    turn_count: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        """Accept ``id`` for ``interview_id``, ``messages`` for ``transcript`` and other status words."""
        if not isinstance(data, dict):
            return data
        shaped = dict(data)
        shaped.setdefault("interview_id", shaped.get("id"))
        if "transcript" not in shaped and isinstance(shaped.get("messages"), list):
            shaped["transcript"] = shaped["messages"]
        status = str(shaped.get("status") or shaped.get("interview_status") or "").lower()
        shaped["status"] = _STATUSES.get(status, "active")
        if shaped["status"] == "completed":
            shaped["is_complete"] = True
        if shaped.get("metadata") is None:
            shaped["metadata"] = {}
        return shaped


class CompletionResult(BaseModel):
    """The answer to ``complete`` (200 or 409 ``already_completed``)."""

    model_config = ConfigDict(extra="ignore")

    interview_id: str
    status: str = "completed"
    completed_at: str | None = None
    analysis_status: str | None = None
    stats: dict[str, Any] | None = None
    quality_score: float | None = None  # the overview page's reply carries it
    already_completed: bool = False


# --- events of a streamed reply (plain dataclasses: they live inside the process) ---


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A chunk of the interviewer's reply."""

    text: str


@dataclass(frozen=True, slots=True)
class TextReplace:
    """The whole reply so far, replacing what was streamed (after a broken stream was recovered)."""

    text: str


@dataclass(frozen=True, slots=True)
class QuestionEvent:
    """The interviewer presents a structured question."""

    question: Question


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """Where the interview stands after this reply."""

    status: InterviewStatus
    is_complete: bool = False
    turn_count: int | None = None


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The server reported an error inside the stream."""

    code: str
    message: str = ""


StreamEvent = TextDelta | TextReplace | QuestionEvent | StatusEvent | ErrorEvent


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a caller stands in the shared request budget's queue."""

    position: int
    expected_wait: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecoveredTurn:
    """A reply recovered from ``GET /interviews/:id`` for a message the server accepted."""

    text: str
    question: Question | None
    status: InterviewStatus
    is_complete: bool
