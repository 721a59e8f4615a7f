"""The storage port of handoffs: their records, the outbox of their callbacks, and the methods
:class:`~bot.core.store.Store` adds for them (kept here so the main port stays readable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.core.keys import ConversationKey

__all__ = ["HandoffCallback", "HandoffRecord", "HandoffStatus", "HandoffStore"]


class HandoffStatus(StrEnum):
    """Where a handoff stands: waiting for the person's consent, starting, the interview runs, it ended, its
    analysis was sent (or never will be); or the person said no, never answered, or the caller withdrew it."""

    CONSENT_PENDING = "consent_pending"  # the consent text is in the person's DM; nothing sent to the API yet
    STARTING = "starting"  # the person agreed (now or earlier): the interview is being started
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    ANALYSED = "analysed"
    DECLINED = "declined"  # "No thanks"
    EXPIRED = "expired"  # no answer to the consent text in time (or the start never came through)
    CANCELLED = "cancelled"  # DELETE before the person answered

    @property
    def waiting(self) -> bool:
        """Still waiting for the person (or for the start): it moves on by itself or expires."""
        return self in (HandoffStatus.CONSENT_PENDING, HandoffStatus.STARTING)


@dataclass(slots=True)
class HandoffRecord:
    """A user another bot handed over into an interview (the HTTP API or ``Bridge.hand_over``).

    Stored *before* anything is asked or started (``consent_pending`` or ``starting``), so a crash leaves an intent
    that a retry with the same ``Idempotency-Key`` (or the sweep) settles, never a second interview.
    """

    handoff_id: str
    key: ConversationKey
    study: str
    interview_id: str | None  # None until the person agrees and the interview starts
    context: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    idempotency_key: str | None = None
    status: HandoffStatus = HandoffStatus.ACCEPTED
    end_reason: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    #: SHA-256 of the request (platform, workspace, user, study, context, callback URL): the same key with another
    #: request is refused, not answered with this handoff
    request_hash: str | None = None
    #: while waiting: when it gives up (``expired``) if the person has not answered
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class HandoffCallback:
    """One callback to a handoff's ``callback_url``, kept until it is delivered (the outbox)."""

    handoff_id: str
    event: str  # "accepted" | "completed" | "analysed"
    seq: int  # delivered in this order within one handoff
    body: str  # the exact JSON that is signed and sent
    url: str
    attempts: int = 0


class HandoffStore(Protocol):
    """Handoffs and their callbacks' outbox. Each method is atomic."""

    async def create_handoff(self, record: HandoffRecord) -> HandoffRecord:
        """Insert; with an ``idempotency_key`` already stored, nothing is written and that handoff is returned."""
        ...

    async def get_handoff(self, handoff_id: str) -> HandoffRecord | None:
        """One handoff by its id."""
        ...

    async def handoff_by_idempotency_key(self, idempotency_key: str) -> HandoffRecord | None:
        """The handoff a request with this ``Idempotency-Key`` made, if any."""
        ...

    async def update_handoff(self, record: HandoffRecord) -> None:
        """Write its status, interview id, end reason, expiry and update time."""

    async def delete_handoff(self, handoff_id: str) -> None:
        """Remove a handoff that never got anywhere (its start was refused) with its callbacks."""

    async def waiting_handoffs(self, key: ConversationKey | None = None, limit: int = 100) -> list[HandoffRecord]:
        """Handoffs still waiting (``consent_pending``, ``starting``), of ``key`` alone if given; soonest to expire
        first."""
        ...

    async def handoffs_with_news(self, limit: int = 100) -> list[HandoffRecord]:
        """Handoffs with news to reconcile: an accepted one whose interview ended, a completed one whose analysis is
        no longer waiting (or has no record), least recently looked at first."""
        ...

    async def handoffs_since(self, since: float) -> list[float]:
        """The creation times of handoffs made since ``since``, oldest first (the rate limit's window)."""
        ...

    async def add_callback(self, handoff_id: str, event: str, seq: int, body: str, now: float) -> bool:
        """Queue a callback (once per handoff and event: False if it was already queued)."""
        ...

    async def claim_callbacks(self, now: float, lease: float, limit: int = 20) -> list[HandoffCallback]:
        """Due callbacks whose earlier ones are delivered, each held for ``lease`` seconds (another sweep skips it)."""
        ...

    async def callback_done(self, handoff_id: str, event: str, now: float, *, delivered: bool) -> None:
        """Delivered (or given up on): never tried again."""

    async def callback_retry(self, handoff_id: str, event: str, attempts: int, next_attempt_at: float) -> None:
        """Try again at ``next_attempt_at``."""
