"""What to say when a typed reply looks like an answer but cannot be read without guessing.

The reading itself is :func:`bot.api.typed_answers.read_answer`, shared by the core and the built-in server;
this module turns its :class:`~bot.api.typed_answers.Problem` into a short hint in the respondent's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.api.models import Question, QuestionType
from bot.api.typed_answers import Problem, Reading, read_answer
from bot.core.i18n import Catalogue, catalogue


@dataclass(frozen=True, slots=True)
class TypedReply:
    """A typed reply to a pending question: the structured answer it carries, or a hint to ask again."""

    answer: dict[str, Any] | None = None  # {"question_id", "value", "question"} as queued with the message
    hint: str | None = None


def read_typed_reply(question: dict[str, Any], text: str, locale: str | None) -> TypedReply:
    """Read ``text`` against the stored pending ``question``: an answer, a hint, or neither (a comment)."""
    parsed = Question.model_validate(question)
    reading = read_answer(parsed, text)
    if reading.problem is not None:
        return TypedReply(hint=answer_hint(catalogue(locale), parsed, reading))
    if reading.value is None or parsed.type is QuestionType.OPEN_ENDED:
        return TypedReply()
    return TypedReply({"question_id": parsed.id, "value": reading.value, "question": question})


def _example(question: Question) -> str:
    count = len(question.options)
    if question.type is QuestionType.RANKING:
        return " ".join(str(n) for n in range(count, 0, -1))
    return "1,3" if count >= 3 else "1"


def answer_hint(tr: Catalogue, question: Question, reading: Reading) -> str:
    """A hint that asks again, saying what could not be read and how to answer (nothing was sent)."""
    low, high, count = question.scale_min, question.scale_max, len(question.options)
    read = ", ".join(reading.read)
    match reading.problem:
        case Problem.SEVERAL_NUMBERS:
            text = tr.gettext(
                "I read more than one number there ({numbers}). Please type just one, from {low} to {high}."
            )
            return text.format(numbers=reading.part, low=low, high=high)
        case Problem.OTHER_SCALE:
            text = tr.gettext("This scale goes from {low} to {high} — please type one number on it.")
            return text.format(low=low, high=high)
        case Problem.OUT_OF_RANGE if question.type is QuestionType.SCALE:
            text = tr.gettext("{number} is not on the scale — please type a number from {low} to {high}.")
            return text.format(number=reading.part, low=low, high=high)
        case Problem.OUT_OF_RANGE:
            text = tr.ngettext(
                "There is only {count} option — please use its number or name.",
                "There are {count} options — please use numbers from 1 to {count}, or their names.",
                count,
            )
            return text.format(count=count)
        case Problem.ONE_ONLY:
            text = tr.gettext("Please choose just one — I read {options}.")
            return text.format(options=read)
        case Problem.UNCLEAR_PART:
            text = tr.gettext(
                "I couldn't tell which option “{part}” means. "
                "Please name the options by their numbers or names, e.g. {example}."
            )
            return text.format(part=reading.part, example=_example(question))
        case Problem.TOO_MANY:
            text = tr.ngettext(
                "Please choose at most {n} option.", "Please choose at most {n} options.", _most(question)
            )
            return text.format(n=_most(question))
        case Problem.TOO_FEW:
            least = max(question.min_choices, 1)
            text = tr.ngettext("Please choose at least {n} option.", "Please choose at least {n} options.", least)
            return text.format(n=least)
        case Problem.RANK_ALL:
            wanted = question.max_choices or count
            text = tr.gettext("Please rank {wanted} options, most important first, e.g. {example} — I read {options}.")
            return text.format(wanted=wanted, example=_example(question), options=read or "—")
        case Problem.REPEATED:
            text = tr.gettext("“{option}” is named twice — please name each option once, e.g. {example}.")
            return text.format(option=reading.part, example=_example(question))
        case Problem.YES_AND_NO:
            return tr.gettext("I read both yes and no there — which is it? Please answer yes or no.")
    return tr.gettext("Sorry, I couldn't read that as an answer — could you try again?")


def _most(question: Question) -> int:
    return question.max_choices or len(question.options)
