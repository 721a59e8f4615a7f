"""One interviewer reply in a Slack thread: native streaming, with chat.update as the fallback.

How no character is lost:

* the reply keeps the whole text itself and how much of the current message Slack has confirmed
  (``_shown``); a call that fails changes neither;
* while streaming, each ``append`` sends what was not confirmed yet through ``chat.appendStream`` (the
  first one ``chat.startStream``); intermediate updates only use spare budget and are simply skipped
  otherwise — the next one (or the final one) carries the skipped text;
* without a stream, a reply's first text is posted early only if ``chat.update`` (workspace-wide Tier 3) has
  spare budget, since a posted message needs it to be finished; otherwise the thread shows the thinking status
  and the whole reply is posted at once (``chat.postMessage`` is limited per channel, not per workspace);
* when the stream is gone (expired after ~5 min: ``message_not_in_streaming_state``) or streaming is not
  available (``unknown_method``, ``channel_type_not_supported``, missing scope…) the reply switches to
  ``chat.update`` of the same message (``chat.postMessage`` if none exists yet) with the *whole* text of the
  message, so what the failed call carried is included;
* a stream the reply gives up while Slack may still hold it open (a failed stop, a rewritten reply) is
  stopped first, best effort: Slack refuses to edit a streaming message (``streaming_state_conflict``). If it
  still streams, the message keeps what Slack confirmed and the rest goes out as a new message;
* every path sends standard Markdown: ``markdown_text`` while streaming, the ``markdown`` block otherwise, so
  a reply looks the same whichever path it took;
* a message holds at most :data:`MESSAGE_LIMIT` characters: longer replies continue in a new message in
  the same thread, cut at a paragraph / line / word break.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream

from adapters.slack.blocks import Block, question_blocks
from adapters.slack.calls import (
    BLOCK_ERRORS,
    STREAM_ERRORS,
    STREAM_OVER_ERRORS,
    STREAMING_CONFLICT,
    UPDATE_GONE_ERRORS,
    error_code,
)
from adapters.slack.target import Target, blocks_fit, message_payload
from adapters.slack.text import MESSAGE_LIMIT, cut_point
from bot.core import Catalogue, Notice, PendingQuestion, RespondentUnreachable

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger("adapters.slack")


def thinking(tr: Catalogue) -> str:
    """The thread's status while the interviewer replies (Slack shows it after the app's name)."""
    return tr.gettext("is thinking…")


class SlackReply:
    """A :class:`bot.core.ports.ReplyStream` rendered in a Slack thread."""

    def __init__(self, adapter: SlackAdapter, target: Target, *, placeholder_ts: str | None = None) -> None:
        self._adapter = adapter
        self._calls = adapter.calls
        self._target = target
        self._text = ""
        self._start = 0  # where the current message begins in the text
        self._shown = 0  # characters of the current message Slack confirmed
        self._buffered = 0  # characters after those handed to the stream object but not confirmed (it keeps them)
        self._ts: str | None = placeholder_ts  # the current message
        self._stream: AsyncChatStream | None = None
        self._streaming = adapter.may_stream(target.conversation) and placeholder_ts is None
        self._closed: list[tuple[str, int, int]] = []  # earlier messages: (ts, start, end)
        self.messages: list[str] = []  # ts of every message of this reply, in order
        self._gone: RespondentUnreachable | None = None  # Slack said the respondent cannot be reached

    # --- the ReplyStream protocol ---

    async def status(self, text: str) -> None:
        """Show ``text`` as the thread's status (or in the placeholder when statuses are not available)."""
        if self._gone is not None:
            return
        try:
            if self._adapter.status_available and self._target.thread_ts:
                await self._adapter.set_status(self._target, text, required=False)
            elif self._ts and not self._text:
                await self._update(f"_{text}_", required=False)
                self._shown = 0
        except RespondentUnreachable as error:
            self._gone = error
        except SlackApiError as error:  # a transient status only: never break the turn for it
            log.info("slack status not shown (%s)", error_code(error))

    async def append(self, text: str) -> None:
        """Add ``text``; send what is not shown yet if the budget has room now.

        If Slack says the respondent is gone, nothing more is sent and ``finish`` / ``fail`` raise
        :class:`RespondentUnreachable` (where the core expects it).
        """
        self._text += text
        if self._gone is not None:
            return
        try:
            await self._close_full_messages()
            await self._sync(required=False)
        except RespondentUnreachable as error:
            self._gone = error
        except SlackApiError as error:  # the text is kept: the next update, or finish, shows it
            log.info("slack reply update failed (%s): carried by the next one", error_code(error))

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        """Show exactly ``text``, with ``question``'s blocks on the last message (or right after it)."""
        if self._gone is not None:
            raise RespondentUnreachable(str(self._gone))
        if not text.startswith(self._text[: self._start + self._shown]):
            await self._rewrite_closed(text)
        self._text = text
        await self._close_full_messages()
        blocks: list[Block] = []
        if question is not None:
            blocks = question_blocks(question, include_text=question.question.text.strip() not in text)
        attach = blocks if blocks and blocks_fit(blocks) else None
        segment = self._text[self._start :]
        attached = False
        if segment.strip() or self._ts or (self._stream is not None and self._stream.ts):
            attached = await self._close(segment, attach)
        if question is not None and blocks:
            if attached and self.messages:
                await self._adapter.remember_question(self._target, self.messages[-1], question, segment)
            else:
                await self._adapter.post_question(self._target, question)

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        """Keep what was shown (completed to ``text_so_far``), then post ``notice`` with its buttons."""
        if self._gone is not None:
            raise RespondentUnreachable(str(self._gone))
        if text_so_far.strip() or self._ts or self._stream is not None:
            await self.finish(text_so_far, None)
        await self._adapter.post_notice(self._target, notice)

    # --- internals ---

    def _scope(self, method: str) -> tuple[str, str, str]:
        """(workspace, method, conversation): where a call of ``method`` for this reply is budgeted."""
        return self._target.team, method, self._target.conversation

    async def _close_full_messages(self) -> None:
        while len(self._text) - self._start > MESSAGE_LIMIT:
            segment = self._text[self._start :]
            # a live stream cannot take text back: never cut before what it was handed already
            committed = self._shown + self._buffered if self._stream is not None else 0
            await self._close(segment[: cut_point(segment, MESSAGE_LIMIT, at_least=committed)], None)

    async def _open_stream(self) -> AsyncChatStream:
        if self._stream is None:
            self._stream = await self._calls.client.chat_stream(
                channel=self._target.channel,
                thread_ts=self._target.thread_ts or "",
                recipient_team_id=self._target.team or None,
                recipient_user_id=self._target.key.user,
                buffer_size=1,
            )
        return self._stream

    def _unsent(self, segment: str) -> str:
        """The part of ``segment`` not yet handed to the stream object, which it then holds until it flushes."""
        start = self._shown + self._buffered
        self._buffered = len(segment) - self._shown
        return segment[start:]

    async def _may_start_stream(self) -> bool:
        """True if a stream runs already, or the workspace's chat.startStream budget allows one now (in every
        instance's tier when several share the workspace: the call is booked there too).

        A reply never waits for the startStream tier: without room it is posted and updated instead.
        """
        if self._stream is not None and self._stream.ts:
            return True
        team, conversation = self._target.team, self._target.conversation
        if not self._calls.budget.try_now(team, "chat.startStream", conversation):
            return False
        return await self._calls.budget.shared_room(team, "chat.startStream", wait=False)

    def _adopt(self, ts: str) -> None:
        """``ts`` (a message Slack created for this reply) becomes the current message."""
        self._ts = ts
        if ts not in self.messages:
            self.messages.append(ts)

    async def _abandon_stream(self, code: str) -> None:
        """Continue without the stream: its message (if Slack made one) becomes the current message.

        A stream Slack may still hold open is stopped first (best effort), since Slack refuses to edit a message
        that is streaming; :meth:`_update` copes if it still is.
        """
        stream = self._stream
        if stream is not None and stream.ts:
            self._adopt(stream.ts)
            if code not in STREAM_OVER_ERRORS:
                await self._stop_quietly(stream.ts)
        if stream is not None and stream.ts is None and code in STREAM_ERRORS:
            self._adapter.streaming_unavailable(code, self._target.conversation)
        self._stream = None
        self._buffered = 0
        self._streaming = False

    async def _stop_quietly(self, ts: str) -> None:
        """chat.stopStream without more text (what Slack confirmed stays; the rest follows by chat.update)."""
        try:
            await self._calls.call(
                "chat.stopStream",
                self._calls.client.chat_stopStream,
                team=self._target.team,
                conversation=self._target.conversation,
                channel=self._target.channel,
                ts=ts,
            )
        except SlackApiError as error:
            log.info("slack stream not stopped (%s): the rest may go out as a new message", error_code(error))

    async def _sync(self, *, required: bool) -> None:
        """Bring the current message up to the text (an optional update may be skipped)."""
        segment = self._text[self._start :]
        if len(segment) == self._shown:
            return
        if self._streaming and self._target.thread_ts and not await self._may_start_stream():
            self._streaming = False  # the workspace's chat.startStream tier is spent: post and update
        if self._streaming and self._target.thread_ts:
            stream = await self._open_stream()
            starting = stream.ts is None
            method = "chat.startStream" if starting else "chat.appendStream"

            async def flush() -> Any:  # the text is taken only if the budget lets the call happen
                return await stream.append(markdown_text=self._unsent(segment))

            try:
                sent = await self._calls.call(
                    method,
                    flush,
                    team=self._target.team,
                    conversation=self._target.conversation,
                    required=required,
                    budgeted=not starting,
                )
            except SlackApiError as error:
                code = error_code(error)
                if code not in STREAM_ERRORS and not required:
                    return  # e.g. still rate limited: the stream object keeps the text for its next flush
                log.info("slack stream fallback to chat.update (%s)", code)
                await self._abandon_stream(code)
                await self._update(self._text[self._start :], required=True)
                return
            if sent is not None:
                self._shown, self._buffered = len(segment), 0
                if self._ts is None and stream.ts:
                    self._adopt(stream.ts)
            return
        if self._ts is None and not required and not await self._calls.spare(*self._scope("chat.update")):
            return  # a posted message needs chat.update to finish, and that tier is busy: post it whole at the end
        try:
            await self._update(segment, required=required)
        except SlackApiError:
            if required:
                raise

    async def _update(self, text: str, *, required: bool, blocks: list[Block] | None = None) -> bool:
        """chat.update the current message to ``text`` (chat.postMessage if none). False if skipped."""
        payload = message_payload(text, blocks)
        if self._ts is not None:
            try:
                done = await self._calls.call(
                    "chat.update",
                    self._calls.client.chat_update,
                    team=self._target.team,
                    conversation=self._target.conversation,
                    required=required,
                    channel=self._target.channel,
                    ts=self._ts,
                    **payload,
                )
            except SlackApiError as error:
                code = error_code(error)
                if code == STREAMING_CONFLICT:
                    return await self._continue_after_stuck_stream(text, blocks)
                if code not in UPDATE_GONE_ERRORS:
                    raise
                self._ts = None  # the message is gone: post a new one with the whole text
                return await self._update(text, required=True, blocks=blocks)
            if done is None:
                return False
        else:
            response = await self._calls.call(
                "chat.postMessage",
                self._calls.client.chat_postMessage,
                team=self._target.team,
                conversation=self._target.conversation,
                required=True,
                channel=self._target.channel,
                thread_ts=self._target.thread_ts,
                **payload,
            )
            self._adopt(str(response["ts"]))
        self._shown = len(text)
        return True

    async def _continue_after_stuck_stream(self, text: str, blocks: list[Block] | None) -> bool:
        """The current message still streams and cannot be edited: it keeps what Slack confirmed of ``text``
        (the current message's text), the rest goes out as a new message. Not a character is lost."""
        assert self._ts is not None
        kept = max(0, min(self._shown, len(text)))
        log.info("slack message still streaming: the rest of the reply goes out as a new message")
        self._closed.append((self._ts, self._start, self._start + kept))
        self._start += kept
        self._ts = None
        self._shown = 0
        return await self._update(text[kept:], required=True, blocks=blocks)

    async def _close(self, segment: str, blocks: list[Block] | None) -> bool:
        """Finish the current message with exactly ``segment`` (+ ``blocks``). True if the blocks rode on it."""
        attached = bool(blocks)
        end = self._start + len(segment)  # where the next message begins (a stuck stream may move _start)
        if self._streaming and self._target.thread_ts and not await self._may_start_stream():
            self._streaming = False
        if self._streaming and self._target.thread_ts:
            stream = await self._open_stream()

            async def stop() -> Any:
                return await stream.stop(markdown_text=self._unsent(segment) or None, blocks=blocks or None)

            try:
                await self._calls.call(
                    "chat.stopStream", stop, team=self._target.team, conversation=self._target.conversation
                )
            except SlackApiError as error:
                code = error_code(error)
                if code in BLOCK_ERRORS and blocks and stream.ts:
                    # the text is in the stream's buffer still: stop without the blocks, post them apart
                    await self._calls.call(
                        "chat.stopStream", stream.stop, team=self._target.team, conversation=self._target.conversation
                    )
                    attached = False
                else:
                    log.info("slack stream stop fell back to chat.update (%s)", code)
                    await self._abandon_stream(code)
                    attached = await self._close_by_update(self._text[self._start : end], blocks)
            if self._ts is None and stream.ts:
                self._adopt(stream.ts)
        else:
            attached = await self._close_by_update(segment, blocks)
        assert self._ts is not None
        self._closed.append((self._ts, self._start, end))
        self._start = end
        self._shown = self._buffered = 0
        self._ts = None
        self._stream = None
        self._streaming = self._adapter.may_stream(self._target.conversation)
        return attached

    async def _close_by_update(self, segment: str, blocks: list[Block] | None) -> bool:
        if blocks:
            try:
                await self._update(segment, required=True, blocks=blocks)
                return True
            except SlackApiError as error:
                if error_code(error) not in BLOCK_ERRORS:
                    raise
        await self._update(segment, required=True)
        return False

    async def _rewrite_closed(self, text: str) -> None:
        """The final text differs from what was streamed (a recovered reply): correct the messages."""
        log.info("slack reply text replaced: rewriting %d message(s)", len(self._closed) + 1)
        for ts, start, end in self._closed:
            if text[start:end] != self._text[start:end]:
                part = text[start:end] or "…"
                await self._calls.call(
                    "chat.update",
                    self._calls.client.chat_update,
                    team=self._target.team,
                    conversation=self._target.conversation,
                    channel=self._target.channel,
                    ts=ts,
                    **message_payload(part, None),
                )
        if self._stream is not None:
            await self._abandon_stream("replaced")
        self._streaming = False
        self._shown = -1  # force the current message to be rewritten in full
        if self._start > len(text):
            self._start = len(text)
