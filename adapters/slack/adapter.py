"""The Slack adapter: interviews in the respondent's DM with the app, one thread per interview.

Conversation key: ``ConversationKey("slack", team_id, dm_channel_id, user_id)``. The interview's thread
(``thread_ts``) is adapter state the bridge keeps (scope ``slack-thread``), so it survives restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import results
from adapters.slack.blocks import (
    Block,
    QuestionRef,
    answer_summary,
    answered_blocks,
    markdown_blocks,
    question_blocks,
    question_fallback_text,
    replace_question,
)
from adapters.slack.budget import SlackBudget
from adapters.slack.calls import (
    BLOCK_ERRORS,
    NO_STREAMING_ERRORS,
    NO_STREAMING_HERE_ERRORS,
    SlackCalls,
    error_code,
)
from adapters.slack.handoff import DirectOpening
from adapters.slack.notices import notice_blocks
from adapters.slack.reply import SlackReply, thinking
from adapters.slack.target import Target, blocks_fit
from adapters.slack.wording import anchor_text
from bot.api.models import AnswerValue, Question
from bot.core import (
    AdapterState,
    Catalogue,
    ConversationKey,
    Notice,
    PendingQuestion,
    ResultsCard,
    ResultsFile,
    catalogue,
)

log = logging.getLogger("adapters.slack")

PLATFORM = "slack"
THREAD_SCOPE = "slack-thread"
QUESTION_SCOPE = "slack-question"


def conversation_key(team_id: str, channel_id: str, user_id: str) -> ConversationKey:
    """The key of a respondent's DM conversation with the app."""
    return ConversationKey(PLATFORM, team_id, channel_id, user_id)


