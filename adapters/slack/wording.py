"""The fixed sentences of an interview's thread: its anchor, the consent note, the pointer to the thread."""

from __future__ import annotations

from bot.core import Catalogue

__all__ = ["anchor_text", "pointer_text"]


def anchor_text(tr: Catalogue) -> str:
    """The message a new interview thread hangs from."""
    return tr.gettext("📝 *Interview* — we'll talk in this thread. Reply here whenever you're ready.")


def pointer_text(tr: Catalogue) -> str:
    """Under a message written outside the interview's thread."""
    return tr.gettext("↪️ Added to your interview — the conversation continues in its thread.")
