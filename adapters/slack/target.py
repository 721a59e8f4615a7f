"""Where a Slack conversation's messages go, and how a reply's text and blocks become message arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import Block, markdown_blocks
from bot.core import ConversationKey

__all__ = ["ATTACH_LIMIT", "Target", "blocks_fit", "message_payload"]

#: Blocks attached to a reply when their JSON stays under this size (Slack refuses ~13k: msg_blocks_too_long).
ATTACH_LIMIT = 11000


@dataclass(frozen=True, slots=True)
class Target:
    """Where a conversation's messages go: the DM channel and the interview's thread."""

    key: ConversationKey
    channel: str
    thread_ts: str | None

    @property
    def team(self) -> str:
        """The workspace (for the rate budget)."""
        return self.key.workspace

    @property
    def conversation(self) -> str:
        """The conversation's key as a string (for fairness in the budget)."""
        return self.key.as_str()


def message_payload(text: str, blocks: list[Block] | None) -> dict[str, Any]:
    """``text`` (and ``blocks``) as chat.postMessage / chat.update arguments.

    The text goes in ``markdown`` blocks (standard Markdown, as streamed text is), ``text`` is the plain
    fallback for notifications.
    """
    return {"text": text, "blocks": [*markdown_blocks(text), *(blocks or [])]}


def blocks_fit(blocks: list[Block]) -> bool:
    """True when ``blocks`` can ride on a message without hitting Slack's size limits."""
    return len(blocks) <= 45 and len(json.dumps(blocks)) <= ATTACH_LIMIT
