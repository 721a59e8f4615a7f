"""Results in Slack: a card as Block Kit, charts and exports uploaded as Slack documents it since
``files.upload`` was retired — ``files.getUploadURLExternal``, the upload, ``files.completeUploadExternal``
(slack_sdk's ``files_upload_v2`` does the three steps)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.slack.blocks import escape
from adapters.slack.calls import SlackCalls
from bot.core import ResultsCard, ResultsFile

__all__ = ["card_blocks", "card_text", "post_card", "upload_files"]

#: Slack: a header is at most 150 characters, a section holds at most 10 fields of 2,000 characters.
_HEADER_LIMIT, _FIELDS_PER_SECTION, _FIELD_LIMIT = 150, 10, 2000
#: Budget key for calls that are not part of a respondent's conversation.
RESULTS_CONVERSATION = "results"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_text(card: ResultsCard) -> str:
    """The card as plain text (notifications, and clients that show no blocks)."""
    lines = [card.title, *(f"{label}: {value}" for label, value in card.fields)]
    return "\n".join(lines)


def card_blocks(card: ResultsCard) -> list[dict[str, Any]]:
    """A header, the fields two per row, the quote, the footer."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(card.title, _HEADER_LIMIT), "emoji": True}}
    ]
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{escape(label)}*\n{escape(value)}", _FIELD_LIMIT)}
        for label, value in card.fields
    ]
    for start in range(0, len(fields), _FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + _FIELDS_PER_SECTION]})
    if card.quote:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("> " + escape(card.quote), 3000)}})
    if card.footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(card.footer)}]})
    return blocks


async def post_card(calls: SlackCalls, team: str, channel: str, card: ResultsCard) -> None:
    """Post ``card`` to ``channel``."""
    await calls.call(
        "chat.postMessage",
        calls.client.chat_postMessage,
        team=team,
        conversation=RESULTS_CONVERSATION,
        channel=channel,
        text=_cut(card_text(card), 3000),
        blocks=card_blocks(card),
    )


async def upload_files(calls: SlackCalls, team: str, channel: str, files: Sequence[ResultsFile], comment: str) -> None:
    """Upload ``files`` and share them in ``channel`` with ``comment`` (one message)."""
    if not files:
        return
    uploads = [{"content": f.content, "filename": f.filename, "title": f.title} for f in files]
    await calls.call(
        "files.completeUploadExternal",
        calls.client.files_upload_v2,
        team=team,
        conversation=RESULTS_CONVERSATION,
        file_uploads=uploads,
        channel=channel,
        initial_comment=comment,
    )
