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
from bot.core import Action, Catalogue, Notice, agree_label, catalogue, decline_label, forget_label, keep_label

__all__ = ["notice_blocks", "notice_label"]

#: Notice buttons styled as the main choice.
PRIMARY = (Action.NEW_INTERVIEW, Action.AGREE)


def notice_label(tr: Catalogue, action: Action) -> str:
    """The label of an action's button, in the respondent's language."""
    match action:
        case Action.RETRY:
            return tr.gettext("Retry")
        case Action.END:
            return tr.gettext("End interview")
        case Action.CONFIRM_EXIT:
            return tr.gettext("Yes, end it")
        case Action.CANCEL_EXIT:
            return tr.gettext("No, continue")
        case Action.AGREE:
            return agree_label(tr)
        case Action.DECLINE:
            return decline_label(tr)
        case Action.FORGET:
            return forget_label(tr)
        case Action.KEEP:
            return keep_label(tr)
    return tr.gettext("Start a new interview")


def notice_blocks(notice: Notice) -> list[Block]:
    """A notice as blocks: its text and one button per action (labelled in the notice's language)."""
    tr = catalogue(notice.locale)
    blocks = text_sections(notice.text) or [{"type": "section", "text": {"type": "mrkdwn", "text": " "}}]
    if notice.actions:
        elements = []
        for act in notice.actions:
            style = "danger" if act in (Action.CONFIRM_EXIT, Action.FORGET) else ("primary" if act in PRIMARY else None)
            elements.append(button(notice_label(tr, act), NOTICE_ACTION_PREFIX + act.value, act.value, style=style))
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
