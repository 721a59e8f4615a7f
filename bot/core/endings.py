"""How an interview ended: one typed reason for hooks, status views and the words shown to people."""

from __future__ import annotations

from enum import StrEnum

from bot.api.models import CompletionReason
from bot.core.i18n import catalogue
from bot.core.texts import end_reason

__all__ = ["EndReason", "ending_label"]


class EndReason(StrEnum):
    """Why an interview ended, as the bridge saw it (a superset of the API's completion reasons)."""

    NATURAL = "natural"  # the interviewer ended it
    RESPONDENT_LEFT = "respondent_left"  # the respondent said stop (and confirmed)
    TIMEOUT = "timeout"  # a long silence
    MANUAL = "manual"  # the bot or the research team ended it (``Bridge.end``)
    GONE = "gone"  # the interview API no longer knows the interview
    UNREACHABLE = "unreachable"  # the platform could no longer reach the respondent (DMs closed, app removed)

    @classmethod
    def parse(cls, value: str | None) -> EndReason | None:
        """The reason a stored string names (None for None or an unknown word)."""
        try:
            return cls(value) if value else None
        except ValueError:
            return None

    def for_api(self) -> CompletionReason | None:
        """The reason to send the API's ``complete`` (None: nothing to tell it; it no longer knows the interview)."""
        if self is EndReason.GONE:
            return None
        if self is EndReason.UNREACHABLE:
            return CompletionReason.RESPONDENT_LEFT
        return CompletionReason(self.value)


def ending_label(reason: EndReason | str | None, locale: str | None) -> str:
    """How an interview ended, in a few words for the respondent (``"ended by you"``), in their language.

    One wording for every platform (``texts.end_reason``), covering every reason.
    """
    return end_reason(catalogue(locale), reason.value if isinstance(reason, EndReason) else reason)
