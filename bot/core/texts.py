"""The core's own sentences to a respondent, in the respondent's language (plain words, no tracebacks).

Each function takes the :class:`~bot.core.i18n.Catalogue` of the person who reads the text
(``catalogue(record.locale)``); the English in the code is the message id ``pybabel extract`` collects.
"""

from __future__ import annotations

from bot.api.errors import InterviewApiError, RateLimited, ServerError
from bot.api.models import AnswerValue, CompletionReason, Question, QuestionType, QueuePosition
from bot.core.i18n import Catalogue

#: The context of words a respondent types to act (``pgettext``): translators keep them short and lowercase.
#: Write it out as a literal in each call — ``pybabel extract`` does not see a context given as a name.
TYPED = "word the respondent types"


def confirm_word(tr: Catalogue) -> str:
    """The word that confirms ending the interview ("yes"), in the respondent's language."""
    return tr.pgettext("word the respondent types", "yes")


def start_word(tr: Catalogue) -> str:
    """The word that starts a new interview ("new")."""
    return tr.pgettext("word the respondent types", "new")


def exit_word(tr: Catalogue) -> str:
    """The word that asks to end the interview ("exit")."""
    return tr.pgettext("word the respondent types", "exit")


def cancel_word(tr: Catalogue) -> str:
    """The word that carries on after asking to end ("no")."""
    return tr.pgettext("word the respondent types", "no")


def retry_word(tr: Catalogue) -> str:
    """The word that retries a failed reply on the terminal ("retry")."""
    return tr.pgettext("word the respondent types", "retry")


def duration(tr: Catalogue, seconds: float) -> str:
    """A short wait or silence, in seconds below a minute, else in minutes."""
    whole = max(0, round(seconds))
    if whole < 60:
        return tr.ngettext("{count} second", "{count} seconds", whole).format(count=whole)
    minutes = round(whole / 60)
    return tr.ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


def queued(tr: Catalogue, position: QueuePosition) -> str:
    """The request waits for the shared API budget."""
    wait = duration(tr, position.expected_wait)
    if position.position <= 1:
        return tr.gettext("⏳ Lots of people are talking to me right now — you're next, in about {wait}.").format(
            wait=wait
        )
    return tr.gettext(
        "⏳ Lots of people are talking to me right now — you're number {position} in line, in about {wait}."
    ).format(position=position.position, wait=wait)


def empty(tr: Catalogue) -> str:
    """A message without text."""
    return tr.gettext("I can only pass on text, and that message had none — could you type your answer?")


def attachment_only(tr: Catalogue) -> str:
    """A message with files but no text."""
    return tr.gettext(
        "I can't pass files or images on to the interviewer — could you describe it in a few words instead?"
    )


def too_long(tr: Catalogue, length: int, limit: int) -> str:
    """An over-long message was not sent."""
    return tr.gettext(
        "That message is {length} characters long; I can pass on at most {limit}. "
        "Nothing was sent — could you shorten it or split it into a few messages?"
    ).format(length=tr.number(length), limit=tr.number(limit))


def already_running(tr: Catalogue) -> str:
    """A start while an interview is in progress."""
    return tr.gettext("You already have an interview in progress — just reply here to continue.")


def confirm_exit(tr: Catalogue) -> str:
    """The question before ending on the respondent's word."""
    return tr.gettext(
        "Do you want to end the interview now? What you've shared so far is kept. "
        "Reply “{yes}” to end it, or “{no}” to carry on."
    ).format(yes=confirm_word(tr), no=cancel_word(tr))


def exit_reminder(tr: Catalogue) -> str:
    """A reply to the exit question that is neither yes nor no."""
    return tr.gettext("Nothing was sent. Reply “{yes}” to end the interview, or “{no}” to carry on with it.").format(
        yes=confirm_word(tr), no=cancel_word(tr)
    )


def exit_cancelled(tr: Catalogue) -> str:
    """The respondent chose to carry on."""
    return tr.gettext("Great — let's carry on. Reply whenever you're ready.")


def no_interview(tr: Catalogue) -> str:
    """A control with nothing to act on."""
    return tr.gettext("You don't have an interview in progress.")


def not_yours(tr: Catalogue) -> str:
    """A click on someone else's question or button."""
    return tr.gettext("This question belongs to someone else's interview, so your click didn't change anything.")


def stale_question(tr: Catalogue) -> str:
    """A click on a question that is no longer pending."""
    return tr.gettext("That question has already been answered or replaced — nothing changed.")


def interview_over(tr: Catalogue) -> str:
    """A click on a question of an interview that has ended."""
    return tr.gettext("That interview has already ended — nothing changed.")


def nothing_to_retry(tr: Catalogue) -> str:
    """A Retry click after the reply came through."""
    return tr.gettext("Nothing to retry — the reply already came through.")


def offer_new(tr: Catalogue) -> str:
    """A message after the interview ended, when a new one may start."""
    return tr.gettext(
        "Your interview is finished — thank you! Would you like to start a new one? Reply “{word}” to begin."
    ).format(word=start_word(tr))


def closed(tr: Catalogue) -> str:
    """A message after the interview ended, when no new one may start."""
    return tr.gettext("Your interview is finished — thank you for taking part! There's nothing more to answer here.")


def nudge(tr: Catalogue, seconds_left: float) -> str:
    """The inactivity reminder."""
    return tr.gettext(
        "Are you still there? The interview will close in about {wait} if there's no reply. "
        "Just answer here to continue."
    ).format(wait=duration(tr, seconds_left))


