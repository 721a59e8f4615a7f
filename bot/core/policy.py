"""How conversations behave: limits, words, deadlines. The composition root builds it from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AfterCompletion(StrEnum):
    """What a message after a finished interview does."""

    OFFER = "offer"  # offer a new interview with a button / a word
    AUTO = "auto"  # start a new interview right away
    NEVER = "never"  # say the study is closed for this person


#: "Don't end the interview", in the languages respondents write in most.
CANCEL_WORDS = (
    *("no", "n", "nope", "nah", "cancel", "continue", "back", "go back", "carry on", "keep going", "resume"),
    *("nein", "abbrechen", "weiter", "zurück", "fortfahren"),
    *("non", "annuler", "continuer", "retour"),
    *("cancelar", "continuar", "volver", "seguir", "atrás"),
    *("não", "nao", "voltar"),
    *("nee", "annuleren", "doorgaan", "terug"),
    *("annulla", "continua", "indietro"),
)


def typed_word(text: str) -> str:
    """A typed reply as a command word: trimmed, lower case, without closing punctuation ("No." → "no")."""
    return " ".join(text.strip().lower().rstrip(".!?…").split())


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """The core's settings."""

    inactivity_timeout: float = 1800.0
    inactivity_nudge: float = 300.0
    max_message_length: int = 4000
    exit_words: tuple[str, ...] = ("exit", "stop", "quit", "/exit", "/stop")
    confirm_words: tuple[str, ...] = ("yes", "y", "yes, end it", "confirm", "end", "ja", "oui", "sí", "si")
    #: Replies to the exit confirmation that mean "don't end it" (never passed on as an answer).
    cancel_words: tuple[str, ...] = CANCEL_WORDS
    start_words: tuple[str, ...] = ("new", "start", "/start", "again")
    after_completion: AfterCompletion = AfterCompletion.OFFER
    study: str | None = None
    locale: str | None = None
    sweep_interval: float = 5.0
    #: Seconds a turn in flight stays with the instance running it unless renewed (several instances only).
    turn_lease: float = 15.0
    #: Days the local transcript and analysis of an ended interview are kept (``RETENTION_DAYS``).
    retention_days: float = 180.0

    def nudge_lead(self) -> float | None:
        """Seconds before the timeout to send the reminder, or None for no reminder."""
        if 0 < self.inactivity_nudge < self.inactivity_timeout:
            return self.inactivity_nudge
        return None
