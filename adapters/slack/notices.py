"""Notices as Slack blocks: the text, one button per action, and the studies select (labels in the notice's
language)."""

from __future__ import annotations

from adapters.slack.blocks import (
    NOTICE_ACTION_PREFIX,
    STUDY_SELECT_ACTION,
    Block,
    button,
    label,
    option,
    text_sections,
)
from bot.core import Action, Notice, action_label, catalogue

__all__ = ["notice_blocks"]

#: Notice buttons styled as the main choice.
PRIMARY = (Action.NEW_INTERVIEW, Action.AGREE)


def notice_blocks(notice: Notice) -> list[Block]:
    """A notice as blocks: its text and one button per action (labelled in the notice's language)."""
    tr = catalogue(notice.locale)
    blocks = text_sections(notice.text) or [{"type": "section", "text": {"type": "mrkdwn", "text": " "}}]
    if notice.actions:
        elements = []
        for act in notice.actions:
            style = "danger" if act in (Action.CONFIRM_EXIT, Action.FORGET) else ("primary" if act in PRIMARY else None)
            elements.append(button(action_label(tr, act), NOTICE_ACTION_PREFIX + act.value, act.value, style=style))
        blocks.append({"type": "actions", "block_id": "ibn|" + notice.kind.value, "elements": elements})
    if notice.studies:
        select = {
            "type": "static_select",
            "action_id": STUDY_SELECT_ACTION,
            "placeholder": {"type": "plain_text", "text": label(notice.text, 150)},
            "options": [option(name, study_id) for study_id, name in notice.studies[:100]],
        }
        blocks.append({"type": "actions", "block_id": "ibn|" + notice.kind.value, "elements": [select]})
    return blocks
