"""Structured questions as numbered choices on a terminal, and typed input back into answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.api.models import AnswerValue, Question, QuestionType

YES = {"y", "yes", "yeah", "yep", "ja", "oui", "sí", "si"}
NO = {"n", "no", "nope", "nein", "non"}


def render_question(question: Question) -> list[str]:
    """The lines that show ``question``'s choices and how to answer."""
    kind = question.type
    if kind is QuestionType.SCALE:
        low = f" = {question.min_label}" if question.min_label else ""
        high = f" = {question.max_label}" if question.max_label else ""
        return [
            f"  Scale {question.scale_min}{low} … {question.scale_max}{high}",
            f"  → type a number from {question.scale_min} to {question.scale_max}",
        ]
    if kind is QuestionType.YES_NO:
        return ["  → type y (yes) or n (no)"]
    if kind is QuestionType.OPEN_ENDED or not question.options:
        return []
    lines = [f"  {number}. {option}" for number, option in enumerate(question.options, 1)]
    if kind is QuestionType.SINGLE_CHOICE:
        hint = "  → type the number of your choice"
        if question.allow_other:
            hint += ", or type your own answer"
    elif kind is QuestionType.MULTIPLE_CHOICE:
        most = f", up to {question.max_choices}" if question.max_choices else ""
        hint = f"  → type the numbers of all that apply{most}, e.g. 1,3"
    else:
        hint = "  → type all the numbers in order, most important first, e.g. " + " ".join(
            str(n) for n in range(len(question.options), 0, -1)
        )
    return [*lines, hint]


@dataclass(frozen=True, slots=True)
class Parsed:
    """Typed input read against a pending question: an answer, or a hint why it is not one."""

    value: AnswerValue | None = None
    hint: str | None = None


def _numbers(text: str) -> list[int] | None:
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def parse_answer(question: Question, text: str) -> Parsed:
    """Read ``text`` as an answer to ``question``; an empty ``Parsed`` means "send it as plain text"."""
    word = text.strip().lower()
    kind = question.type
    if kind is QuestionType.YES_NO:
        if word in YES:
            return Parsed(True)
        if word in NO:
            return Parsed(False)
        return Parsed()
    if kind is QuestionType.SCALE:
        if re.fullmatch(r"-?\d+", word):
            number = int(word)
            if question.scale_min <= number <= question.scale_max:
                return Parsed(number)
            return Parsed(hint=f"Please type a number from {question.scale_min} to {question.scale_max}.")
        return Parsed()
    if kind is QuestionType.OPEN_ENDED or not question.options:
        return Parsed()
    numbers = _numbers(word)
    if numbers is None:
        return Parsed()
    count = len(question.options)
    if any(not 1 <= n <= count for n in numbers):
        return Parsed(hint=f"Please use numbers from 1 to {count}.")
    chosen = [question.options[n - 1] for n in numbers]
    if kind is QuestionType.SINGLE_CHOICE:
        return Parsed(chosen[0]) if len(chosen) == 1 else Parsed(hint="Please choose just one number.")
    if kind is QuestionType.MULTIPLE_CHOICE:
        unique = list(dict.fromkeys(chosen))
        if question.max_choices and len(unique) > question.max_choices:
            return Parsed(hint=f"Please choose at most {question.max_choices}.")
        if len(unique) < question.min_choices:
            return Parsed(hint=f"Please choose at least {question.min_choices}.")
        return Parsed(unique)
    if sorted(numbers) != list(range(1, count + 1)):
        return Parsed(hint=f"Please put all {count} numbers in order, each once.")
    return Parsed(chosen)
