"""The interview API's errors as a small typed hierarchy.

Every error carries ``status`` (the HTTP status, or ``None`` when no response came), ``code`` (the API's
error code, e.g. ``invalid_message``) and ``message`` (the server's human text, shortened). Messages never
contain API keys or session tokens: they come from the response body only, never from request headers, and
``error_from_response`` blanks out any secret the server echoed back in it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

_MAX_MESSAGE = 300
_REDACTED = "[redacted]"
_ALREADY = re.compile(r"already\s+(?:been\s+)?complete", re.IGNORECASE)


class InterviewApiError(Exception):
    """Base of every error the interview client raises."""

    default_code = "api_error"

    def __init__(self, message: str = "", *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        self.code = code or self.default_code
        self.message = (message or self.code)[:_MAX_MESSAGE]
        super().__init__(f"{self.code} ({status}): {self.message}" if status else f"{self.code}: {self.message}")


class BadRequest(InterviewApiError):
    """400: the message is empty or malformed (``invalid_message``) or a field is wrong (``invalid_request``)."""

    default_code = "invalid_request"


class Unauthorized(InterviewApiError):
    """401: the API key or the session token is missing or wrong."""

    default_code = "unauthorized"


class Forbidden(InterviewApiError):
    """403: the key lacks the permission for this endpoint (or the origin is not allowed)."""

    default_code = "forbidden"


class NotFound(InterviewApiError):
    """404: the interview (or the study/project) does not exist.

    ``route_missing`` is true when the endpoint itself does not exist (a 404 or 405 without the API's JSON
    error body): the client then tries the route of the other doc generation.
    """

    default_code = "not_found"

    def __init__(
        self, message: str = "", *, status: int | None = 404, code: str | None = None, route_missing: bool = False
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.route_missing = route_missing


class Conflict(InterviewApiError):
    """409: the interview is in a state that refuses this call (e.g. a message after the end)."""

    default_code = "conflict"


class AlreadyCompleted(Conflict):
    """409 ``already_completed``: complete was called before. ``body`` holds the server's completion data."""

    default_code = "already_completed"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = 409,
        code: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.body: dict[str, Any] = dict(body or {})


class Unprocessable(InterviewApiError):
    """422: the study has no published brief, or its configuration prevents this call."""

    default_code = "unprocessable"


class RateLimited(InterviewApiError):
    """429: too many requests; ``retry_after`` is the seconds to wait (from ``Retry-After``/``X-RateLimit-Reset``)."""

    default_code = "rate_limited"

    def __init__(
        self, message: str = "", *, status: int | None = 429, code: str | None = None, retry_after: float = 1.0
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ServerError(InterviewApiError):
    """5xx: the service failed."""

    default_code = "server_error"


class ApiUnavailable(InterviewApiError):
    """The connection failed: the request never reached the server (safe to send again)."""

    default_code = "unavailable"


class StreamBroken(InterviewApiError):
    """The reply stream broke and the reply could not be recovered.

    ``accepted`` tells whether the server took the respondent's message: ``True`` (do not send it again),
    ``False`` (it did not, a retry is safe) or ``None`` (unknown).
    """

    default_code = "stream_broken"

    def __init__(
        self, message: str = "", *, status: int | None = None, code: str | None = None, accepted: bool | None = None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.accepted = accepted


def retry_after_seconds(
    headers: Mapping[str, str], *, now: float | None = None, default: float = 1.0, max_reset_wait: float = 60.0
) -> float:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or an HTTP date) if present (the older docs),
    else ``X-RateLimit-Reset`` (unix time; the newer docs send no ``Retry-After``).

    A reset time is the server's clock: the wait it implies is capped at ``max_reset_wait`` (the 60 s window)
    so a client clock that runs behind cannot pause every conversation for hours.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    current = time.time() if now is None else now
    raw = lower.get("retry-after", "").strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - current)
            except (TypeError, ValueError, IndexError):
                pass
    reset = lower.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return default
        # A small value is "seconds from now" (some APIs do that); a big one is a unix timestamp.
        wait = value - current if value > 1_000_000_000 else value
        return min(max(0.0, wait), max_reset_wait)
    return default


def parse_error_body(raw: bytes | str) -> tuple[str | None, str]:
    """Read ``{"error": code, "message": text}`` (or the older ``{"error": "Description"}``) → (code, message)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text)
    except ValueError:
        return None, text.strip()[:_MAX_MESSAGE]
    if not isinstance(data, dict):
        return None, ""
    error = data.get("error")
    message = data.get("message")
    if isinstance(error, dict):  # {"error": {"code": ..., "message": ...}}
        message = error.get("message", message)
        error = error.get("code")
    code = str(error) if isinstance(error, str) and error else None
    if code and " " in code:  # the older format puts a description in "error"
        message, code = message or code, None
    return code, str(message or "")


_BY_STATUS: dict[int, type[InterviewApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
}


def _no_error_body(body: bytes | str) -> bool:
    """Whether an error response lacks the API's JSON ``{"error": …}`` body (a framework's plain 404/405)."""
    try:
        data = json.loads(body)
    except ValueError:
        return True
    return not (isinstance(data, dict) and "error" in data)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each (non-trivial) secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret and len(secret) >= 6 and secret in text:
            text = text.replace(secret, _REDACTED)
    return text


def error_from_response(
    status: int, body: bytes | str, headers: Mapping[str, str], *, secrets: Iterable[str] = ()
) -> InterviewApiError:
    """Turn an error response into the matching typed error (``secrets`` are blanked out of its message)."""
    code, message = parse_error_body(body)
    hidden = tuple(secrets)
    if hidden:
        message = redact(message, hidden)
        code = redact(code, hidden) if code else code
    if status == 429:
        return RateLimited(message, code=code, retry_after=retry_after_seconds(headers))
    if status == 409 and (code == "already_completed" or (code is None and _ALREADY.search(message))):
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        return AlreadyCompleted(message, code=code, body=data if isinstance(data, dict) else {})
    if status >= 500:
        return ServerError(message, status=status, code=code)
    if status in (404, 405):
        return NotFound(message, status=status, code=code, route_missing=_no_error_body(body))
    cls = _BY_STATUS.get(status, InterviewApiError)
    return cls(message, status=status, code=code)
