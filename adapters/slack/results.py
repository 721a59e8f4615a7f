"""Results in Slack: a card as Block Kit, charts and exports uploaded as Slack documents it since
``files.upload`` was retired — ``files.getUploadURLExternal``, the upload, ``files.completeUploadExternal``
(slack_sdk's ``files_upload_v2`` does the three steps)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import escape
from adapters.slack.calls import SlackCalls, error_code
from bot.core import RespondentUnreachable, ResultsCard, ResultsFile

__all__ = ["card_blocks", "card_text", "delete_card", "post_card", "upload_files"]

log = logging.getLogger(__name__)

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


#: The client method of each Web API method called here (``files_upload_v2`` does the upload's three steps).
_METHODS = {
    "chat.postMessage": "chat_postMessage",
    "chat.delete": "chat_delete",
    "files.completeUploadExternal": "files_upload_v2",
}


async def _call(calls: SlackCalls, method: str, team: str, **kwargs: Any) -> Any:
    """``method`` within the budget, as one conversation apart from the respondents' (:data:`RESULTS_CONVERSATION`)."""
    fn = getattr(calls.client, _METHODS[method])
    return await calls.call(method, fn, team=team, conversation=RESULTS_CONVERSATION, **kwargs)


async def post_card(calls: SlackCalls, team: str, channel: str, card: ResultsCard) -> str | None:
    """Post ``card`` to ``channel``; returns its ``ts`` (the message's id in the channel)."""
    posted = await _call(
        calls,
        "chat.postMessage",
        team,
        channel=channel,
        text=_cut(card_text(card), 3000),
        blocks=card_blocks(card),
    )
    ts = posted.get("ts") if posted is not None else None
    return str(ts) if ts else None


async def delete_card(calls: SlackCalls, team: str, channel: str, ts: str) -> bool:
    """Delete a card the app posted (``chat.delete``); gone already: True; refused or failed: False."""
    try:
        await _call(calls, "chat.delete", team, channel=channel, ts=ts)
    except SlackApiError as error:
        code = error_code(error)
        if code == "message_not_found":
            return True  # someone deleted it before
        log.info("slack: a results card could not be deleted (%s)", code)
        return False
    except RespondentUnreachable as gone:  # the channel is gone, or the app is no longer in it
        log.info("slack: a results card could not be deleted (%s)", gone)
        return False
    return True


async def upload_files(calls: SlackCalls, team: str, channel: str, files: Sequence[ResultsFile], comment: str) -> None:
    """Upload ``files`` and share them in ``channel`` with ``comment`` (one message)."""
    if not files:
        return
    uploads = [{"content": f.content, "filename": f.filename, "title": f.title} for f in files]
    await _call(
        calls,
        "files.completeUploadExternal",
        team,
        file_uploads=uploads,
        channel=channel,
        initial_comment=comment,
    )
