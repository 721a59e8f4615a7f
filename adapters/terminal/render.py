"""Structured questions as numbered choices on a terminal (the core reads the typed answers)."""

from __future__ import annotations

from bot.api.models import Question, QuestionType
from bot.core import Catalogue


def render_question(tr: Catalogue, question: Question) -> list[str]:
    """The lines that show ``question``'s choices and how to answer, in the respondent's language."""
    kind = question.type
    if kind is QuestionType.SCALE:
        low = f" = {question.min_label}" if question.min_label else ""
        high = f" = {question.max_label}" if question.max_label else ""
        return [
            "  "
            + tr.gettext("Scale {low} … {high}").format(
                low=f"{question.scale_min}{low}", high=f"{question.scale_max}{high}"
            ),
            "  → "
            + tr.gettext("type a number from {low} to {high}").format(low=question.scale_min, high=question.scale_max),
        ]
    if kind is QuestionType.YES_NO:
        return ["  → " + tr.gettext("type y (yes) or n (no)")]
    if kind is QuestionType.OPEN_ENDED or not question.options:
        return []
    lines = [f"  {number}. {option}" for number, option in enumerate(question.options, 1)]
    if kind is QuestionType.SINGLE_CHOICE and question.allow_other:
        hint = tr.gettext("type the number of your choice, or type your own answer")
    elif kind is QuestionType.SINGLE_CHOICE:
        hint = tr.gettext("type the number of your choice")
    elif kind is QuestionType.MULTIPLE_CHOICE and question.max_choices:
        hint = tr.gettext("type the numbers of all that apply, up to {count}, e.g. 1,3").format(
            count=question.max_choices
        )
    elif kind is QuestionType.MULTIPLE_CHOICE:
        hint = tr.gettext("type the numbers of all that apply, e.g. 1,3")
    else:
        example = " ".join(str(n) for n in range(len(question.options), 0, -1))
        hint = tr.gettext("type all the numbers in order, most important first, e.g. {example}").format(example=example)
    return [*lines, "  → " + hint]
