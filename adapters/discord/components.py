"""Questions, actions and the Start button as persistent Discord components (buttons, selects, modals).

Every component has ``timeout=None`` and a custom id from :mod:`adapters.discord.ids` that carries all
the state a click needs, and every one is wrapped in :class:`InterviewComponent`, a ``DynamicItem`` whose
template matches all of them: register it once with ``client.add_dynamic_items(InterviewComponent)`` and
clicks work after a restart, on messages the process never saw.

Layout rules (Discord: ≤ 5 rows, ≤ 5 buttons or 1 select per row, ≤ 25 options per select, labels ≤ 80):
yes/no → 2 buttons; scale → buttons in rows of ≤ 5 up to 20 values, selects beyond; single choice → buttons
up to 5 short options, else selects of 25 ("paged": one select per 25 options, up to 4); "other" → a button
opening a modal (options as a radio group + a text box, see :mod:`modals`); multiple choice → up to 10
options a button opening a checkbox modal (:mod:`modals` says why), more as selects + Submit; ranking → tap
the items in order (ranked items turn into grey "1. …" buttons), Reset and Submit. Options beyond what four
selects hold (100) are announced on a disabled button and logged. The last row always holds "End interview".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord
from discord.ext import commands

from adapters.discord import ids
from adapters.discord.modals import CHECKBOX_MAX
from bot.api.models import Question, QuestionType
from bot.core import Action, Catalogue, Notice, action_label, catalogue

log = logging.getLogger(__name__)

BUTTON_LABEL_LIMIT = 80
SELECT_OPTION_LIMIT = 25
OPTION_LABEL_LIMIT = 100
MAX_ROWS = 5
ROW_WIDTH = 5
#: Rows usable by a question (the last row is kept for controls and "End interview").
QUESTION_ROWS = MAX_ROWS - 1

ACTION_STYLES: dict[Action, discord.ButtonStyle] = {
    Action.RETRY: discord.ButtonStyle.primary,
    Action.END: discord.ButtonStyle.secondary,
    Action.CONFIRM_EXIT: discord.ButtonStyle.danger,
    Action.CANCEL_EXIT: discord.ButtonStyle.primary,
    Action.NEW_INTERVIEW: discord.ButtonStyle.success,
    Action.AGREE: discord.ButtonStyle.success,
    Action.DECLINE: discord.ButtonStyle.secondary,
    Action.FORGET: discord.ButtonStyle.danger,
    Action.KEEP: discord.ButtonStyle.secondary,
}


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (labels only; never the interviewer's text)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: The name of the cog that handles the adapter's components (``bot.get_cog(COG_NAME).router``).
COG_NAME = "Interview"


@runtime_checkable
class ComponentHandler(Protocol):
    """What handles a click or a selection: the router of the bot's interview cog."""

    async def on_component(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """Answer the interaction of a component with this custom id."""


def handler_of(client: discord.Client) -> ComponentHandler | None:
    """The component handler of the interview cog loaded into ``client`` (None: not loaded, e.g. unloaded)."""
    # AutoShardedBot is no subclass of Bot (both derive from BotBase): a sharded host bot has the cog too
    cog = client.get_cog(COG_NAME) if isinstance(client, commands.Bot | commands.AutoShardedBot) else None
    router = getattr(cog, "router", None)
    return router if isinstance(router, ComponentHandler) else None


class InterviewComponent(discord.ui.DynamicItem[discord.ui.Item[Any]], template=ids.TEMPLATE):
    """Every button and select of the adapter: rebuilt from its custom id on each click (restart-proof)."""

    def __init__(self, item: discord.ui.Item[Any]) -> None:
        """Wrap a button or select whose custom id was made by :mod:`ids`."""
        super().__init__(item)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> InterviewComponent:
        """Rebuild from the clicked component (all state is in its custom id)."""
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the interview cog of the bot the interaction came to."""
        handler = handler_of(interaction.client)
        if handler is not None:
            await handler.on_component(interaction, str(self.custom_id))


def _button(
    label: str, custom_id: str, row: int, style: discord.ButtonStyle = discord.ButtonStyle.secondary, **kw: Any
) -> InterviewComponent:
    return InterviewComponent(
        discord.ui.Button(label=clip(label, BUTTON_LABEL_LIMIT), custom_id=custom_id, style=style, row=row, **kw)
    )


def _view(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def end_button(tr: Catalogue, row: int) -> InterviewComponent:
    """The "End interview" button that sits on the interviewer's messages."""
    return _button(action_label(tr, Action.END), ids.action_id(Action.END.value), row, ACTION_STYLES[Action.END])


def actions_view(tr: Catalogue, actions: Sequence[Action], study: str | None = None) -> discord.ui.View:
    """Buttons for a notice's or a failed reply's actions, in one row; a consent text (*I agree*, *No thanks*) of
    ``study`` also gets **Remind me later** (not now, but remind me)."""
    buttons = [_button(action_label(tr, a), ids.action_id(a.value), 0, ACTION_STYLES[a]) for a in actions]
    if study is not None and Action.DECLINE in actions:
        later = tr.gettext("Remind me later")
        buttons.append(_button(later, ids.panel_id("pl", study, None), 0, discord.ButtonStyle.secondary))
    return _view(buttons)


def notice_view(notice: Notice) -> discord.ui.View | None:
    """What sits under a notice: the studies to choose from, else its action buttons (None: nothing)."""
    if notice.studies:
        return study_select_view(notice.studies, notice.text)
    return actions_view(catalogue(notice.locale), notice.actions, notice.study) if notice.actions else None


def reply_view(tr: Catalogue) -> discord.ui.View:
    """What sits under an interviewer message without a question: "End interview"."""
    return _view([end_button(tr, 0)])


def study_select_view(studies: Sequence[tuple[str, str]], placeholder: str) -> discord.ui.View:
    """A select of the open studies (id, name) a member may take; picking one starts it."""
    options = [
        discord.SelectOption(label=clip(name, 100), value=study_id, description=clip(study_id, 100))
        for study_id, name in studies[:25]
    ]
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=ids.start_id(None), placeholder=clip(placeholder, 150), options=options, min_values=1, max_values=1
    )
    return _view([InterviewComponent(select)])


