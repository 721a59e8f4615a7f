"""Everything the bot itself says to a respondent, in one place (plain words, no tracebacks)."""

from __future__ import annotations

from bot.api.errors import InterviewApiError, RateLimited, ServerError
from bot.api.models import CompletionReason, QueuePosition


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min"


def queued(position: QueuePosition) -> str:
    """The request waits for the shared API budget."""
    ordinal = "next" if position.position <= 1 else f"#{position.position} in line"
    return (
        f"⏳ Lots of people are talking to me right now — you're {ordinal}, about {_duration(position.expected_wait)}."
    )


EMPTY = "I can only pass on text, and that message had none — could you type your answer?"
ATTACHMENT_ONLY = "I can't pass files or images on to the interviewer — could you describe it in a few words instead?"


def too_long(length: int, limit: int) -> str:
    """An over-long message was not sent."""
    return (
        f"That message is {length:,} characters long; I can pass on at most {limit:,}. "
        "Nothing was sent — could you shorten it or split it into a few messages?"
    )


ALREADY_RUNNING = "You already have an interview in progress — just reply here to continue."
CONFIRM_EXIT = (
    "Do you want to end the interview now? What you've shared so far is kept. "
    "Reply “yes” to end it, or “no” to carry on."
)
EXIT_CANCELLED = "Great — let's carry on. Reply whenever you're ready."
NO_INTERVIEW = "You don't have an interview in progress."
NOT_YOURS = "This question belongs to someone else's interview, so your click didn't change anything."
STALE_QUESTION = "That question has already been answered or replaced — nothing changed."
INTERVIEW_OVER = "That interview has already ended — nothing changed."
OFFER_NEW = "Your interview is finished — thank you! Would you like to start a new one? Reply “new” to begin."
CLOSED = "Your interview is finished — thank you for taking part! There's nothing more to answer here."


def nudge(minutes_left: float) -> str:
    """The inactivity reminder."""
    return (
        f"Are you still there? The interview will close in about {_duration(minutes_left)} "
        "if there's no reply. Just answer here to continue."
    )


def ended(reason: CompletionReason, timeout: float) -> str:
    """The closing message for each way an interview ends."""
    if reason is CompletionReason.NATURAL:
        return "That's the end of the interview — thank you so much for your time and thoughtful answers! 🙏"
    if reason is CompletionReason.TIMEOUT:
        return (
            f"I closed the interview after {_duration(timeout)} without a reply. "
            "Thank you for what you shared — it has been kept."
        )
    return "The interview has ended. Thank you for your time — everything you shared so far has been kept."


def start_failed(error: Exception) -> str:
    """Starting an interview failed."""
    return f"Sorry — I couldn't start the interview: {_reason(error)} Try again in a moment."


def turn_failed(error: Exception) -> str:
    """A reply broke or never came."""
    return f"Sorry — the interviewer's reply didn't come through: {_reason(error)} Your message is kept."


def _reason(error: Exception) -> str:
    if isinstance(error, RateLimited):
        return "the interview service is busy."
    if isinstance(error, ServerError):
        return "the interview service had a problem."
    if isinstance(error, InterviewApiError):
        return "the interview service could not be reached." if error.status is None else "the request was refused."
    return "something went wrong on my side."


RESTARTING = "⏸ I'm restarting — this reply will continue in a moment."
REPLY_STOPPED = "(stopped: the interview has ended)"
GONE = "This interview can no longer be continued (the interview service no longer knows it)."
