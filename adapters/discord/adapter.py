"""The Discord adapter: interviewer replies streamed into DM messages, questions as components, notices.

Sending goes through a ``discord.Client``'s REST side only (partial channels and messages by id), so it
works for messages written before a restart and does not depend on the gateway cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import discord

from adapters.discord import cards, components
from adapters.discord.handoff import DirectOpening
from adapters.discord.results_channel import ResultsPosting
from adapters.discord.text import PLACEHOLDER, split_message, visible, with_note, without_blank_parts
from adapters.discord.writes import WriteBudget as WriteBudget  # re-exported for the cog
from bot.core import (
    AdapterState,
    ConversationKey,
    Notice,
    NoticeKind,
    PendingQuestion,
    RespondentUnreachable,
    ResultsFile,
    catalogue,
)

log = logging.getLogger(__name__)
MISSING: Any = discord.utils.MISSING

PLATFORM = "discord"
#: Discord error codes meaning the member cannot be reached in DMs.
UNREACHABLE_CODES = frozenset({50007, 50278, 10013, 10003, 50001})
#: "Maximum number of edits to messages older than 1 hour reached": that message cannot be edited for now.
TOO_MANY_OLD_EDITS = 30046
#: State scope of reply streams in progress (their message ids), to reuse them after a crash.
REPLY_SCOPE = "discord.reply"
#: A reply interrupted longer ago than this is not reused (it would sit far up the DM; Discord also limits
#: edits of messages older than an hour).
REUSE_WITHIN = 900.0
#: State scope of members a bot-initiated DM failed for.
UNREACHABLE_SCOPE = "discord.unreachable"
#: Attempts at a write that must land (a reply's final text) when Discord keeps failing.
FINAL_ATTEMPTS = 4
#: Failures of one write that a later write can set right: Discord errors and network blips (discord.py
#: raises aiohttp's errors as they are when a connection drops).
TRANSIENT = (discord.HTTPException, aiohttp.ClientError, OSError)
#: Stands in ``DiscordReplyStream.shown`` for a message that must be rewritten (e.g. it was deleted).
_UNKNOWN = "\0"

_NOTICE_PREFIX = {
    NoticeKind.REJECTED: "⚠️ ",
    NoticeKind.ERROR: "⚠️ ",
    NoticeKind.NUDGE: "👋 ",
    NoticeKind.ENDED: "✅ ",
}


def dm_key(channel_id: int | str, user_id: int | str) -> ConversationKey:
    """The conversation key of a member's DM with the bot."""
    return ConversationKey(PLATFORM, "", str(channel_id), str(user_id))


def is_unreachable(error: BaseException) -> bool:
    """True when Discord says the member cannot be messaged (DMs closed, bot blocked, unknown user)."""
    return isinstance(error, discord.HTTPException) and error.code in UNREACHABLE_CODES