def start_view(study: str | None, label: str) -> discord.ui.View:
    """The moderator's persistent "Start interview" button."""
    return _view([_button(label, ids.start_id(study), 0, discord.ButtonStyle.success)])


def panel_view(tr: Catalogue, study: str, role: str | None) -> discord.ui.View:
    """A panel's persistent buttons: **Take the interview** and **Remind me later** (both carry study and role)."""
    take = _button(tr.gettext("Take the interview"), ids.panel_id("pt", study, role), 0, discord.ButtonStyle.success)
    later = _button(tr.gettext("Remind me later"), ids.panel_id("pl", study, role), 0, discord.ButtonStyle.secondary)
    return _view([take, later])


def take_view(tr: Catalogue, study: str, reminder: int) -> discord.ui.View:
    """Reminder number ``reminder``'s **Take the interview** button (in a DM: the member asked to be reminded)."""
    custom_id = ids.panel_id("pt", study, None, f"r{reminder}")
    return _view([_button(tr.gettext("Take the interview"), custom_id, 0, discord.ButtonStyle.success)])


def answered_view(answer_text: str) -> discord.ui.View:
    """Replaces a question's components once answered: a disabled button showing the answer (already worded)."""
    return _view([_button(f"✓ {answer_text}", ids.display_id(0), 0, discord.ButtonStyle.secondary, disabled=True)])


def scale_values(question: Question) -> list[int]:
    """The values of a scale question, low to high."""
    low, high = sorted((question.scale_min, question.scale_max))
    return list(range(low, high + 1))


def _scale_label(question: Question, value: int) -> str:
    if value == question.scale_min and question.min_label:
        return f"{value} · {question.min_label}"
    if value == question.scale_max and question.max_label:
        return f"{value} · {question.max_label}"
    return str(value)


