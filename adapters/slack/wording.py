"""The fixed sentences of an interview's thread: its anchor, the consent note, the pointer to the thread."""

from __future__ import annotations

from adapters.slack.blocks import Block
from bot.core import Catalogue

__all__ = ["INTRO_BLOCK", "anchor_text", "intro_block", "intro_text", "pointer_text"]

INTRO_BLOCK = "ib_intro"


def anchor_text(tr: Catalogue) -> str:
    """The message a new interview thread hangs from."""
    return tr.gettext("📝 *Interview* — we'll talk in this thread. Reply here whenever you're ready.")


def pointer_text(tr: Catalogue) -> str:
    """Under a message written outside the interview's thread."""
    return tr.gettext("↪️ Added to your interview — the conversation continues in its thread.")


def intro_text(tr: Catalogue) -> str:
    """Shown once at the start of every interview, before the interviewer's first words (consent up front).

    True to what the adapter does: the respondent's Slack id and display name are sent with the interview.
    """
    return tr.gettext(
        "🔒 *Before we start:* this interview is *not anonymous* — what you write here goes to the team running the "
        "study, together with your Slack name. Answer in this thread, in your own words or with the buttons; "
        "`/interview stop` ends it at any time."
    )


def intro_block(tr: Catalogue) -> Block:
    """The consent note as a context block (``block_id`` :data:`INTRO_BLOCK`)."""
    return {"type": "context", "block_id": INTRO_BLOCK, "elements": [{"type": "mrkdwn", "text": intro_text(tr)}]}
