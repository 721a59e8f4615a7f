"""Structured questions as numbered choices on a terminal (the core reads the typed answers)."""

from __future__ import annotations

from bot.api.models import Question, QuestionType


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