class DiscordAdapter(DirectOpening, ResultsPosting):
    """Renders the core's replies, questions and notices in Discord DMs (implements ``bot.core.ports.Adapter``)."""

    platform = PLATFORM

    def __init__(
        self,
        client: discord.Client,
        *,
        edit_interval: float = 1.0,
        budget: WriteBudget | None = None,
        state: Callable[[str], AdapterState] | None = None,
    ) -> None:
        """``budget``: every write into a DM, shared by all conversations (default: Discord's limits, edits of a
        reply ``edit_interval`` s apart); ``state``: the bridge's ``adapter_state`` (kept across restarts)."""
        self.client = client
        self.budget = budget or WriteBudget(interval=edit_interval)
        self.update_interval = 0.0  # the relay hands every chunk over at once: the budget's interval throttles
        self.replies: AdapterState | None = state(REPLY_SCOPE) if state is not None else None
        self.unreachable_members: AdapterState | None = state(UNREACHABLE_SCOPE) if state is not None else None
        self._streams: set[DiscordReplyStream] = set()

    # --- low-level writes (errors mapped to RespondentUnreachable) ---

    def channel(self, key: ConversationKey) -> discord.PartialMessageable:
        """The DM channel of a conversation, by id."""
        return self.client.get_partial_messageable(int(key.channel), type=discord.ChannelType.private)

    async def _unreachable(self, key: ConversationKey, error: discord.HTTPException) -> RespondentUnreachable:
        log.info("discord: member unreachable", extra={"code": error.code})  # no ids: anonymous studies too
        if self.unreachable_members is not None:
            await self.unreachable_members.put(key.user, {"code": error.code, "at": time.time()})
        if self.replies is not None:
            await self.replies.put(key.as_str(), None)  # nothing to resume into later
        return RespondentUnreachable(f"discord error {error.code}")

    async def send(self, key: ConversationKey, content: str, view: discord.ui.View | None = None) -> int:
        """Post a message into the conversation (after its turn in the shared budget); returns its id."""
        channel = self.channel(key)
        try:
            async with self.budget.write(key.channel):
                coro = channel.send(content=content) if view is None else channel.send(content=content, view=view)
                message = await asyncio.shield(coro)  # see _stop_flusher: never abandon a request midway
        except discord.HTTPException as error:
            if is_unreachable(error):
                raise await self._unreachable(key, error) from None
            raise
        return message.id

    async def send_file_privately(self, key: ConversationKey, file: ResultsFile, text: str) -> None:
        """A file in the person's DM with the bot."""
        async with self.budget.write(key.channel):
            await self.channel(key).send(content=text, files=cards.discord_files([file]))

    async def edit(
        self, key: ConversationKey, message_id: int, content: str | None = None, view: Any = MISSING
    ) -> None:
        """Edit a message of the conversation (``view=None`` removes its components)."""
        message = self.channel(key).get_partial_message(message_id)
        kwargs: dict[str, Any] = {"view": view}
        if content is not None:
            kwargs["content"] = content
        try:
            async with self.budget.write(key.channel):
                await asyncio.shield(message.edit(**kwargs))
        except discord.HTTPException as error:
            if is_unreachable(error):
                raise await self._unreachable(key, error) from None
            raise

    async def typing(self, key: ConversationKey) -> None:
        """Show "typing…" (best effort: it is cosmetic, left out while the instances' global window is full)."""
        if not await self.budget.outside_queue():
            return
        self.budget.note_write()
        try:
            await self.client.http.send_typing(int(key.channel))
        except discord.HTTPException as error:
            log.debug("discord: typing failed", extra={"code": error.code})

    def message_deleted(self, message_id: int) -> None:
        """A message was deleted (MESSAGE_DELETE): a reply still showing in it posts that part again."""
        for stream in self._streams:
            stream.message_deleted(message_id)

    async def close(self) -> None:
        """Stop every reply's background edits (the extension is unloaded); nothing is left running."""
        streams, self._streams = list(self._streams), set()
        for stream in streams:
            await stream.close()
        self.budget.close()

    # --- the Adapter protocol ---

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> DiscordReplyStream:
        """Post the placeholder at once (reusing one left by a crash mid-reply) and show typing."""
        leftover: list[int] = []
        if self.replies is not None:
            state = await self.replies.get(key.as_str()) or {}
            if time.time() - float(state.get("at", 0.0)) < REUSE_WITHIN:
                leftover = [int(m) for m in state.get("messages", [])]
        stream = DiscordReplyStream(self, key, locale)
        self._streams.add(stream)
        if leftover:
            try:
                await self.edit(key, leftover[0], PLACEHOLDER, view=None)
                stream.messages = leftover
                stream.shown = [PLACEHOLDER] + [""] * (len(leftover) - 1)
            except RespondentUnreachable:
                raise
            except discord.HTTPException:
                leftover = []
        if not leftover:
            stream.messages = [await self.send(key, PLACEHOLDER)]
            stream.shown = [PLACEHOLDER]
            await stream.remember()
        await self.typing(key)
        return stream

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        """Post a question with its components (e.g. restored after a restart)."""
        tr = catalogue(pending.locale)
        view = components.question_view(tr, pending.interview_id, pending.question)
        text = f"**{pending.question.text}**" if pending.question.text else tr.gettext("Your answer:")
        for chunk in split_message(text)[:-1]:
            await self.send(key, chunk)
        await self.send(key, visible(split_message(text)[-1]), view)

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        """Post a notice of the bot itself, with its action buttons."""
        text = _NOTICE_PREFIX.get(notice.kind, "") + notice.text
        chunks = split_message(text)
        for chunk in chunks[:-1]:
            await self.send(key, chunk)
        await self.send(key, visible(chunks[-1]), components.notice_view(notice))


