"""The handoff API on the bot's HTTP server: ``POST /v1/handoffs``, ``GET`` and ``DELETE /v1/handoffs/{id}``,
and the API's own description at ``GET /openapi.json`` (``bot/handoff/openapi.json``, kept in the repo).

Every request needs ``Authorization: Bearer <HANDOFF_TOKEN>`` (compared in constant time; a wrong one gets 401
and is not logged). Failures answer ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import hmac
import json
import logging
from importlib import resources
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from bot.core import Bridge, HandoffCode, HandoffError, HandoffRequest
from bot.core.store import HandoffRecord

__all__ = ["OPENAPI_PATH", "handoff_routes", "openapi_document"]

log = logging.getLogger("bot.handoff")

OPENAPI_PATH = "/openapi.json"
MAX_BODY_BYTES = 16 * 1024
_STATUS = {
    HandoffCode.INVALID_REQUEST: 400,
    HandoffCode.NOT_FOUND: 404,
    HandoffCode.DECLINED: 403,
    HandoffCode.ALREADY_IN_INTERVIEW: 409,
    HandoffCode.STUDY_CLOSED: 409,
    HandoffCode.USER_UNREACHABLE: 422,
    HandoffCode.IDEMPOTENCY_KEY_REUSED: 422,
    HandoffCode.RATE_LIMITED: 429,
    HandoffCode.UNAVAILABLE: 503,
}

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class HandoffBody(BaseModel):
    """The body of ``POST /v1/handoffs``."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["slack", "discord"]
    workspace: Id
    user: Id
    study: Id
    context: dict[str, Any] = Field(default_factory=dict)
    callback_url: AnyHttpUrl | None = None

    @field_validator("callback_url", mode="before")
    @classmethod
    def _ascii_uri(cls, value: object) -> object:
        """A URI as RFC 3986 (and the description) has it: ASCII only (an international host name in punycode)."""
        if isinstance(value, str) and not value.isascii():
            raise ValueError("must be a URI of ASCII characters (write an international host name in punycode)")
        return value


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description (the file kept in the repo)."""
    text = resources.files("bot.handoff").joinpath("openapi.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _error(code: HandoffCode | str, message: str, status: int, **extra: Any) -> web.Response:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if extra.get("retry_after") is not None else None
    extra.pop("retry_after", None)
    body = {"error": str(code), "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return web.json_response(body, status=status, headers=headers)


def _refused(error: HandoffError) -> web.Response:
    return _error(
        error.code,
        error.message,
        _STATUS[error.code],
        interview_id=error.interview_id,
        retry_after=error.retry_after,
    )


def _view(record: HandoffRecord) -> dict[str, Any]:
    return {
        "handoff_id": record.handoff_id,
        "status": record.status.value,
        "interview_id": record.interview_id,
        "platform": record.key.platform,
        "study": record.study,
        "end_reason": record.end_reason,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
    }


class HandoffApi:
    """The request handlers for one bridge and one token."""

    def __init__(self, bridge: Bridge, token: str) -> None:
        self._bridge = bridge
        self._token = token.encode()

    def _authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token)

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Authorize ``/v1/`` requests; never let an exception become an unexplained 500."""
        if request.path.startswith("/v1/") and not self._authorized(request):
            return _error("unauthorized", "a valid 'Authorization: Bearer <HANDOFF_TOKEN>' header is needed", 401)
        try:
            response: web.StreamResponse = await handler(request)
        except HandoffError as error:
            return _refused(error)
        except web.HTTPException as error:
            if error.status >= 400 and request.path.startswith("/v1/"):
                code = "not_found" if error.status == 404 else "invalid_request"
                return _error(code, error.reason, error.status)
            raise
        return response

    async def create(self, request: web.Request) -> web.Response:
        """``POST /v1/handoffs``."""
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return _error(HandoffCode.INVALID_REQUEST, f"the body is larger than {MAX_BODY_BYTES} bytes", 400)
        try:
            body = HandoffBody.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            return _error(HandoffCode.INVALID_REQUEST, f"{where}: {first['msg']}", 400)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 200 and key.isascii() and key.isprintable()):
            return _error(HandoffCode.INVALID_REQUEST, "Idempotency-Key: 1 to 200 printable ASCII characters", 400)
        handle = await self._bridge.handoffs.hand_over(
            HandoffRequest(
                body.platform,
                body.workspace,
                body.user,
                body.study,
                body.context,
                str(body.callback_url) if body.callback_url else None,
                key,
            )
        )
        # consent_pending: the consent text is in the DM; accepted (the person agreed to the study before): started
        answer = {"handoff_id": handle.handoff_id, "status": handle.status.value, "interview_id": handle.interview_id}
        return web.json_response(answer, status=202)

    async def read(self, request: web.Request) -> web.Response:
        """``GET /v1/handoffs/{id}``."""
        return web.json_response(_view(await self._bridge.handoffs.get(request.match_info["handoff_id"])))

    async def cancel(self, request: web.Request) -> web.Response:
        """``DELETE /v1/handoffs/{id}``: the interview ends with reason ``manual``; the person is thanked."""
        return web.json_response(_view(await self._bridge.handoffs.cancel(request.match_info["handoff_id"])))


def handoff_routes(bridge: Bridge, token: str) -> tuple[web.Application, list[web.RouteDef]]:
    """The ``/v1/`` sub-application (its middleware checks the token) and the ``/openapi.json`` route."""
    api = HandoffApi(bridge, token)
    v1 = web.Application(middlewares=[api.guard])
    v1.router.add_post("/handoffs", api.create)
    v1.router.add_get("/handoffs/{handoff_id}", api.read)
    v1.router.add_delete("/handoffs/{handoff_id}", api.cancel)
    document = openapi_document()

    async def describe(request: web.Request) -> web.Response:
        return web.json_response(document)

    return v1, [web.get(OPENAPI_PATH, describe)]
