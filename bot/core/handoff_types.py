"""What a handoff is made of: the request, its failures, the summary at its end and the platform port it needs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bot.core.events import RespondentInfo
from bot.core.keys import ConversationKey

__all__ = [
    "MAX_CONTEXT_BYTES",
    "DirectMessages",
    "HandoffCode",
    "HandoffError",
    "HandoffRequest",
    "HandoffSummary",
    "context_problem",
    "request_hash",
]

#: The context becomes the respondent's metadata at the interview service: at most 4 KB of JSON, as Zendesk's
#: switchboard allows for its metadata.
MAX_CONTEXT_BYTES = 4096


class HandoffCode(StrEnum):
    """Why a handoff was refused (the ``error`` of the HTTP API's answer)."""

    INVALID_REQUEST = "invalid_request"
    USER_UNREACHABLE = "user_unreachable"
    STUDY_CLOSED = "study_closed"
    ALREADY_IN_INTERVIEW = "already_in_interview"
    DECLINED = "declined"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    NOT_FOUND = "not_found"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # the same Idempotency-Key with a different request


class HandoffError(Exception):
    """A refused handoff: ``code`` for programs, ``message`` for people (English; it goes to a developer)."""

    def __init__(
        self,
        code: HandoffCode,
        message: str,
        *,
        interview_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.interview_id = interview_id
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """Hand ``user`` of ``workspace`` (Slack team id, Discord guild id) on ``platform`` over into ``study``."""

    platform: str
    workspace: str
    user: str
    study: str
    context: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffSummary:
    """How a handoff ended: what ``wait_ended()`` gives and the ``completed`` callback says.

    A handoff whose interview never started ends too: ``end_reason`` is then ``declined`` ("No thanks"),
    ``expired`` (no answer to the consent text in time) or ``cancelled``, with no ``interview_id`` and no turns.
    """

    handoff_id: str
    interview_id: str | None
    end_reason: str
    turns: int
    duration_seconds: float

    @property
    def interviewed(self) -> bool:
        """Whether an interview took place (the person agreed), however it ended."""
        return self.interview_id is not None


@runtime_checkable
class DirectMessages(Protocol):
    """An adapter that can open a person's direct messages with the bot, unasked (Slack, Discord)."""

    async def open_direct(self, workspace: str, user: str) -> tuple[ConversationKey, RespondentInfo]:
        """The key of ``user``'s DM and what the platform says of them, sending nothing.

        Raises :class:`bot.core.ports.RespondentUnreachable` when the person is not in ``workspace`` or the
        platform refuses a DM with them.
        """
        ...


def context_problem(context: object) -> str | None:
    """Why ``context`` cannot be the respondent's metadata (None: it can): a flat JSON object of at most 4 KB."""
    if not isinstance(context, dict):
        return "context must be a JSON object"
    for name, value in context.items():
        if not isinstance(name, str):
            return "context keys must be strings"
        if value is not None and not isinstance(value, str | int | float | bool):
            return f"context must be flat: {name!r} holds an object or a list"
    size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_CONTEXT_BYTES:
        return f"context is {size} bytes of JSON; at most {MAX_CONTEXT_BYTES} are allowed"
    return None


def request_hash(request: HandoffRequest) -> str:
    """SHA-256 of what a request asks for (not its ``Idempotency-Key``): a retry has the same, another request not."""
    asked = [request.platform, request.workspace, request.user, request.study, request.context, request.callback_url]
    return hashlib.sha256(json.dumps(asked, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