class DiscordReplyStream:
    """One interviewer reply: a placeholder that grows by edits, continued in new messages past 2000 chars."""

    def __init__(self, adapter: DiscordAdapter, key: ConversationKey, locale: str | None = None) -> None:
        """Made by :meth:`DiscordAdapter.begin_reply`; ``locale`` words its buttons."""
        self.adapter = adapter
        self.key = key
        self.tr = catalogue(locale)
        self.messages: list[int] = []
        self.shown: list[str] = []
        self.text = ""
        self._status: str | None = None
        self._dirty = False
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self._waiting_for_budget = False

    async def remember(self) -> None:
        """Store the message ids so a reply interrupted by a crash is reused, not left as a stray "…"."""
        if self.adapter.replies is not None:
            await self.adapter.replies.put(self.key.as_str(), {"messages": self.messages, "at": time.time()})

    async def status(self, text: str) -> None:
        """Show a status (queued, waiting) until the first text arrives."""
        self._status = text
        if not self.text:
            self._kick()

    async def append(self, text: str) -> None:
        """Add text; the message is edited at the next turn of the shared edit budget."""
        self.text += text
        self._kick()

    def _kick(self) -> None:
        self._dirty = True
        if not self._closed and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush_loop(), name=f"discord-reply-{self.key.channel}")

    async def _flush_loop(self) -> None:
        while self._dirty and not self._closed:
            self._dirty = False
            self._waiting_for_budget = True
            try:
                async with self.adapter.budget.edit_turn(self.key.channel):
                    self._waiting_for_budget = False
                    if self._closed:
                        return
                    await self._render(self._draft())  # the newest text: chunks coalesced while waiting
            except RespondentUnreachable:
                self._closed = True
            except TRANSIENT as error:  # the final render will set things right
                log.warning("discord: edit failed mid-reply", extra={"error": _describe(error)})

    def _draft(self) -> list[str]:
        if not self.text and self._status:
            return [f"*{self._status}*"]
        return without_blank_parts(split_message(self.text)) if self.text else [PLACEHOLDER]

    def message_deleted(self, message_id: int) -> None:
        """One of this reply's messages is gone: the next render posts its part again (in order)."""
        if message_id in self.messages:
            self.shown[self.messages.index(message_id)] = _UNKNOWN
            self._dirty = True

    async def _render(self, chunks: list[str], last_view: Any = MISSING) -> None:
        """Make the messages show ``chunks`` (editing changed ones, posting new ones, deleting extra ones).

        A message that is gone (404 / 10008: deleted by someone else) is posted again, and so is every part
        after it, so the reply still reads in order with no character lost or doubled.
        """
        i = 0
        while i < len(chunks):
            content = visible(chunks[i])
            view = last_view if i == len(chunks) - 1 else MISSING
            if i < len(self.messages):
                if self.shown[i] != content or view is not MISSING:
                    try:
                        await self.adapter.edit(self.key, self.messages[i], content, view=view)
                    except discord.NotFound:
                        log.info("discord: a reply message was deleted; posting that part again")
                        await self._drop_from(i)
                        continue
                    except discord.HTTPException as error:
                        if error.code != TOO_MANY_OLD_EDITS:
                            raise
                        # a reply resumed long after it began (its message is over an hour old): Discord takes
                        # no more edits of it, so that part and the ones after it go out as new messages
                        log.info("discord: a reply message is too old to edit; posting that part again")
                        await self._drop_from(i)
                        continue
                    self.shown[i] = content
            else:
                self.messages.append(await self.adapter.send(self.key, content, None if view is MISSING else view))
                self.shown.append(content)
                await self.remember()
            i += 1
        await self._drop_from(len(chunks))

    async def _drop_from(self, index: int) -> None:
        """Delete this reply's messages from ``index`` on (best effort) and forget them."""
        for message_id in self.messages[index:]:
            try:
                async with self.adapter.budget.write(self.key.channel):
                    await self.adapter.channel(self.key).get_partial_message(message_id).delete()
            except TRANSIENT:
                log.debug("discord: reply message not deleted")
        del self.messages[index:], self.shown[index:]

    async def _stop_flusher(self) -> None:
        """Stop the edit loop: cancel it while it waits for the budget, else let its request finish.

        A request is never cancelled midway: discord.py would keep its global rate-limit lock closed.
        """
        self._closed = True
        task, self._flusher = self._flusher, None
        if task is None or task.done():
            return
        if self._waiting_for_budget:
            task.cancel()
        current = asyncio.current_task()
        before = current.cancelling() if current is not None else 0  # a stop note may be written while cancelled
        try:
            await task
        except asyncio.CancelledError:
            if current is not None and current.cancelling() > before:  # cancelled ourselves meanwhile
                raise
        except Exception:  # the final render sets things right; the flusher's failure is not the reply's
            log.exception("discord: reply edit loop failed")

    async def close(self) -> None:
        """Stop the background edits for good (the adapter is closing); the reply is not finished."""
        self.adapter._streams.discard(self)
        await self._stop_flusher()

    async def _land(self, chunks: list[str], last_view: Any) -> None:
        """Write the final state, retrying transient failures: the final text always lands."""
        await self._stop_flusher()
        self.adapter._streams.discard(self)
        chunks = without_blank_parts(chunks)
        for attempt in range(FINAL_ATTEMPTS):
            try:
                async with self.adapter.budget.edit_turn(self.key.channel):
                    await self._render(chunks, last_view)
                break
            except TRANSIENT as error:
                status = getattr(error, "status", 0)
                if attempt == FINAL_ATTEMPTS - 1 or (400 <= status < 500 and status != 429):
                    raise
                log.warning("discord: final edit failed, retrying", extra={"error": _describe(error)})
                await asyncio.sleep(0.5 * 2**attempt)
        if self.adapter.replies is not None:
            await self.adapter.replies.put(self.key.as_str(), None)

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        """Show exactly ``text`` (split at 2000) with the question's components, or "End interview"."""
        self.text = text
        view: discord.ui.View | None = components.reply_view(self.tr)
        separate = None
        if question is not None:
            qview = components.question_view(catalogue(question.locale), question.interview_id, question.question)
            if qview is not None and question.question.text.strip() in text:
                view = qview
            elif qview is not None:
                separate, view = question, None
        await self._land(split_message(text) if text else [PLACEHOLDER], view)
        if separate is not None:
            await self.adapter.show_question(self.key, separate)

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        """End the message with a short note and the notice's buttons (Retry / End)."""
        view = (
            components.actions_view(catalogue(notice.locale), notice.actions, notice.study) if notice.actions else None
        )
        await self._land(with_note(text_so_far, notice.text), view)


def _describe(error: BaseException) -> str:
    """A short, secret-free description of a failed write for logs (status and Discord code, or the type)."""
    if isinstance(error, discord.HTTPException):
        return f"{error.status}/{error.code}"
    return type(error).__name__
