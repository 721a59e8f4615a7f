"""The storage port of consent, erasure and retention: its records and the methods :class:`~bot.core.store.Store`
adds for them (kept here so the main port stays readable)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["ConsentDecision", "ConsentRecord", "PrivacyStore"]


class ConsentDecision(StrEnum):
    """Where a person stands with a study's consent text."""

    ASKED = "asked"  # shown, no answer yet: nothing was sent to the interview API
    AGREED = "agreed"
    DECLINED = "declined"  # "No thanks": counted, and the study is not offered to them again


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A person's answer to one study's consent text (one row per platform, workspace, user and study)."""

    platform: str
    workspace: str
    user: str
    study: str
    decision: ConsentDecision
    at: float
    #: while ASKED: what the start on agreement needs (the conversation's channel, the respondent as the platform
    #: described them); emptied once answered
    request: dict[str, Any] = field(default_factory=dict)


class PrivacyStore(Protocol):
    """Consent records, the erasure of one person and the retention purge. Each method is atomic."""

    async def save_consent(self, record: ConsentRecord) -> None:
        """Insert or replace the person's consent record for ``record.study``."""

    async def consents_of(self, platform: str, workspace: str, user: str) -> list[ConsentRecord]:
        """Every consent record of one person, oldest first."""
        ...

    async def consent_counts(self, study: str) -> dict[ConsentDecision, int]:
        """How many people are at each decision for ``study`` (the admin view counts the declined)."""
        ...

    async def forget_user(
        self, platform: str, workspace: str | None, user: str, erasure: str, now: float
    ) -> dict[str, int]:
        """Erase everything stored about one person in one transaction; returns rows removed per kind.

        Their interviews go with their turns, queued messages, pending questions, transcript and analyses; their
        consent records; adapter state whose key or value names them. What remains is one row of the erasure
        log: ``erasure`` (a salted hash of the person, never the id itself) and ``now``. ``workspace`` None: the
        person's rows in every workspace (Discord ids are global).
        """
        ...

    async def erased_at(self, erasure: str) -> float | None:
        """When the person with this erasure hash was forgotten (None: never)."""
        ...

    async def erased_of(self, erasures: Sequence[str]) -> set[str]:
        """Which of these erasure hashes are in the erasure log."""
        ...

    async def purge_ended_before(self, cutoff: float) -> int:
        """Retention: delete the transcript lines (and analyses) of interviews completed before ``cutoff``.

        Returns how many interviews had something purged.
        """
        ...
