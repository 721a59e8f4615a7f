"""From a Block Kit click (``block_actions`` payload) back to a structured answer value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import Block, QuestionRef, ranking_blocks
from bot.api.models import AnswerValue, Question, QuestionType
from bot.core import Catalogue


@dataclass(frozen=True, slots=True)
class Chosen:
    """The click answers the question with ``value``."""

    value: AnswerValue


@dataclass(frozen=True, slots=True)
class OpenOther:
    """The respondent wants to type an "other" answer: open the modal."""


@dataclass(frozen=True, slots=True)
class Redraw:
    """A step of a multi-click widget (ranking): show ``blocks`` in place of the question's blocks."""

    blocks: list[Block]


@dataclass(frozen=True, slots=True)
class Ignore:
    """A change of selection that answers nothing yet (a checkbox ticked before Submit)."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """The click cannot be taken as is; ``message`` tells the respondent why."""

    message: str


ClickResult = Chosen | OpenOther | Redraw | Ignore | Invalid


def _index(value: Any, q: Question) -> int | None:
    try:
        i = int(str(value))
    except ValueError:
        return None
    return i if 0 <= i < len(q.options) else None


def _parse_order(part: str, q: Question) -> list[int] | None:
    if not part.startswith("rank:"):
        return None
    raw = part[len("rank:") :]
    order: list[int] = []
    for piece in raw.split(",") if raw else []:
        i = _index(piece, q)
        if i is None or i in order:
            return None
        order.append(i)
    return order


def _state_of(state: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in (state.get("values") or {}).values():
        if isinstance(block, dict) and action_id in block:
            found = block[action_id]
            return found if isinstance(found, dict) else None
    return None


def interpret_click(
    tr: Catalogue, q: Question, ref: QuestionRef, action: dict[str, Any], state: dict[str, Any]
) -> ClickResult:
    """What the click ``action`` (one item of ``body["actions"]``) on question ``q`` means.

    ``state`` is the payload's ``state`` (the current values of the message's inputs, for Submit buttons);
    ``tr`` words the answers to the clicker and the redrawn widgets.
    """
    action_id = str(action.get("action_id", ""))
    value = action.get("value")
    selected = action.get("selected_option") or {}
    if action_id in ("ib:yes", "ib:no") and q.type is QuestionType.YES_NO:
        return Chosen(action_id == "ib:yes")
    if q.type is QuestionType.SCALE and (action_id.startswith(("ib:scale:", "ib:scale_select:"))):
        raw = value if action_id.startswith("ib:scale:") else selected.get("value")
        try:
            n = int(str(raw))
        except ValueError:
            return Invalid(tr.gettext("That is not a point of this scale."))
        if not q.scale_min <= n <= q.scale_max:
            return Invalid(tr.gettext("That is not a point of this scale."))
        return Chosen(n)
    if q.type is QuestionType.SINGLE_CHOICE:
        if action_id == "ib:other":
            return OpenOther() if q.allow_other else Invalid(tr.gettext("This question has no “other” answer."))
        raw = value if action_id.startswith("ib:choice:") else selected.get("value")
        if action_id.startswith(("ib:choice:", "ib:select:")) or action_id == "ib:radio":
            i = _index(raw, q)
            return Chosen(q.options[i]) if i is not None else Invalid(tr.gettext("That option is no longer offered."))
    if q.type is QuestionType.MULTIPLE_CHOICE:
        if action_id == "ib:multi":
            return Ignore()
        if action_id == "ib:submit":
            current = _state_of(state, "ib:multi") or {}
            picked = [_index(o.get("value"), q) for o in current.get("selected_options") or []]
            values = [q.options[i] for i in sorted({i for i in picked if i is not None})]
            low, high = q.min_choices, q.max_choices
            if len(values) < max(low, 1) and low > 0:
                least = max(low, 1)
                return Invalid(
                    tr.ngettext(
                        "Pick at least {count} option first.", "Pick at least {count} options first.", least
                    ).format(count=least)
                )
            if high is not None and len(values) > high:
                return Invalid(
                    tr.ngettext("Pick at most {count} option.", "Pick at most {count} options.", high).format(
                        count=high
                    )
                )
            return Chosen(values)
    if q.type is QuestionType.RANKING:
        order = _parse_order(ref.part, q)
        if order is None:
            return Invalid(tr.gettext("That ranking is out of date; please start over."))
        if action_id == "ib:rank_reset":
            return Redraw(ranking_blocks(tr, ref, q, []))
        if action_id.startswith("ib:rank:"):
            i = _index(value, q)
            if i is None or i in order:
                return Ignore()
            return Redraw(ranking_blocks(tr, ref, q, [*order, i]))
        if action_id == "ib:rank_submit":
            if sorted(order) != list(range(len(q.options))):
                return Invalid(tr.gettext("Rank every option before submitting."))
            return Chosen([q.options[i] for i in order])
    return Invalid(tr.gettext("That button does not belong to this question."))
