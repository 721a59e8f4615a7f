"""Reading a reply: SSE framing and the many shapes an interviewer's reply may take.

The message endpoint's event names are not public (see ``docs/api-wire-format.md``), so every event is read
defensively: named events (``delta``, ``question``, ``status``, ``done``, ``error``), unnamed ``data:`` events
carrying JSON with a ``type``, raw text data, a ``[DONE]`` sentinel, and whole JSON replies of both doc
generations. Unknown events are skipped and logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from httpx_sse import ServerSentEvent
from pydantic import ValidationError

from bot.api.models import (
    ErrorEvent,
    InterviewStatus,
    Question,
    QuestionEvent,
    StatusEvent,
    StreamEvent,
    TextDelta,
)

log = logging.getLogger(__name__)

_TEXT_KEYS = ("text", "delta", "content", "token", "chunk")
_TEXT_TYPES = {"text", "delta", "content", "token", "chunk", "text_delta", "message_delta"}
_DONE_NAMES = {"done", "end", "complete", "completed", "finish", "message_end", "stream_end"}


@dataclass(frozen=True, slots=True)
class Done:
    """The stream says the reply is over."""


Parsed = StreamEvent | Done


async def aiter_sse(chunks: AsyncIterator[str]) -> AsyncGenerator[ServerSentEvent, None]:
    """Frame SSE events from text chunks. Unlike httpx-sse, a last event without a blank line is kept."""
    buffer = ""
    event, last_id = "", ""
    data: list[str] = []
    has_fields = False

    def flush() -> ServerSentEvent | None:
        nonlocal event, data, has_fields
        if not has_fields:
            return None
        sse = ServerSentEvent(event=event or None, data="\n".join(data), id=last_id)
        event, data, has_fields = "", [], False
        return sse

    def take(line: str) -> ServerSentEvent | None:
        nonlocal event, last_id, has_fields
        if not line:
            return flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event, has_fields = value, True
        elif name == "data":
            data.append(value)
            has_fields = True
        elif name == "id" and "\0" not in value:
            last_id = value
        return None

    async for chunk in chunks:
        buffer += chunk.replace("\r\n", "\n").replace("\r", "\n") if "\r" in chunk else chunk
        *lines, buffer = buffer.split("\n")
        for line in lines:
            sse = take(line)
            if sse is not None:
                yield sse
    if buffer:
        take(buffer)
    last = flush()
    if last is not None:
        yield last


def normalize_status(value: object, is_complete: bool = False) -> InterviewStatus:
    """Map the API's status words (``in_progress``, ``completed``…) onto active / completing / completed."""
    word = str(value or "").strip().lower()
    if word in {"completed", "complete", "finished", "ended", "closed", "done"}:
        return "completed"
    if word in {"completing", "wrapping_up", "wrap_up", "ending"}:
        return "completing"
    if not word and is_complete:
        return "completed"
    return "active"


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_question(data: Any) -> Question | None:
    """A structured question from ``{"question": {...}}``, ``{"widget": {...}}`` or the question itself."""
    if not isinstance(data, dict):
        return None
    inner = data.get("question", data.get("widget", data))
    if not isinstance(inner, dict):
        return None
    shaped = dict(inner)
    shaped.setdefault("id", shaped.get("question_id") or shaped.get("questionId"))
    shaped.setdefault("type", shaped.get("question_type") or shaped.get("questionType"))
    shaped.setdefault("text", shaped.get("question_text") or shaped.get("questionText") or shaped.get("prompt"))
    if isinstance(shaped.get("options"), list):
        shaped["options"] = tuple(
            o.get("label", o.get("value", "")) if isinstance(o, dict) else str(o) for o in shaped["options"]
        )
    try:
        return Question.model_validate(shaped)
    except ValidationError:
        log.warning("skipped a question event that does not match the question shape")
        return None


def parse_status(data: dict[str, Any]) -> StatusEvent:
    """A ``StatusEvent`` from ``{status, is_complete, turn_count}`` (or the older names)."""
    is_complete = bool(data.get("is_complete", data.get("isComplete", False)))
    raw = data.get("status", data.get("interview_status"))
    status = normalize_status(raw, is_complete)
    if status == "completed":
        is_complete = True
    turn = _int(data.get("turn_count", data.get("turnCount")))
    return StatusEvent(status=status, is_complete=is_complete, turn_count=turn)


