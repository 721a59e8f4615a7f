"""Sending a respondent message and reading the reply, whatever shape it takes, without ever sending twice.

The message routes of the doc generations are tried in order while a route does not exist: newer
``/:id/message`` (SSE), older ``/:id/messages`` (JSON), the guide's ``/messages`` (id in the body). If a reply
breaks after the server accepted the message, the rest is recovered from ``GET /interviews/:id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from bot.api.errors import (
    ApiUnavailable,
    BadRequest,
    InterviewApiError,
    NotFound,
    RateLimited,
    ServerError,
    StreamBroken,
)
from bot.api.gate import QueueCallback
from bot.api.models import (
    ErrorEvent,
    InterviewDetails,
    Question,
    QuestionEvent,
    RecoveredTurn,
    StatusEvent,
    StreamEvent,
    TextDelta,
    TextReplace,
    TranscriptEntry,
)
from bot.api.sse import Done, aiter_sse, interpret, parse_json_reply
from bot.api.transport import Transport

log = logging.getLogger("bot.api.client")

_RECOVERY_DELAYS = (0.3, 0.8, 2.0)
#: The message routes of the doc generations, tried in this order while a route does not exist.
_MESSAGE_ROUTES = ("interviews/{id}/message", "interviews/{id}/messages", "interviews/messages")

#: Reads one interview (``InterviewClient.get``).
GetInterview = Callable[..., Awaitable[InterviewDetails]]


class MessageSender:
    """The send path of one client: learned routes and body field, turn counts per interview."""

    def __init__(self, transport: Transport, get: GetInterview) -> None:
        self._transport = transport
        self._get = get
        self._message_route = 0  # learned: index in _MESSAGE_ROUTES of the route the server has
        self._body_field = "content"  # learned: "message" if the server refused "content"
        self.turns: dict[str, int] = {}  # respondent messages per interview, when known

    def _message_request(self, interview_id: str, body: dict[str, Any], route_index: int) -> tuple[str, dict[str, Any]]:
        payload = dict(body)
        if self._body_field != "content":
            payload[self._body_field] = payload.pop("content")
        route = _MESSAGE_ROUTES[route_index]
        if route_index > 0:  # the older body
            payload["type"] = "respondent"
        if "{id}" not in route:
            payload["interview_id"] = interview_id
        return route.format(id=interview_id), payload

    async def send(
        self,
        interview_id: str,
        session_token: str,
        body: dict[str, Any],
        caller: str | None,
        on_queued: QueueCallback | None,
    ) -> AsyncIterator[StreamEvent]:
        turns_before = self.turns.get(interview_id)
        content = str(body["content"])
        connect_failures = limited = 0
        tried_field = False
        route_index = self._message_route  # remembered only once a route answered as an existing route
        while True:
            path, payload = self._message_request(interview_id, body, route_index)
            try:
                response = await self._transport.open(
                    "POST",
                    path,
                    json=payload,
                    session_token=session_token,
                    caller=caller,
                    on_queued=on_queued,
                    stream=True,
                )
            except ApiUnavailable:
                if connect_failures >= self._transport.max_retries:
                    raise
                await self._transport.backoff(connect_failures)
                connect_failures += 1
                continue
            except httpx.TransportError as exc:  # sent, but no answer: did the server take it?
                log.warning("message request failed before a reply (%s); checking the transcript", type(exc).__name__)
                async for event in self._recovered(
                    interview_id, content, turns_before, "", None, caller, accepted=None
                ):
                    yield event
                return
            try:
                if response.status_code >= 400:
                    raw = await response.aread()
                    error = self._transport.error(response, raw, session_token)
                    if isinstance(error, RateLimited) and limited <= self._transport.max_retries + 3:
                        self._transport.on_rate_limited(error)
                        limited += 1
                        continue
                    if isinstance(error, NotFound) and error.route_missing:
                        if route_index + 1 >= len(_MESSAGE_ROUTES):
                            raise error  # no route knows it: a plain 404 for the interview, most likely
                        route_index += 1
                        log.info(
                            "the API has no %s route; trying %s",
                            path.replace(interview_id, ":id"),
                            _MESSAGE_ROUTES[route_index].replace("{id}", ":id"),
                        )
                        continue
                    self._message_route = route_index
                    if isinstance(error, BadRequest) and not tried_field:  # our text was not empty: wrong field?
                        tried_field = True
                        self._body_field = "message" if self._body_field == "content" else "content"
                        continue
                    if isinstance(error, ServerError):
                        async for event in self._recovered(
                            interview_id, content, turns_before, "", None, caller, accepted=None, error=error
                        ):
                            yield event
                        return
                    raise error
                self._message_route = route_index
                async for event in self._read_reply(response, interview_id, content, turns_before, caller):
                    yield event
                return
            finally:
                await response.aclose()

    async def _read_reply(
        self, response: httpx.Response, interview_id: str, content: str, turns_before: int | None, caller: str | None
    ) -> AsyncIterator[StreamEvent]:
        received = ""
        question: Question | None = None
        status: StatusEvent | None = None
        errored = False
        is_sse = "text/event-stream" in response.headers.get("content-type", "")
        try:
            if is_sse:
                frames = aiter_sse(response.aiter_text())
                try:
                    async for sse in frames:
                        parsed = interpret(sse)
                        for item in parsed:
                            if isinstance(item, Done):
                                break
                            if isinstance(item, TextDelta):
                                received += item.text
                            elif isinstance(item, QuestionEvent):
                                question = item.question
                            elif isinstance(item, StatusEvent):
                                status = item = self._count(interview_id, item, turns_before)
                            elif isinstance(item, ErrorEvent):
                                errored = True
                            yield item
                        if any(isinstance(item, Done) for item in parsed):
                            break
                finally:
                    await frames.aclose()
            else:
                raw = await response.aread()
                try:
                    data = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    data = raw.decode("utf-8", "replace")
                for event in parse_json_reply(data):
                    if isinstance(event, TextDelta):
                        received += event.text
                    elif isinstance(event, StatusEvent):
                        status = event = self._count(interview_id, event, turns_before)
                    yield event
        except (httpx.TransportError, httpx.StreamError) as exc:
            log.warning(
                "reply stream broke (%s) after %d chars; recovering from the transcript",
                type(exc).__name__,
                len(received),
            )
            async for event in self._recovered(
                interview_id, content, turns_before, received, question, caller, accepted=True
            ):
                yield event
            return
        if not received and question is None and status is None and not errored:
            async for event in self._recovered(interview_id, content, turns_before, "", None, caller, accepted=True):
                yield event
            return
        if status is None:
            yield await self._status_from_get(interview_id, turns_before, caller)

    def _count(self, interview_id: str, event: StatusEvent, turns_before: int | None) -> StatusEvent:
        turns = event.turn_count
        if turns is None and turns_before is not None:
            turns = turns_before + 1
        if turns is not None:
            self.turns[interview_id] = turns
        return StatusEvent(status=event.status, is_complete=event.is_complete, turn_count=turns)

    async def _status_from_get(self, interview_id: str, turns_before: int | None, caller: str | None) -> StatusEvent:
        try:
            details = await self._get(interview_id, caller=caller)
        except InterviewApiError as exc:
            log.warning("could not read the interview status after a reply (%s)", exc.code)
            return self._count(interview_id, StatusEvent(status="active"), turns_before)
        turns = details.turn_count
        if turns is None and details.transcript:
            turns = sum(1 for entry in details.transcript if entry.role == "respondent")
        return self._count(
            interview_id,
            StatusEvent(status=details.status, is_complete=details.is_complete, turn_count=turns),
            turns_before,
        )

    async def _recovered(
        self,
        interview_id: str,
        content: str,
        turns_before: int | None,
        received: str,
        question: Question | None,
        caller: str | None,
        *,
        accepted: bool | None,
        error: InterviewApiError | None = None,
    ) -> AsyncIterator[StreamEvent]:
        try:
            turn = await self.recover_turn(interview_id, content, turns_before=turns_before, caller=caller)
        except StreamBroken:
            raise
        except InterviewApiError as exc:
            raise StreamBroken(
                f"the reply broke and the transcript could not be read ({exc.code})", accepted=accepted
            ) from None
        if turn is None:
            if error is not None:
                raise error
            raise StreamBroken(
                "the reply broke before the server took the message", accepted=False if accepted is None else accepted
            )
        if turn.text.startswith(received):
            if turn.text[len(received) :]:
                yield TextDelta(turn.text[len(received) :])
        else:
            yield TextReplace(turn.text)
        if turn.question is not None and turn.question != question:
            yield QuestionEvent(turn.question)
        yield StatusEvent(status=turn.status, is_complete=turn.is_complete, turn_count=self.turns.get(interview_id))

    async def recover_turn(
        self,
        interview_id: str,
        content: str,
        *,
        turns_before: int | None = None,
        caller: str | None = None,
        on_queued: QueueCallback | None = None,
    ) -> RecoveredTurn | None:
        """Did the server accept the respondent message ``content``? Then return the reply that followed.

        ``None`` means the message is not in the transcript (safe to send again). Raises ``StreamBroken``
        (accepted) if the message is there but its reply does not appear after a few polls. ``on_queued`` hears of
        the look-up's place in the key's queue, as a sent message's does.
        """
        wanted = content.strip()
        for attempt, delay in enumerate((0.0, *_RECOVERY_DELAYS)):
            if delay:
                await asyncio.sleep(delay)
            details = await self._get(interview_id, caller=caller, on_queued=on_queued)
            entries = details.transcript
            mine = [i for i, e in enumerate(entries) if e.role == "respondent"]
            index = _accepted_index(entries, mine, wanted, turns_before)
            if index is None:
                return None
            replies = []
            for entry in entries[index + 1 :]:
                if entry.role == "respondent":
                    break
                replies.append(entry)
            if replies or details.status == "completed":
                self.turns[interview_id] = len(mine) if turns_before is None else turns_before + 1
                text = "\n\n".join(e.content for e in replies)
                asked = next((e.question for e in reversed(replies) if e.question is not None), None)
                return RecoveredTurn(text=text, question=asked, status=details.status, is_complete=details.is_complete)
            log.info("message accepted, reply not in the transcript yet (poll %d)", attempt + 1)
        raise StreamBroken("the server took the message but its reply could not be read", accepted=True)


def _accepted_index(
    entries: list[TranscriptEntry], mine: list[int], wanted: str, turns_before: int | None
) -> int | None:
    """Where the respondent message ``wanted`` sits in the transcript, or ``None`` if it was not accepted."""
    if turns_before is not None:
        if len(mine) <= turns_before:
            return None
        if entries[mine[turns_before]].content.strip() == wanted:
            return mine[turns_before]
    if mine and entries[mine[-1]].content.strip() == wanted:
        return mine[-1]
    return None