def missing_options_note(tr: Catalogue, question: Question, total: int) -> list[InterviewComponent]:
    """A disabled button saying how many options the selects show, when they cannot hold them all (and a
    warning in the log); nothing when they can."""
    shown = QUESTION_ROWS * SELECT_OPTION_LIMIT
    if total <= shown:
        return []
    log.warning("discord: question %s has %d options; only the first %d fit in a message", question.id, total, shown)
    text = tr.gettext("{shown} of {total} options shown: type yours if it's missing")
    label = text.format(shown=shown, total=total)
    return [_button(label, ids.display_id(1), QUESTION_ROWS, discord.ButtonStyle.secondary, disabled=True)]


def _selects(
    tr: Catalogue,
    kind: str,
    interview_id: str,
    question: Question,
    labels: Sequence[str],
    *,
    chosen: frozenset[int] = frozenset(),
    mask: str | None = None,
    multi: bool = False,
) -> list[InterviewComponent]:
    """One select per 25 options (up to :data:`QUESTION_ROWS`), values are option indexes."""
    items: list[InterviewComponent] = []
    pages = [range(i, min(i + SELECT_OPTION_LIMIT, len(labels))) for i in range(0, len(labels), SELECT_OPTION_LIMIT)]
    for page_no, page in enumerate(pages[:QUESTION_ROWS]):
        options = [
            discord.SelectOption(label=clip(labels[i], OPTION_LABEL_LIMIT), value=str(i), default=i in chosen)
            for i in page
        ]
        args = (str(page_no),) if mask is None else (str(page_no), mask)
        placeholder = (
            tr.gettext("Choose…")
            if len(pages) == 1
            else tr.gettext("Options {first}–{last}").format(first=page.start + 1, last=page.stop)
        )
        if multi:
            most = question.max_choices or len(labels)
            low = min(question.min_choices, len(page)) if len(pages) == 1 else 0
            high = max(1, min(most, len(page)))
        else:
            low, high = 1, 1
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=ids.question_id(kind, interview_id, question.id, *args),
            placeholder=placeholder,
            options=options,
            min_values=min(low, high),
            max_values=high,
            row=page_no,
        )
        items.append(InterviewComponent(select))
    return items