def parse_json_reply(data: Any) -> list[StreamEvent]:
    """A whole (non-streamed) reply: the older ``{interviewer_response, interview_status, messages_count}`` or
    the overview's ``{message{role,content}, turn_count, is_complete}``."""
    if not isinstance(data, dict):
        return [TextDelta(str(data))] if data else []
    events: list[StreamEvent] = []
    response = data.get("interviewer_response")
    message = data.get("message")
    holder: dict[str, Any] = {}
    if isinstance(response, dict):
        holder = response
    elif isinstance(message, dict):
        holder = message
    text = holder.get("content", holder.get("text")) if holder else data.get("content", data.get("text"))
    if isinstance(text, str) and text:
        events.append(TextDelta(text))
    question = parse_question(holder) if "question" in holder or "widget" in holder else None
    if question is None and ("question" in data or "widget" in data):
        question = parse_question(data)
    if question is not None:
        events.append(QuestionEvent(question))
    if any(k in data for k in ("status", "interview_status", "is_complete", "isComplete", "turn_count")):
        events.append(parse_status(data))
    return events


def _json(data: str) -> Any:
    stripped = data.strip()
    if not stripped or stripped[0] not in '{["':
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _text_of(payload: dict[str, Any]) -> str | None:
    for key in _TEXT_KEYS:
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None


def _from_typed(kind: str, payload: dict[str, Any]) -> list[Parsed] | None:
    if kind in _TEXT_TYPES:
        text = _text_of(payload)
        return [TextDelta(text)] if text else []
    if kind in {"question", "widget", "structured_question"}:
        question = parse_question(payload)
        return [QuestionEvent(question)] if question else []
    if kind in {"status", "interview_status"}:
        return [parse_status(payload)]
    if kind == "error":
        return [_error(payload)]
    if kind in _DONE_NAMES:
        extra: list[Parsed] = [parse_status(payload)] if "status" in payload or "is_complete" in payload else []
        return [*extra, Done()]
    return None


def _error(payload: Any) -> ErrorEvent:
    if isinstance(payload, dict):
        code = payload.get("error", payload.get("code", "stream_error"))
        if isinstance(code, dict):
            return ErrorEvent(str(code.get("code", "stream_error")), str(code.get("message", "")))
        return ErrorEvent(str(code), str(payload.get("message", "")))
    return ErrorEvent("stream_error", str(payload or ""))


def interpret(sse: ServerSentEvent) -> list[Parsed]:
    """What one SSE event means; ``[]`` for keep-alives and unknown events (which are logged)."""
    name = (sse.event or "message").strip().lower()
    data = sse.data
    if data.strip() == "[DONE]":
        return [Done()]
    payload = _json(data)
    if name == "message":
        if isinstance(payload, dict):
            kind = payload.get("type", payload.get("event"))
            if isinstance(kind, str):
                typed = _from_typed(kind.lower(), payload)
                if typed is not None:
                    return typed
            if any(k in payload for k in ("interviewer_response", "message")):
                return list(parse_json_reply(payload))
            if "question" in payload or "widget" in payload:
                return _from_typed("question", payload) or []
            if any(k in payload for k in ("status", "is_complete", "turn_count")) and _text_of(payload) is None:
                return [parse_status(payload)]
            text = _text_of(payload)
            if text is not None:
                return [TextDelta(text)] if text else []
            log.info("skipped an unknown stream event (unnamed JSON with keys %s)", sorted(payload)[:8])
            return []
        if isinstance(payload, str):
            return [TextDelta(payload)] if payload else []
        return [TextDelta(data)] if data else []
    if name in _TEXT_TYPES:
        if isinstance(payload, dict):
            text = _text_of(payload)
            return [TextDelta(text)] if text else []
        if isinstance(payload, str):
            return [TextDelta(payload)] if payload else []
        return [TextDelta(data)] if data else []
    body = payload if isinstance(payload, dict) else {}
    if name == "error":
        return [_error(payload if payload is not None else data)]
    typed = _from_typed(name, body)
    if typed is not None:
        return typed
    log.info("skipped an unknown stream event %r", name[:40])
    return []


def first_status(events: Iterable[StreamEvent]) -> StatusEvent | None:
    """The last status among ``events``, if any."""
    found: StatusEvent | None = None
    for event in events:
        if isinstance(event, StatusEvent):
            found = event
    return found
