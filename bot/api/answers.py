"""Structured answers: check and coerce a value for its question, render it as text.

Typed replies are read by :mod:`bot.api.typed_answers`.

Wire format (see ``docs/api-wire-format.md``): a structured answer is sent as
``{"content": answer_text(q, v), "answer": {"question_id": q.id, "type": q.type, "value": v}}`` so a server
that ignores ``answer`` still receives a readable message.
"""

from __future__ import annotations

import re

from bot.api.models import AnswerValue, Question, QuestionType
from bot.api.typed_answers import NO_WORDS, YES_WORDS

_OTHER_PREFIX = re.compile(r"^\s*other\s*[:\-–—]\s*", re.IGNORECASE)


def _match_option(question: Question, text: str) -> str | None:
    """The option ``text`` names (case-insensitive; exact, then 1-based number, then a unique prefix)."""
    wanted = text.strip().strip(".").strip().lower()
    if not wanted:
        return None
    for option in question.options:
        if option.lower() == wanted:
            return option
    if wanted.isdigit() and 1 <= int(wanted) <= len(question.options):
        return question.options[int(wanted) - 1]
    prefixed = [o for o in question.options if o.lower().startswith(wanted)]
    if len(prefixed) == 1 and len(wanted) >= 3:
        return prefixed[0]
    return None


def _other_text(text: str) -> str:
    return _OTHER_PREFIX.sub("", text).strip()


def _as_list(value: AnswerValue) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part for part in (p.strip() for p in re.split(r"[,;\n]", value)) if part]
    raise ValueError("expected a list of options")


def _validate_scale(question: Question, value: AnswerValue) -> AnswerValue:
    if isinstance(value, bool | list):
        raise ValueError(f"expected a number from {question.scale_min} to {question.scale_max}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number from {question.scale_min} to {question.scale_max}") from None
    if not question.scale_min <= number <= question.scale_max:
        raise ValueError(f"{value} is outside the scale {question.scale_min}–{question.scale_max}")
    return int(number) if number.is_integer() else number


def _validate_single(question: Question, value: AnswerValue) -> AnswerValue:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected one option")
    option = _match_option(question, value) if not _OTHER_PREFIX.match(value) else None
    if option is not None:
        return option
    if question.allow_other:
        return _other_text(value) or value.strip()
    raise ValueError(f"{value!r} is not one of: {', '.join(question.options)}")


def _validate_multiple(question: Question, value: AnswerValue) -> AnswerValue:
    chosen: list[str] = []
    for item in _as_list(value):
        option = _match_option(question, item) if not _OTHER_PREFIX.match(item) else None
        if option is None:
            if not question.allow_other:
                raise ValueError(f"{item!r} is not one of: {', '.join(question.options)}")
            option = _other_text(item) or item.strip()
        if option not in chosen:
            chosen.append(option)
    low = max(question.min_choices, 1)
    high = question.max_choices or len(question.options) + (1 if question.allow_other else 0)
    if not low <= len(chosen) <= high:
        raise ValueError(f"choose between {low} and {high} options" if low != high else f"choose {low} options")
    return chosen


def _validate_ranking(question: Question, value: AnswerValue) -> AnswerValue:
    ranked: list[str] = []
    for item in _as_list(value):
        option = _match_option(question, item)
        if option is None:
            raise ValueError(f"{item!r} is not one of: {', '.join(question.options)}")
        if option in ranked:
            raise ValueError(f"{option!r} is ranked twice")
        ranked.append(option)
    if question.max_choices is None:
        if len(ranked) != len(question.options):
            raise ValueError(f"rank all {len(question.options)} options")
    elif not max(question.min_choices, 1) <= len(ranked) <= question.max_choices:
        raise ValueError(f"rank your top {question.max_choices}")
    return ranked


def _validate_yes_no(value: AnswerValue) -> AnswerValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
    raise ValueError("expected yes or no")


def validate_answer(question: Question, value: AnswerValue) -> AnswerValue:
    """Coerce ``value`` to the type its question expects and check it; ``ValueError`` says what is wrong.

    scale → int (or float) inside ``scale_min..scale_max``; single_choice → one option (or free text if
    ``allow_other``); multiple_choice → list of options; ranking → ordered list of distinct options (all of
    them unless ``max_choices``); yes_no → bool; open_ended → non-empty text.
    """
    match question.type:
        case QuestionType.SCALE:
            return _validate_scale(question, value)
        case QuestionType.SINGLE_CHOICE:
            return _validate_single(question, value)
        case QuestionType.MULTIPLE_CHOICE:
            return _validate_multiple(question, value)
        case QuestionType.RANKING:
            return _validate_ranking(question, value)
        case QuestionType.YES_NO:
            return _validate_yes_no(value)
        case _:
            if not isinstance(value, str) or not value.strip():
                raise ValueError("expected a non-empty answer")
            return value.strip()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def answer_text(question: Question, value: AnswerValue) -> str:
    """A readable form of an answer, e.g. ``"4 / 5"``, ``"Ranked: 1. A, 2. B"``, ``"Yes"``."""
    match question.type:
        case QuestionType.SCALE if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{_number(value)} / {question.scale_max}"
        case QuestionType.YES_NO if isinstance(value, bool):
            return "Yes" if value else "No"
        case QuestionType.RANKING if isinstance(value, list):
            return "Ranked: " + ", ".join(f"{i}. {item}" for i, item in enumerate(value, 1))
        case QuestionType.MULTIPLE_CHOICE if isinstance(value, list):
            return ", ".join(value)
        case QuestionType.SINGLE_CHOICE if isinstance(value, str) and value not in question.options:
            return f"Other: {value}"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)
