"""How conversations behave: limits, words, deadlines. Built from :class:`bot.config.Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AfterCompletion, Settings


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """The core's settings."""

    inactivity_timeout: float = 1800.0
    inactivity_nudge: float = 300.0
    max_message_length: int = 4000
    exit_words: tuple[str, ...] = ("exit", "stop", "quit", "/exit", "/stop")
    confirm_words: tuple[str, ...] = ("yes", "y", "yes, end it", "confirm", "end")
    start_words: tuple[str, ...] = ("new", "start", "/start", "again")
    after_completion: AfterCompletion = AfterCompletion.OFFER
    study: str | None = None
    locale: str | None = None
    sweep_interval: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BridgeConfig:
        """Take the core's part of the settings."""
        return cls(
            inactivity_timeout=settings.inactivity_timeout,
            inactivity_nudge=settings.inactivity_nudge,
            max_message_length=settings.max_message_length,
            exit_words=settings.exit_words,
            after_completion=settings.after_completion,
            study=settings.koji_study,
            locale=settings.koji_locale,
        )

    def nudge_lead(self) -> float | None:
        """Seconds before the timeout to send the reminder, or None for no reminder."""
        if 0 < self.inactivity_nudge < self.inactivity_timeout:
            return self.inactivity_nudge
        return None
