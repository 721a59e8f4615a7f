"""chat.* Web API methods, including the streaming trio chat.startStream / appendStream / stopStream."""

from __future__ import annotations

import time
from typing import Any

from .blocks import BlockError, parse_blocks, validate_blocks
from .core import FakeSlackBase
from .state import JSON, FakeMessage, Workspace
from .web_api import ApiError, method

TEXT_LIMIT = 40_000
STREAM_TEXT_LIMIT = 12_000


def require(args: JSON, key: str) -> str:
    """A required string argument, or `invalid_arguments` as Slack answers a missing one."""
    value = args.get(key)
    if value is None or value == "":
        raise ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {key}"]})
    return str(value)


def resolve_channel(fake: FakeSlackBase, ws: Workspace, channel: str) -> str:
    """A known channel id; a user id names the DM with that user (Slack opens it)."""
    if channel in ws.users:
        return fake.dm_channel_of(channel, ws.team_id)
    if channel not in ws.messages:
        raise ApiError("channel_not_found")
    return channel


def checked_blocks(args: JSON, *, in_view: bool = False, streaming: bool = False) -> list[dict[str, Any]] | None:
    """The `blocks` argument, validated like Slack does (the streaming methods answer `msg_blocks_too_many`)."""
    try:
        blocks = parse_blocks(args.get("blocks"))
        if blocks is not None:
            validate_blocks(blocks, in_view=in_view, too_many="msg_blocks_too_many" if streaming else None)
    except BlockError as exc:
        raise ApiError(
            exc.code, errors=[exc.detail], response_metadata={"messages": [f"[ERROR] {exc.detail}"]}
        ) from exc
    return blocks


def _bot_message(fake: FakeSlackBase, ws: Workspace, channel: str, ts: str) -> FakeMessage:
    msg = ws.find_message(channel, ts)
    if msg is None:
        raise ApiError("message_not_found")
    if msg.bot_id is None:
        raise ApiError("cant_update_message")
    return msg


def message_content(args: JSON) -> tuple[str, list[dict[str, Any]] | None, bool]:
    """(text, blocks, markdown) of chat.postMessage / chat.update: `markdown_text` (standard Markdown) or text/blocks.

    Slack refuses `markdown_text` together with `text` or `blocks` (`markdown_text_conflict`) and limits it to
    12,000 characters.
    """
    markdown = args.get("markdown_text")
    if markdown is not None and markdown != "":
        if args.get("text") or args.get("blocks"):
            raise ApiError("markdown_text_conflict")
        if len(str(markdown)) > STREAM_TEXT_LIMIT:
            raise ApiError("msg_too_long")
        return str(markdown), None, True
    blocks = checked_blocks(args)
    text = str(args.get("text") or "")
    if len(text) > TEXT_LIMIT:
        raise ApiError("msg_too_long")
    return text, blocks, False


def _clear_status(ws: Workspace, channel: str, thread_ts: str | None) -> None:
    """Slack clears a thread's "is thinking…" status when the app replies in it."""
    history = ws.thread_status.get((channel, thread_ts or ""))
    if history and history[-1]:
        history.append("")


