"""The endpoints of the built-in server: both doc generations of the Koji headless interview API."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.api.models import CompletionReason, Question
from bot.emulator.engine import Reply
from bot.emulator.interviews import InterviewRecord

if TYPE_CHECKING:
    from bot.emulator.server import Emulator

API_KEY = web.RequestKey("api_key", str)
RATE_HEADERS = web.RequestKey("rate_headers", dict)

_BASE = "/api/v1/interviews"
_TOKENS = re.compile(r"\S+\s*|\s+")
_REASONS = {str(r) for r in CompletionReason}


def error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """A JSON error body ``{"error": code, "message": text}``."""
    return web.json_response({"error": code, "message": message, **extra}, status=status)


class ApiFailure(Exception):
    """Raised inside a handler to answer with an error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


async def _json_body(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ApiFailure(400, "invalid_request", "A JSON body is required.")
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiFailure(400, "invalid_request", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiFailure(400, "invalid_request", "The body must be a JSON object.")
    return data


class Routes:
    """Request handlers bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def register(self, app: web.Application) -> None:
        """Add every route to ``app``."""
        base = _BASE
        app.router.add_post(f"{base}/start", self.start)
        app.router.add_post(f"{base}/messages", self.old_message)  # the guide: interview_id in the body
        app.router.add_post(f"{base}/complete", self.complete)  # interview_id in the body
        app.router.add_post("/api/interview/complete", self.complete)
        app.router.add_post(f"{base}/{{id}}/message", self.message)
        app.router.add_post(f"{base}/{{id}}/messages", self.old_message)
        app.router.add_post(f"{base}/{{id}}/complete", self.complete)
        app.router.add_get(f"{base}/{{id}}", self.get)

    # --- helpers -----------------------------------------------------------------------------------------------

    def _permit(self, request: web.Request, permission: str) -> str:
        key: str = request[API_KEY]
        if permission not in self.emu.keys.get(key, frozenset()):
            raise ApiFailure(403, "forbidden", f"The API key lacks the {permission} permission.")
        return key

    def _interview(self, request: web.Request, interview_id: str | None, *, session: bool) -> InterviewRecord:
        record = self.emu.book.interviews.get(interview_id or "")
        if record is None or record.key != request[API_KEY]:
            raise ApiFailure(404, "not_found", "Interview not found.")
        if session and request.headers.get("X-Session-Token") != record.session_token:
            raise ApiFailure(401, "unauthorized", "Missing or invalid session token.")
        return record

    def _text(self, body: dict[str, Any]) -> str:
        fields = {"any": ("content", "message"), "content": ("content",), "message": ("message",)}
        for name in fields[self.emu.faults.body_field]:
            value = body.get(name)
            if isinstance(value, str) and value.strip():
                if len(value) > 20_000:
                    raise ApiFailure(400, "invalid_message", "The message is too long.")
                return value
        raise ApiFailure(400, "invalid_message", "Message content is empty or malformed.")

    def _accept(self, record: InterviewRecord, body: dict[str, Any]) -> Reply:
        if record.is_complete or record.completion is not None:
            raise ApiFailure(409, "conflict", "Interview is already completed.")
        text = self._text(body)
        answer = body.get("answer") if isinstance(body.get("answer"), dict) else None
        reply = self.emu.book.accept(record, text, answer)
        self.emu.accepted_messages += 1
        return reply

    # --- endpoints ---------------------------------------------------------------------------------------------

    async def start(self, request: web.Request) -> web.Response:
        """POST /interviews/start — both the newer and the older body."""
        key = self._permit(request, "interview:start")
        body = await _json_body(request)
        respondent = body.get("respondent", {})
        if not isinstance(respondent, dict):
            raise ApiFailure(400, "invalid_request", "respondent must be an object.")
        respondent = {k: v for k, v in respondent.items() if k in ("external_id", "display_name", "metadata")}
        guide = body.get("respondentMetadata")  # the guide: {name, email, externalId}
        if isinstance(guide, dict):
            respondent.setdefault("display_name", guide.get("name"))
            respondent.setdefault("external_id", guide.get("externalId", guide.get("external_id")))
            if guide.get("email"):
                respondent.setdefault("metadata", {}).setdefault("email", guide["email"])
        if "respondent_name" in body:  # the older body
            respondent.setdefault("display_name", body["respondent_name"])
        if isinstance(body.get("metadata"), dict):
            respondent.setdefault("metadata", dict(body["metadata"]))
        if isinstance(body.get("respondent_email"), str) and isinstance(respondent.get("metadata", {}), dict):
            respondent.setdefault("metadata", {}).setdefault("email", body["respondent_email"])
        respondent = {k: v for k, v in respondent.items() if v is not None}
        if not isinstance(respondent.get("metadata", {}), dict):
            raise ApiFailure(400, "invalid_request", "respondent.metadata must be an object.")
        mode = body.get("mode", "text")
        if mode == "voice":
            raise ApiFailure(422, "unprocessable", "Voice mode is not available on the built-in server.")
        if mode != "text":
            raise ApiFailure(400, "invalid_request", "mode must be text or voice.")
        study = next((body[k] for k in ("project_id", "projectId", "projectSlug", "study") if body.get(k)), None)
        if study is not None and study != self.emu.book.brief.study.id:
            raise ApiFailure(404, "not_found", "The specified project does not exist.")
        locale = body.get("locale", body.get("language"))
        record, opening = self.emu.book.start(key, respondent, mode, locale if isinstance(locale, str) else None)
        self.emu.webhook("interview.started", {"interview_id": record.id, "respondent": respondent})
        reply: dict[str, Any] = {
            "interview_id": record.id,
            "session_token": record.session_token,
            "initial_message": opening.text,
        }
        if opening.question is not None:
            reply["question"] = opening.question.model_dump(mode="json")
        return web.json_response(reply, status=201)

    def _route(self, request: web.Request) -> None:
        """Answer a framework 404 (no JSON error body) for a route this server's doc generation lacks."""
        faults = self.emu.faults
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
        if route.removeprefix(_BASE) in faults.missing_routes:
            raise web.HTTPNotFound()
        if request.path.endswith("/message") and faults.generation == "old":
            raise web.HTTPNotFound()  # the older API has no /:id/message

    async def message(self, request: web.Request) -> web.StreamResponse:
        """POST /interviews/:id/message — the newer endpoint: SSE (or the overview's JSON)."""
        self._route(request)
        self._permit(request, "interview:chat")
        record = self._interview(request, request.match_info["id"], session=True)
        body = await _json_body(request, required=True)
        reply = self._accept(record, body)
        if await self._dropped(request):
            return web.Response(status=204)
        if self.emu.faults.message_reply == "json":
            data: dict[str, Any] = {
                "message": {"role": "assistant", "content": reply.text},
                "turn_count": record.turn_count,
                "is_complete": record.is_complete,
            }
            if reply.question is not None:
                data["question"] = reply.question.model_dump(mode="json")
            return web.json_response(data)
        return await self._stream(request, record, reply)

    async def old_message(self, request: web.Request) -> web.Response:
        """POST /interviews/:id/messages — the older endpoint with a JSON reply (or /messages, id in the body)."""
        self._route(request)
        self._permit(request, "interview:chat")
        body = await _json_body(request, required=True)
        interview_id = request.match_info.get("id") or body.get("interview_id") or body.get("interviewId")
        record = self._interview(request, str(interview_id or ""), session=True)
        reply = self._accept(record, body)
        if await self._dropped(request):
            return web.Response(status=204)
        response: dict[str, Any] = {"content": reply.text, "message_id": record.transcript[-1]["id"]}
        if reply.question is not None:
            response["question"] = reply.question.model_dump(mode="json")
        return web.json_response(
            {
                "message_id": record.transcript[-2]["id"],
                "interviewer_response": response,
                "interview_status": "in_progress" if record.status == "active" else record.status,
                "messages_count": len(record.transcript),
            }
        )

    async def complete(self, request: web.Request) -> web.Response:
        """POST /interviews/:id/complete — idempotent: 409 ``already_completed`` with the same body."""
        self._route(request)
        self._permit(request, "interview:complete")
        body = await _json_body(request)
        interview_id = request.match_info.get("id") or body.get("interview_id") or body.get("interviewId")
        record = self._interview(request, str(interview_id or ""), session=True)
        reason = body.get("reason", "manual")
        if reason not in _REASONS:
            raise ApiFailure(400, "invalid_request", f"reason must be one of {', '.join(sorted(_REASONS))}.")
        feedback = body.get("feedback")
        if feedback is not None and not isinstance(feedback, dict):
            raise ApiFailure(400, "invalid_request", "feedback must be an object.")
        completion, first = self.emu.book.complete(record, reason, feedback)
        if not first:
            return web.json_response(
                {**completion, "error": "already_completed", "message": "Interview was already completed."}, status=409
            )
        self.emu.start_analysis(record)
        return web.json_response(completion)

    async def get(self, request: web.Request) -> web.Response:
        """GET /interviews/:id — transcript, status and (after completion) analysis."""
        self._permit(request, "interview:read")
        record = self._interview(request, request.match_info["id"], session=False)
        return web.json_response(self.emu.book.details(record, old_roles=self.emu.faults.generation == "old"))

    # --- streaming -----------------------------------------------------------------------------------------

    async def _dropped(self, request: web.Request) -> bool:
        if self.emu.faults.drop_after_accept <= 0:
            return False
        self.emu.faults.drop_after_accept -= 1
        if request.transport is not None:
            request.transport.abort()
        return True

    def _event(self, name: str, data: dict[str, Any] | str) -> str:
        style = self.emu.faults.sse_style
        payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        if style == "typed" and isinstance(data, dict):
            return f"data: {json.dumps({'type': name, **data}, ensure_ascii=False)}\n\n"
        if style != "named" and name == "done":
            return f"data: {payload}\n\n"
        return f"event: {name}\ndata: {payload}\n\n"

    def _delta(self, token: str) -> str:
        style = self.emu.faults.sse_style
        if style == "raw":
            return "".join(f"data: {line}\n" for line in token.split("\n")) + "\n"
        if style == "typed":
            return f"data: {json.dumps({'type': 'text', 'content': token}, ensure_ascii=False)}\n\n"
        return f"event: delta\ndata: {json.dumps({'text': token}, ensure_ascii=False)}\n\n"

    async def _stream(self, request: web.Request, record: InterviewRecord, reply: Reply) -> web.StreamResponse:
        faults = self.emu.faults
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        sent = 0
        for token in _TOKENS.findall(reply.text):
            cut = faults.cut_stream_after_chars
            if cut is not None and sent >= cut:
                if request.transport is not None:
                    request.transport.abort()
                return response
            failing = faults.error_event_after_chars
            if failing is not None and sent >= failing:
                failure = {"error": "generation_failed", "message": "The interviewer could not finish this reply."}
                await response.write(self._event("error", failure).encode())
                await response.write_eof()
                return response
            await response.write(self._delta(token).encode())
            sent += len(token)
            if faults.token_rate > 0:
                await asyncio.sleep(1 / faults.token_rate)
        tail: list[str] = []
        if reply.question is not None:
            tail.append(self._event("question", {"question": _question(reply.question)}))
        if faults.send_status:
            tail.append(
                self._event(
                    "status",
                    {"status": record.status, "is_complete": record.is_complete, "turn_count": record.turn_count},
                )
            )
        if faults.final_blank_line:
            tail.append(self._event("done", "[DONE]"))
        elif tail:
            tail[-1] = tail[-1].rstrip("\n")
        for chunk in tail:
            await response.write(chunk.encode())
        await response.write_eof()
        return response


def _question(question: Question) -> dict[str, Any]:
    return question.model_dump(mode="json")