class SlackAdapter(DirectOpening):
    """Implements :class:`bot.core.ports.Adapter` for Slack (see the module docstring)."""

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        state: Callable[[str], AdapterState],
        *,
        budget: SlackBudget | None = None,
        update_interval: float = 1.0,
    ) -> None:
        """``state``: the bridge's ``adapter_state`` (thread and question anchors kept across restarts)."""
        self.calls = SlackCalls(client, budget or SlackBudget())
        self.threads = state(THREAD_SCOPE)  # the interview thread of each conversation
        self.questions = state(QUESTION_SCOPE)  # where each question's blocks were posted
        self.update_interval = update_interval
        self.streaming_available = True  # False: the workspace refuses chat.startStream (see NO_STREAMING_ERRORS)
        self.status_available = True
        self._unstreamable: set[str] = set()  # conversations Slack does not stream into (channel_type_not_supported)

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client."""
        return self.calls.client

    # --- thread state ---

    async def thread_of(self, key: ConversationKey) -> str | None:
        """The ts of the thread the conversation's interview lives in, if one is set."""
        state = await self.threads.get(key.as_str())
        return str(state["thread_ts"]) if state and state.get("thread_ts") else None

    async def set_thread(self, key: ConversationKey, thread_ts: str | None) -> None:
        """Set (None: clear, so the next reply opens a new thread) the conversation's interview thread.

        The consent text (a notice with I agree / No thanks) comes from the core before an interview starts.
        """
        state = {"thread_ts": thread_ts} if thread_ts else None
        await self.threads.put(key.as_str(), state)

    async def target(self, key: ConversationKey, *, open_thread: bool = True, locale: str | None = None) -> Target:
        """Where to post for ``key``; with ``open_thread`` a thread anchor is posted when there is none.

        ``locale`` is the interview's: the anchor is worded in it.
        """
        thread_ts = await self.thread_of(key)
        if thread_ts is None and open_thread:
            tr = catalogue(locale)
            response = await self.calls.call(
                "chat.postMessage",
                self.client.chat_postMessage,
                team=key.workspace,
                conversation=key.as_str(),
                channel=key.channel,
                text=anchor_text(tr),
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": anchor_text(tr)}}],
            )
            thread_ts = str(response["ts"])
            await self.set_thread(key, thread_ts)
        return Target(key, key.channel, thread_ts)

    # --- the Adapter protocol ---

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> SlackReply:
        """Show the thinking status in the interview's thread at once (a placeholder if statuses fail)."""
        tr = catalogue(locale)
        target = await self.target(key, locale=locale)
        loading = [
            thinking(tr),
            tr.gettext("is reading your answer…"),
            tr.gettext("is preparing the next question…"),
        ]
        if self.status_available and await self.set_status(
            target, loading[0], required=True, wait=False, loading_messages=loading
        ):
            return SlackReply(self, target)
        # statuses unavailable, or the workspace's setStatus tier is busy: a placeholder message (never wait)
        response = await self.calls.call(
            "chat.postMessage",
            self.client.chat_postMessage,
            team=target.team,
            conversation=target.conversation,
            channel=target.channel,
            thread_ts=target.thread_ts,
            text="_…_",
        )
        reply = SlackReply(self, target, placeholder_ts=str(response["ts"]))
        reply.messages.append(str(response["ts"]))
        return reply

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        """Post ``pending`` on its own in the interview's thread."""
        await self.post_question(await self.target(key, locale=pending.locale), pending)

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        """Post ``notice`` in the interview's thread (top level when the DM has no interview thread)."""
        await self.post_notice(await self.target(key, open_thread=False), notice)

    # --- used by replies and listeners ---

    async def set_status(
        self,
        target: Target,
        text: str,
        *,
        required: bool,
        wait: bool = True,
        loading_messages: list[str] | None = None,
    ) -> bool:
        """Set the thread's status ("is thinking…"); False if not shown (unavailable here, or no budget now).

        ``loading_messages`` (at most 10) rotate in the thread while the status shows. Slack limits the method
        per DM, so the budget is the conversation's own (:data:`adapters.slack.budget.PER_CONVERSATION`).
        """
        if not target.thread_ts:
            return False
        extra: dict[str, Any] = {"loading_messages": loading_messages[:10]} if loading_messages else {}
        try:
            done = await self.calls.call(
                "assistant.threads.setStatus",
                self.client.assistant_threads_setStatus,
                team=target.team,
                conversation=target.conversation,
                required=required,
                no_wait=not wait,
                channel_id=target.channel,
                thread_ts=target.thread_ts,
                status=text,
                **extra,
            )
        except SlackApiError as error:
            code = error_code(error)
            if code in NO_STREAMING_ERRORS:  # the same codes say the method is not available to this app
                log.info("slack thread status not available (%s): using placeholders", code)
                self.status_available = False
            return False
        return done is not None

    def may_stream(self, conversation: str) -> bool:
        """True unless Slack refused streams in the workspace or in this conversation."""
        return self.streaming_available and conversation not in self._unstreamable

    def streaming_unavailable(self, code: str, conversation: str) -> None:
        """chat.startStream was refused with ``code``: stream with chat.update from now on, in the whole workspace
        or in this conversation only (``channel_type_not_supported``: Slack does not stream into it)."""
        if code in NO_STREAMING_ERRORS:
            log.info("slack streaming not available (%s): using chat.update", code)
            self.streaming_available = False
        elif code in NO_STREAMING_HERE_ERRORS:
            log.info("slack streaming not available in a conversation (%s): using chat.update there", code)
            self._unstreamable.add(conversation)

    async def post(self, target: Target, text: str, blocks: list[Block] | None = None) -> str:
        """chat.postMessage into the target's thread; returns the ts."""
        kwargs: dict[str, Any] = {"channel": target.channel, "text": text}
        if target.thread_ts:
            kwargs["thread_ts"] = target.thread_ts
        if blocks:
            kwargs["blocks"] = blocks
        response = await self.calls.call(
            "chat.postMessage",
            self.client.chat_postMessage,
            team=target.team,
            conversation=target.conversation,
            **kwargs,
        )
        return str(response["ts"])

    async def post_notice(self, target: Target, notice: Notice) -> None:
        """A bot notice with its buttons; never fails on a block problem (falls back to text)."""
        blocks = notice_blocks(notice) if notice.actions or notice.studies else None
        try:
            await self.post(target, notice.text, blocks)
        except SlackApiError as error:
            if error_code(error) not in BLOCK_ERRORS:
                raise
            await self.post(target, notice.text)

    async def post_question(self, target: Target, pending: PendingQuestion) -> None:
        """Post a question's blocks as its own message; split them, or fall back to text, if Slack refuses."""
        blocks = question_blocks(pending, include_text=True)
        if not blocks:
            return
        tr = catalogue(pending.locale)
        text = pending.question.text or tr.gettext("Question")
        candidates = [blocks] if blocks_fit(blocks) else []
        for attempt in candidates:
            try:
                ts = await self.post(target, text, attempt)
            except SlackApiError as error:
                if error_code(error) not in BLOCK_ERRORS:
                    raise
                log.info("slack refused question blocks (%s): splitting", error_code(error))
                continue
            await self.remember_question(target, ts, pending, text)
            return
        # Split: the question text on its own, then the answer blocks alone; else plain text to type.
        answer_part = [b for b in blocks if not str(b.get("block_id", "")).endswith("|text")]
        try:
            await self.post(target, text)
            ts = await self.post(target, tr.gettext("Choose an answer"), answer_part)
            await self.remember_question(target, ts, pending, tr.gettext("Choose an answer"))
        except SlackApiError as error:
            if error_code(error) not in BLOCK_ERRORS:
                raise
            await self.post(target, question_fallback_text(tr, pending.question))

    async def remember_question(self, target: Target, ts: str, pending: PendingQuestion, text: str) -> None:
        """Keep where a question's blocks are, to show "You chose …" there after the answer."""
        await self.questions.put(
            f"{pending.interview_id}|{pending.question.id}",
            {
                "channel": target.channel,
                "ts": ts,
                "text": text,
                "thread_ts": target.thread_ts,
                "question": pending.question.model_dump(mode="json"),
                "locale": pending.locale,
            },
        )

    async def question_record(self, interview_id: str, question_id: str) -> dict[str, Any] | None:
        """What :meth:`remember_question` kept."""
        return await self.questions.get(f"{interview_id}|{question_id}")

    async def stored_question(self, interview_id: str, question_id: str) -> Question | None:
        """The question as it was posted (for reading clicks on it), if this adapter posted it."""
        record = await self.question_record(interview_id, question_id)
        if record and record.get("question"):
            return Question.model_validate(record["question"])
        return None

    async def replace_question_blocks(
        self,
        key: ConversationKey,
        ref: QuestionRef,
        new: list[Block],
        message: dict[str, Any] | None,
        tr: Catalogue,
    ) -> None:
        """Replace the question's blocks in its message by ``new`` (keeping the message's text visible)."""
        record = await self.question_record(ref.interview_id, ref.question_id)
        if message is None or not message.get("ts"):
            if record is None:
                return
            message = {"ts": record["ts"], "text": record.get("text", ""), "blocks": None}
        channel = str(record["channel"]) if record else key.channel
        text = str(message.get("text") or "")
        old_blocks = list(message.get("blocks") or [])
        if not old_blocks and record:  # not in the payload: rebuild from the stored question
            question = Question.model_validate(record["question"])
            pending = PendingQuestion(ref.interview_id, question, key.user, record.get("locale"))
            old_blocks = question_blocks(pending, include_text=False)
        blocks = replace_question(old_blocks, ref, new)
        if all(QuestionRef.parse(b.get("block_id")) for b in blocks) and text.strip():
            blocks = [*markdown_blocks(text), *blocks]
        await self.calls.call(
            "chat.update",
            self.client.chat_update,
            team=key.workspace,
            conversation=key.as_str(),
            channel=channel,
            ts=str(message["ts"]),
            text=text or tr.gettext("Question"),
            blocks=blocks,
        )

    async def mark_answered(
        self,
        key: ConversationKey,
        ref: QuestionRef,
        question: Question,
        value: AnswerValue,
        message: dict[str, Any] | None,
        tr: Catalogue,
    ) -> None:
        """After an accepted answer: the question's buttons become "You chose …"."""
        try:
            summary = answered_blocks(ref, answer_summary(tr, question, value))
            await self.replace_question_blocks(key, ref, summary, message, tr)
        except SlackApiError as error:
            log.info("slack could not mark the question answered (%s)", error_code(error))

    # --- results (bot.core.ports.ResultsChannel) ---

    async def post_results(self, channel: str, card: ResultsCard, files: Sequence[ResultsFile] = ()) -> str | None:
        """A results card in Block Kit, then its files (charts) uploaded to the same channel; returns its ts."""
        ts = await results.post_card(self.calls, "", channel, card)
        await results.upload_files(self.calls, "", channel, files, card.title)
        return ts

    async def delete_results(self, channel: str, message: str) -> bool:
        """Delete a results card the app posted (an erasure of the respondent it names)."""
        return await results.delete_card(self.calls, "", channel, message)

    async def send_file_privately(self, key: ConversationKey, file: ResultsFile, text: str) -> None:
        """Upload ``file`` into the person's DM with the app."""
        await results.upload_files(self.calls, key.workspace, key.channel, [file], text)

    async def ephemeral(self, key: ConversationKey, channel: str, text: str, thread_ts: str | None = None) -> None:
        """A message only ``key.user`` sees (errors are logged, never raised: it is a courtesy)."""
        kwargs: dict[str, Any] = {"channel": channel, "user": key.user, "text": text}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            await self.calls.call(
                "chat.postEphemeral",
                self.client.chat_postEphemeral,
                team=key.workspace,
                conversation=key.as_str(),
                **kwargs,
            )
        except Exception as error:  # never let a courtesy message break the handler
            log.info("slack ephemeral failed: %s", type(error).__name__)
