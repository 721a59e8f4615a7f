"""Modals of the adapter: the "Other…" answer of a single-choice question and the checkbox list of a
multiple-choice one (discord.py 2.7: ``Label``, ``TextDisplay``, ``RadioGroup``, ``CheckboxGroup``).

Which widget, decided by the respondent's effort (a modal costs a tap before anything can be chosen):

* yes/no and scales stay one-tap buttons on the message: one tap answers, no modal could beat that;
* single choice keeps its one-tap buttons (or selects) for the listed options. "Other…" opens a modal with the
  same options as a radio group *and* an optional text box, answered in one submit: whoever opened it to
  type can still change their mind and pick an option, without closing it and tapping again;
* multiple choice with at most 10 options opens a modal with a checkbox group: every option is visible with
  its whole label (a select hides them in a dropdown), several are ticked in place, and Discord itself
  enforces the minimum and maximum, so a wrong count never reaches us. More than 10 options (Discord's limit
  for checkbox groups) keep the paged selects.

Inputs sit in a ``Label`` (a text input straight in an action row is deprecated since 2025-08-25). The label
text holds at most 45 characters and its description 100, and the modal title 45: a question longer than
the description is shown whole in a ``TextDisplay`` above the inputs.

Submits are routed by the modal's custom id (see :mod:`ids`), so they work after a restart; the modal objects
get a timeout so a modal the member dismissed is not kept forever.
"""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord import ids
from bot.api.models import Question
from bot.core import catalogue

__all__ = [
    "CHECKBOX_MAX",
    "CHOICES_FIELD",
    "CHOICE_FIELD",
    "OTHER_FIELD",
    "RADIO_MAX",
    "modal_values",
    "multiple_choice_modal",
    "other_modal",
]

#: Seconds discord.py keeps an opened modal object (its submit works later too, routed by custom id).
MODAL_KEPT_FOR = 900.0
TITLE_LIMIT = 45
LABEL_LIMIT = 45
DESCRIPTION_LIMIT = 100
OPTION_LABEL_LIMIT = 100
TEXT_DISPLAY_LIMIT = 4000
RADIO_MIN, RADIO_MAX = 2, 10
CHECKBOX_MAX = 10
#: Custom ids of the inputs inside the modals.
OTHER_FIELD = "other"
CHOICE_FIELD = "choice"
CHOICES_FIELD = "choices"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _question_parts(question: Question) -> tuple[str | None, list[discord.ui.Item[Any]]]:
    """The description for the first label (the question, if it fits) and the text display above (if not)."""
    text = question.text.strip()
    if not text:
        return None, []
    if len(" ".join(text.split())) <= DESCRIPTION_LIMIT:
        return " ".join(text.split()), []
    return None, [discord.ui.TextDisplay(text[:TEXT_DISPLAY_LIMIT])]


def _modal(title: str, custom_id: str) -> discord.ui.Modal:
    return discord.ui.Modal(title=_clip(title, TITLE_LIMIT), custom_id=custom_id, timeout=MODAL_KEPT_FOR)


def other_modal(interview_id: str, question: Question, locale: str | None = None) -> discord.ui.Modal:
    """ "Other…" of a single-choice question: the options as a radio group and a text box, both optional."""
    tr = catalogue(locale)
    modal = _modal(tr.gettext("Your answer"), ids.question_id("om", interview_id, question.id))
    description, above = _question_parts(question)
    for item in above:
        modal.add_item(item)
    options = list(question.options)
    if RADIO_MIN <= len(options) <= RADIO_MAX:
        radio: discord.ui.RadioGroup[Any] = discord.ui.RadioGroup(
            custom_id=CHOICE_FIELD,
            required=False,
            options=[
                discord.RadioGroupOption(label=_clip(o, OPTION_LABEL_LIMIT), value=str(i))
                for i, o in enumerate(options)
            ],
        )
        modal.add_item(
            discord.ui.Label(
                text=_clip(tr.gettext("Pick one of these…"), LABEL_LIMIT), description=description, component=radio
            )
        )
        description = None
    box: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id=OTHER_FIELD, max_length=400, style=discord.TextStyle.paragraph, required=False
    )
    text_label = (
        tr.gettext("…or type your own answer") if description is None and options else tr.gettext("Your answer")
    )
    modal.add_item(discord.ui.Label(text=_clip(text_label, LABEL_LIMIT), description=description, component=box))
    return modal


def multiple_choice_modal(interview_id: str, question: Question, locale: str | None = None) -> discord.ui.Modal:
    """Multiple choice (≤ 10 options) as a checkbox group; Discord enforces the minimum and maximum."""
    tr = catalogue(locale)
    modal = _modal(tr.gettext("Your answer"), ids.question_id("mm", interview_id, question.id))
    description, above = _question_parts(question)
    for item in above:
        modal.add_item(item)
    options = list(question.options)[:CHECKBOX_MAX]
    low, high = choice_bounds(question)
    group: discord.ui.CheckboxGroup[Any] = discord.ui.CheckboxGroup(
        custom_id=CHOICES_FIELD,
        required=low > 0,
        min_values=low,
        max_values=high,
        options=[
            discord.CheckboxGroupOption(label=_clip(o, OPTION_LABEL_LIMIT), value=str(i)) for i, o in enumerate(options)
        ],
    )
    if low == high:
        hint = tr.ngettext("Tick {n} box", "Tick {n} boxes", high).format(n=high)
    else:
        hint = tr.gettext("Tick {low} to {high} boxes").format(low=low, high=high)
    modal.add_item(discord.ui.Label(text=_clip(hint, LABEL_LIMIT), description=description, component=group))
    return modal


def choice_bounds(question: Question) -> tuple[int, int]:
    """How many boxes of a multiple-choice question may be ticked: (at least, at most), within 0..10."""
    count = min(len(question.options), CHECKBOX_MAX)
    high = max(1, min(question.max_choices or count, count))
    low = max(0, min(question.min_choices, high))
    return low, high


def modal_values(data: Any) -> dict[str, str | list[str]]:
    """``custom_id → value`` of every input in a modal submit (rows or labels, any nesting): a string for a
    text input or radio group (absent when nothing was picked), a list of values for a checkbox group."""
    found: dict[str, str | list[str]] = {}
    if isinstance(data, dict):
        custom_id = data.get("custom_id")
        if isinstance(custom_id, str) and isinstance(data.get("value"), str):
            found[custom_id] = data["value"]
        elif isinstance(custom_id, str) and isinstance(data.get("values"), list):
            found[custom_id] = [str(v) for v in data["values"]]
        for value in data.values():
            if isinstance(value, dict | list):
                found.update(modal_values(value))
    elif isinstance(data, list):
        for value in data:
            found.update(modal_values(value))
    return found