def _button_rows(buttons: list[tuple[str, str, discord.ButtonStyle, bool]]) -> list[InterviewComponent]:
    """Buttons (label, custom id, style, disabled) laid out in rows of five."""
    return [
        _button(label, custom_id, n // ROW_WIDTH, style, disabled=disabled)
        for n, (label, custom_id, style, disabled) in enumerate(buttons)
    ]


def question_view(tr: Catalogue, interview_id: str, question: Question) -> discord.ui.View | None:
    """The components of a fresh question (None for open-ended questions: they are answered by typing)."""
    qid = question.id
    primary = discord.ButtonStyle.primary
    if question.type is QuestionType.OPEN_ENDED:
        return None
    if question.type is QuestionType.YES_NO:
        items = [
            _button(tr.gettext("Yes"), ids.question_id("a", interview_id, qid, "y"), 0, discord.ButtonStyle.success),
            _button(tr.gettext("No"), ids.question_id("a", interview_id, qid, "n"), 0, discord.ButtonStyle.danger),
        ]
        return _view([*items, end_button(tr, 1)])
    if question.type is QuestionType.SCALE:
        values = scale_values(question)
        if len(values) <= QUESTION_ROWS * ROW_WIDTH:
            items = _button_rows(
                [
                    (_scale_label(question, v), ids.question_id("a", interview_id, qid, str(v)), primary, False)
                    for v in values
                ]
            )
        else:
            items = _selects(tr, "s", interview_id, question, [_scale_label(question, v) for v in values])
        return _view([*items, end_button(tr, QUESTION_ROWS)])
    if question.type is QuestionType.SINGLE_CHOICE:
        options = question.options
        short = all(len(o) <= BUTTON_LABEL_LIMIT for o in options)
        if len(options) <= ROW_WIDTH and short:
            items = _button_rows(
                [(o, ids.question_id("a", interview_id, qid, str(i)), primary, False) for i, o in enumerate(options)]
            )
        else:
            items = _selects(tr, "s", interview_id, question, options)
        controls: list[InterviewComponent] = []
        if question.allow_other:
            controls.append(_button(tr.gettext("Other…"), ids.question_id("o", interview_id, qid), QUESTION_ROWS))
        controls += missing_options_note(tr, question, len(options))
        return _view([*items, *controls, end_button(tr, QUESTION_ROWS)])
    if question.type is QuestionType.MULTIPLE_CHOICE:
        if len(question.options) <= CHECKBOX_MAX:  # a checkbox modal: every option visible, counts checked
            opener = _button(
                tr.gettext("Choose…"), ids.question_id("mo", interview_id, qid), 0, discord.ButtonStyle.primary
            )
            return _view([opener, end_button(tr, 1)])
        return multiple_choice_view(tr, interview_id, question, frozenset())
    return ranking_view(tr, interview_id, question, ())


def multiple_choice_view(
    tr: Catalogue, interview_id: str, question: Question, chosen: frozenset[int]
) -> discord.ui.View:
    """Selects (min/max from the question) keeping the choices so far, and Submit (more than 10 options)."""
    mask = ids.encode_mask(chosen)
    items = _selects(tr, "m", interview_id, question, question.options, chosen=chosen, mask=mask, multi=True)
    enough = len(chosen) >= max(1, question.min_choices)
    submit = _button(
        tr.gettext("Submit ({count})").format(count=len(chosen)) if chosen else tr.gettext("Submit"),
        ids.question_id("ms", interview_id, question.id, mask),
        QUESTION_ROWS,
        discord.ButtonStyle.success,
        disabled=not enough,
    )
    note = missing_options_note(tr, question, len(question.options))
    return _view([*items, submit, *note, end_button(tr, QUESTION_ROWS)])


def ranking_view(tr: Catalogue, interview_id: str, question: Question, order: tuple[int, ...]) -> discord.ui.View:
    """Tap the items from most to least preferred: ranked ones turn grey with their rank; Reset; Submit.

    Works one-handed on a phone: no dragging, one tap per item, and the order so far is always visible.
    The order lives in the custom ids, so a half-done ranking survives a restart. Above 20 items, a select
    picks the next item and the order so far is shown in its placeholder.
    """
    options = question.options
    order = tuple(i for i in dict.fromkeys(order) if 0 <= i < len(options))
    remaining = [i for i in range(len(options)) if i not in order]
    if len(remaining) == 1:  # the last item has only one place left
        order = (*order, remaining[0])
        remaining = []
    so_far = ids.encode_order(order)
    qid = question.id
    items: list[InterviewComponent]
    if len(options) <= QUESTION_ROWS * ROW_WIDTH:
        buttons = [
            (
                tr.gettext("{rank}. {option}").format(rank=rank + 1, option=options[i]),
                ids.question_id("r", interview_id, qid, so_far, f"{i}d"),
                discord.ButtonStyle.secondary,
                True,
            )
            for rank, i in enumerate(order)
        ]
        buttons += [
            (options[i], ids.question_id("r", interview_id, qid, so_far, str(i)), discord.ButtonStyle.primary, False)
            for i in remaining
        ]
        items = _button_rows(buttons)
    else:
        ranked = ", ".join(
            tr.gettext("{rank}. {option}").format(rank=rank + 1, option=options[i]) for rank, i in enumerate(order)
        )
        pick = (
            tr.gettext("Pick number {rank} — so far: {ranking}").format(rank=len(order) + 1, ranking=ranked)
            if ranked
            else tr.gettext("Pick number {rank}").format(rank=len(order) + 1)
        )
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=ids.question_id("r", interview_id, qid, so_far, "s"),
            placeholder=clip(pick, 150),
            options=[
                discord.SelectOption(label=clip(options[i], OPTION_LABEL_LIMIT), value=str(i))
                for i in remaining[:SELECT_OPTION_LIMIT]
            ]
            or [discord.SelectOption(label="—", value="-")],
            disabled=not remaining,
            row=0,
        )
        items = [InterviewComponent(select)]
    controls = [
        _button(tr.gettext("Reset"), ids.question_id("rr", interview_id, qid), QUESTION_ROWS, disabled=not order),
        _button(
            tr.gettext("Submit"),
            ids.question_id("rs", interview_id, qid, so_far),
            QUESTION_ROWS,
            discord.ButtonStyle.success,
            disabled=bool(remaining),
        ),
    ]
    return _view([*items, *controls, end_button(tr, QUESTION_ROWS)])