@method("chat.postMessage")
def post_message(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Post a message (top level or in a thread)."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    text, blocks, markdown = message_content(args)
    if not text and not blocks:
        raise ApiError("no_text")
    thread_ts = args.get("thread_ts") or None
    msg = FakeMessage(
        channel=channel,
        ts=fake.ids.next_ts(),
        text=text,
        blocks=blocks,
        user=fake.bot_user_id,
        bot_id=fake.bot_id,
        thread_ts=str(thread_ts) if thread_ts else None,
        metadata=args.get("metadata") if isinstance(args.get("metadata"), dict) else None,
        markdown=markdown,
    )
    ws.messages[channel].append(msg)
    _clear_status(ws, channel, msg.thread_ts)
    fake.on_bot_message(msg, ws.team_id)
    return {"channel": channel, "ts": msg.ts, "message": msg.to_api(ws.team_id, fake.app_id)}


@method("chat.update")
def update(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Edit a message the app sent; omitted blocks are kept, `[]` removes them; `markdown_text` replaces both.

    A message still streaming answers `streaming_state_conflict` ("The message is currently streaming text and
    cannot be edited"), as Slack documents for chat.update.
    """
    channel = resolve_channel(fake, ws, require(args, "channel"))
    msg = _bot_message(fake, ws, channel, require(args, "ts"))
    text, blocks, markdown = message_content(args)
    if not markdown and "text" not in args and blocks is None:
        raise ApiError("no_text")
    fake.refresh_stream(msg)
    if msg.streaming == "streaming":
        raise ApiError("streaming_state_conflict")
    msg.versions.append((msg.text, msg.blocks))
    msg.text = text if markdown or "text" in args else msg.text
    msg.markdown = markdown
    if markdown:
        msg.blocks = None
    elif "blocks" in args:
        msg.blocks = blocks or None
    if isinstance(args.get("metadata"), dict):
        msg.metadata = args["metadata"]
    msg.update_count += 1
    return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.to_api(ws.team_id, fake.app_id)}


@method("chat.delete")
def delete(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Delete a message the app sent."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    ts = require(args, "ts")
    msg = ws.find_message(channel, ts)
    if msg is None:
        raise ApiError("message_not_found")
    if msg.bot_id is None:
        raise ApiError("cant_delete_message")
    ws.messages[channel].remove(msg)
    return {"channel": channel, "ts": ts}


@method("chat.postEphemeral")
def post_ephemeral(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Show a message to one user only; kept in `fake.ephemerals(user)`."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    user = require(args, "user")
    if user not in ws.users:
        raise ApiError("user_not_found")
    dm_user = ws.user_of_dm(channel)
    if dm_user is not None and dm_user != user:
        raise ApiError("user_not_in_channel")
    blocks = checked_blocks(args)
    text = str(args.get("text") or "")
    if not text and not blocks:
        raise ApiError("no_text")
    ts = fake.ids.next_ts()
    ws.ephemerals.setdefault(user, []).append(
        {"channel": channel, "ts": ts, "text": text, "blocks": blocks, "thread_ts": args.get("thread_ts")}
    )
    return {"message_ts": ts}


def _chunk_text(args: JSON) -> tuple[str, list[JSON]]:
    """Text to append from `markdown_text` and `markdown_text` chunks; all chunks for the record."""
    text = str(args.get("markdown_text") or "")
    chunks = args.get("chunks") or []
    if not isinstance(chunks, list):
        raise ApiError("invalid_arguments")
    for chunk in chunks:
        if not isinstance(chunk, dict) or "type" not in chunk:
            raise ApiError("invalid_chunks")
        if chunk["type"] == "markdown_text":
            text += str(chunk.get("text") or "")
    if len(text) > STREAM_TEXT_LIMIT:
        raise ApiError("msg_too_long")
    return text, chunks


def _stream_channel(fake: FakeSlackBase, ws: Workspace, args: JSON) -> str:
    """The channel of a streaming call; `channel_type_not_supported` where Slack does not stream (a knob)."""
    channel = resolve_channel(fake, ws, require(args, "channel"))
    if channel in fake.unstreamable_channels:
        raise ApiError("channel_type_not_supported")
    return channel


def _live_stream(fake: FakeSlackBase, ws: Workspace, args: JSON) -> FakeMessage:
    channel = _stream_channel(fake, ws, args)
    msg = _bot_message(fake, ws, channel, require(args, "ts"))
    fake.refresh_stream(msg)
    if msg.streaming != "streaming":
        raise ApiError("message_not_in_streaming_state")
    return msg


@method("chat.startStream")
def start_stream(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Start a streamed reply in a thread; outside DMs it needs recipient_user_id / recipient_team_id."""
    channel = _stream_channel(fake, ws, args)
    thread_ts = require(args, "thread_ts")
    if ws.user_of_dm(channel) is None:
        if not args.get("recipient_user_id"):
            raise ApiError("missing_recipient_user_id")
        if not args.get("recipient_team_id"):
            raise ApiError("missing_recipient_team_id")
    text, chunks = _chunk_text(args)
    msg = FakeMessage(
        channel=channel,
        ts=fake.ids.next_ts(),
        text=text,
        blocks=None,
        user=fake.bot_user_id,
        bot_id=fake.bot_id,
        thread_ts=thread_ts,
        streaming="streaming",
        stream_started=time.monotonic(),
        chunks=list(chunks) or ([{"type": "markdown_text", "text": text}] if text else []),
        markdown=True,
    )
    ws.messages[channel].append(msg)
    _clear_status(ws, channel, thread_ts)
    fake.on_bot_message(msg, ws.team_id)
    return {"channel": channel, "ts": msg.ts}


@method("chat.appendStream")
def append_stream(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Append markdown to a live stream; `message_not_in_streaming_state` once stopped or expired."""
    msg = _live_stream(fake, ws, args)
    text, chunks = _chunk_text(args)
    if not text and not chunks:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing markdown_text"]})
    msg.text += text
    msg.chunks.extend(chunks or [{"type": "markdown_text", "text": text}])
    msg.appends += 1
    if fake.stream_append_limit is not None and msg.appends >= fake.stream_append_limit:
        msg.streaming, msg.stream_expired = "expired", True  # the next append / stop finds it expired
    return {"channel": msg.channel, "ts": msg.ts}


@method("chat.stopStream")
def stop_stream(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    """Finish a stream, optionally with final text, blocks under it and metadata."""
    msg = _live_stream(fake, ws, args)
    text, chunks = _chunk_text(args)
    blocks = checked_blocks(args, streaming=True)
    msg.text += text
    msg.chunks.extend(chunks or ([{"type": "markdown_text", "text": text}] if text else []))
    if blocks is not None:
        msg.blocks = blocks
    if isinstance(args.get("metadata"), dict):
        msg.metadata = args["metadata"]
    msg.streaming = "stopped"
    return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api(ws.team_id, fake.app_id)}
