"""The label of each action's button (or typed word), the same on every platform, in the reader's language."""

from __future__ import annotations

from bot.core.i18n import Catalogue
from bot.core.ports import Action
from bot.core.privacy_texts import agree_label, decline_label, forget_label, keep_label

__all__ = ["action_label"]


def action_label(tr: Catalogue, action: Action) -> str:
    """The label of ``action``'s button, in the respondent's language."""
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
