"""The typed async client of a Koji-style headless interview API.

Speaks both documented generations: ``POST …/:id/message`` with an SSE (or JSON) reply, falling back to the
older ``POST …/:id/messages`` JSON variant, then to the guide's ``POST …/interviews/messages`` (interview id in
the body), when a route does not exist; ``complete`` falls back the same way to ``POST …/interviews/complete``
and ``POST /api/interview/complete``. A respondent message is never
sent twice: if a reply breaks after the server accepted the message, the rest is recovered from
``GET /interviews/:id``. See ``docs/api-wire-format.md``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx
from pydantic import ValidationError

from bot.api.answers import answer_text, validate_answer
from bot.api.errors import AlreadyCompleted, BadRequest, Conflict, NotFound, ServerError
from bot.api.gate import QueueCallback, RequestGate
from bot.api.messages import MessageSender
from bot.api.models import (
    AnswerValue,
    CompletionReason,
    CompletionResult,
    InterviewDetails,
    Question,
    RecoveredTurn,
    Respondent,
    StartedInterview,
    StreamEvent,
)
from bot.api.sse import parse_question
from bot.api.transport import Retry, Transport

__all__ = ["InterviewClient", "QueueCallback"]

log = logging.getLogger(__name__)

#: The complete routes: ``/:id/complete``, then the two body-addressed copies (``interview_id`` in the body).
_COMPLETE_ROUTES = ("interviews/{id}/complete", "interviews/complete", "/api/interview/complete")


class InterviewClient:
    """One API base and key. Use as ``async with InterviewClient(url, key) as client:``.

    ``budget`` is the key's shared request budget (a :class:`~bot.api.gate.RequestGate`; the composition root
    passes the bot's fair scheduler). Without one, requests go at once and only the server's 429s pause them.
    ``study`` is sent as ``project_id`` when starting.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        budget: RequestGate[Any] | None = None,
        study: str | None = None,
        max_retries: int = 3,
        timeout: httpx.Timeout | None = None,
        stream_read_timeout: float = 120.0,
        backoff_base: float = 0.5,
    ) -> None:
        self._transport = Transport(
            base_url,
            api_key,
            budget=budget,
            max_retries=max_retries,
            timeout=timeout,
            stream_read_timeout=stream_read_timeout,
            backoff_base=backoff_base,
        )
        self.study = study
        self._complete_route = 0  # learned: index in _COMPLETE_ROUTES
        self._messages = MessageSender(self._transport, self.get)

    def __repr__(self) -> str:
        return f"<InterviewClient {self._transport!r}>"

    @property
    def budget(self) -> RequestGate[Any]:
        """The request budget this client draws from."""
        return self._transport.budget

    async def __aenter__(self) -> InterviewClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    # --- start ----------------------------------------------------------------------------------------------------

    async def start(
        self,
        respondent: Respondent | None = None,
        *,
        mode: str = "text",
        locale: str | None = None,
        study: str | None = None,
        caller: str | None = None,
        on_queued: QueueCallback | None = None,
    ) -> StartedInterview:
        """Start an interview: its id, session token, opening message (and question, if it opens with one)."""
        body: dict[str, Any] = {"mode": mode}
        if respondent is not None:
            body["respondent"] = respondent.model_dump(exclude_none=True)
        if locale:
            body["locale"] = locale
        if study or self.study:
            body["project_id"] = study or self.study
        data = await self._transport.request(
            "POST", "interviews/start", json=body, caller=caller, on_queued=on_queued, retry=Retry.NO_RESPONSE
        )
        started = _started(data)
        self._messages.turns[started.interview_id] = 0
        return started

    # --- send -----------------------------------------------------------------------------------------------------

    def send(
        self,
        interview_id: str,
        session_token: str,
        content: str,
        *,
        answer: tuple[Question, AnswerValue] | None = None,
        caller: str | None = None,
        on_queued: QueueCallback | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Send the respondent's message and iterate the reply's events (always ending with a status)."""
        body: dict[str, Any] = {"content": content}
        if answer is not None:
            question, value = answer
            value = validate_answer(question, value)
            body = {
                "content": content.strip() or answer_text(question, value),
                "answer": {"question_id": question.id, "type": str(question.type), "value": value},
            }
        if not str(body["content"]).strip():
            raise BadRequest("the message is empty", code="invalid_message")
        return self._messages.send(interview_id, session_token, body, caller, on_queued)

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
        (accepted) if the message is there but its reply does not appear after a few polls. ``on_queued``: as
        for :meth:`send`, the look-up's place while it waits for the key's budget.
        """
        return await self._messages.recover_turn(
            interview_id, content, turns_before=turns_before, caller=caller, on_queued=on_queued
        )

    # --- complete, get -------------------------------------------------------------------------------------------

    async def complete(
        self,
        interview_id: str,
        session_token: str,
        reason: CompletionReason = CompletionReason.MANUAL,
        feedback: dict[str, Any] | None = None,
        *,
        caller: str | None = None,
    ) -> CompletionResult:
        """Complete the interview (starts the analysis). 200 and 409 ``already_completed`` both succeed.

        Any 409 counts as "already completed": complete is idempotent and that is its only documented conflict
        (some copies of the docs answer ``{"error": "<description>"}`` with no code).
        """
        body: dict[str, Any] = {"reason": str(reason)}
        if feedback:
            body["feedback"] = feedback
        already = False
        data: Any = {}
        route_index = self._complete_route  # remembered only once a route answered as an existing route
        while True:
            route = _COMPLETE_ROUTES[route_index]
            payload = body if "{id}" in route else {**body, "interview_id": interview_id}
            path = route.format(id=interview_id)
            if path.startswith("/"):  # outside the API root: …/api/v1 → …/api/interview/complete
                path = _origin(self._transport.root) + path
            try:
                data = await self._transport.request(
                    "POST", path, json=payload, session_token=session_token, caller=caller
                )
            except AlreadyCompleted as exc:
                data, already = exc.body, True
            except Conflict:
                data, already = {}, True
            except NotFound as exc:
                if not exc.route_missing or route_index + 1 >= len(_COMPLETE_ROUTES):
                    raise
                route_index += 1
                log.info(
                    "the API has no %s route; trying %s", route.replace("{id}", ":id"), _COMPLETE_ROUTES[route_index]
                )
                continue
            break
        self._complete_route = route_index
        if not isinstance(data, dict):
            data = {}
        data.setdefault("interview_id", interview_id)
        data["already_completed"] = already or bool(data.get("already_completed"))
        return CompletionResult.model_validate(data)

    async def get(
        self, interview_id: str, *, caller: str | None = None, on_queued: QueueCallback | None = None
    ) -> InterviewDetails:
        """Status, transcript and (after completion) analysis of one interview."""
        data = await self._transport.request("GET", f"interviews/{interview_id}", caller=caller, on_queued=on_queued)
        if isinstance(data, dict) and isinstance(data.get("interview"), dict):
            data = data["interview"]
        try:
            details = InterviewDetails.model_validate(data)
        except ValidationError:
            raise ServerError("the interview API sent an interview in an unknown shape") from None
        return details


def _origin(root: str) -> str:
    """``https://host/api/v1`` → ``https://host``; ``https://host/prefix/api/v1`` → ``https://host/prefix``."""
    return root.removesuffix("/v1").removesuffix("/api")


def _started(data: Any) -> StartedInterview:
    if not isinstance(data, dict):
        raise ServerError("the interview API answered start with something that is not an object")
    shaped = dict(data.get("interview", data)) if isinstance(data.get("interview"), dict) else dict(data)
    shaped.setdefault("interview_id", shaped.get("id") or shaped.get("interviewId") or shaped.get("conversation_id"))
    shaped.setdefault("session_token", shaped.get("sessionToken") or data.get("session_token"))
    first = shaped.get("initial_message", shaped.get("initialMessage", shaped.get("message", "")))
    if isinstance(first, dict):
        shaped.setdefault("question", first.get("question"))
        first = first.get("content", "")
    shaped["initial_message"] = first or ""
    question = parse_question({"question": shaped["question"]}) if isinstance(shaped.get("question"), dict) else None
    shaped["question"] = question
    try:
        return StartedInterview.model_validate(shaped)
    except ValidationError:
        raise ServerError("the interview API answered start without an interview id or session token") from None