def ended(tr: Catalogue, reason: CompletionReason, timeout: float) -> str:
    """The closing message for each way an interview ends."""
    if reason is CompletionReason.NATURAL:
        return tr.gettext(
            "That's the end of the interview — thank you so much for your time and thoughtful answers! 🙏"
        )
    if reason is CompletionReason.TIMEOUT:
        return tr.gettext(
            "I closed the interview after {wait} without a reply. Thank you for what you shared — it has been kept."
        ).format(wait=duration(tr, timeout))
    return tr.gettext("The interview has ended. Thank you for your time — everything you shared so far has been kept.")


def start_failed(tr: Catalogue, error: Exception) -> str:
    """Starting an interview failed: try again later only where waiting can fix it (never after a 401)."""
    if waiting_helps(error):
        text = tr.gettext("Sorry — I couldn't start the interview: {reason} Try again in a moment.")
    else:
        text = tr.gettext(
            "Sorry — I couldn't start the interview: {reason} Trying again won't help until the team running "
            "this study fixes it — please let them know."
        )
    return text.format(reason=_reason(tr, error))


def waiting_helps(error: Exception) -> bool:
    """Whether the same request may work later (busy, down, cut off), unlike a refusal (401, 403, 404, 422)."""
    if isinstance(error, RateLimited | ServerError):
        return True
    return not isinstance(error, InterviewApiError) or error.status is None


def turn_failed(tr: Catalogue, error: Exception) -> str:
    """A reply broke or never came."""
    return tr.gettext("Sorry — the interviewer's reply didn't come through: {reason} Your message is kept.").format(
        reason=_reason(tr, error)
    )


def _reason(tr: Catalogue, error: Exception) -> str:
    if isinstance(error, RateLimited):
        return tr.gettext("the interview service is busy.")
    if isinstance(error, ServerError):
        return tr.gettext("the interview service had a problem.")
    if isinstance(error, InterviewApiError) and error.status is None:
        return tr.gettext("the interview service could not be reached.")
    if isinstance(error, InterviewApiError) and error.status == 401:
        return tr.gettext("the interview service did not accept the bot's access key.")
    if isinstance(error, InterviewApiError) and error.status == 403:
        return tr.gettext("the bot's access key is not allowed to do this.")
    if isinstance(error, InterviewApiError):
        return tr.gettext("the request was refused.")
    return tr.gettext("something went wrong on my side.")


def restarting(tr: Catalogue) -> str:
    """Under a reply cut short by a restart."""
    return tr.gettext("⏸ I'm restarting — this reply will continue in a moment.")


def reply_stopped(tr: Catalogue) -> str:
    """Under a reply cut short because the interview ended."""
    return tr.gettext("(stopped: the interview has ended)")


def gone(tr: Catalogue) -> str:
    """The API no longer knows the interview."""
    return tr.gettext("This interview can no longer be continued (the interview service no longer knows it).")


def end_reason(tr: Catalogue, reason: str | None) -> str:
    """How an interview ended, for people (the stored reasons are API codes): ``respondent_left`` → "ended by you"."""
    match reason:
        case "respondent_left":
            return tr.gettext("ended by you")
        case "timeout":
            return tr.gettext("closed after a quiet spell")
        case "manual":
            return tr.gettext("closed by the study team")
        case "gone":
            return tr.gettext("no longer known to the interview service")
        case "unreachable":
            return tr.gettext("closed because I could no longer reach you")
    return tr.gettext("completed")


def invalid_answer(tr: Catalogue, question: Question) -> str:
    """A structured answer that does not fit its question (the details go to the log, not to the person)."""
    match question.type:
        case QuestionType.SCALE:
            return tr.gettext("Please choose a number from {low} to {high}.").format(
                low=tr.number(question.scale_min), high=tr.number(question.scale_max)
            )
        case QuestionType.SINGLE_CHOICE:
            return tr.gettext("Please choose one of the options.")
        case QuestionType.MULTIPLE_CHOICE:
            return tr.gettext("Please choose options from the list.")
        case QuestionType.RANKING:
            return tr.gettext("Please rank the options, each once.")
        case QuestionType.YES_NO:
            return tr.gettext("Please answer yes or no.")
    return tr.gettext("Please type an answer.")


def answer_label(tr: Catalogue, question: Question, value: AnswerValue) -> str:
    """How an accepted answer is shown back to the respondent, e.g. ``4 / 5``, ``Yes``, ``1. A, 2. B``."""
    if question.type is QuestionType.SCALE and isinstance(value, int | float) and not isinstance(value, bool):
        return tr.gettext("{value} / {high}").format(value=tr.number(value), high=tr.number(question.scale_max))
    if isinstance(value, bool):
        return tr.gettext("Yes") if value else tr.gettext("No")
    if question.type is QuestionType.RANKING and isinstance(value, list):
        ranking = ", ".join(tr.gettext("{rank}. {option}").format(rank=n, option=v) for n, v in enumerate(value, 1))
        return tr.gettext("Ranked: {ranking}").format(ranking=ranking)
    if isinstance(value, list):
        return ", ".join(value)
    if question.type is QuestionType.SINGLE_CHOICE and value not in question.options:
        return tr.gettext("Other: {answer}").format(answer=value)
    return str(value)
