"""What the fake records about every REST call, and the error type its handlers raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """One REST call the bot made.

    ``path`` is the part after ``/api/v10`` (``/channels/123/messages``), ``route`` the spec path template it
    matched (``/channels/{channel_id}/messages``, ``None`` when no route matched), ``json`` the parsed JSON
    body (for multipart requests: the ``payload_json`` part), ``files`` the number of attached files (their bytes
    in ``file_contents``),
    ``status`` the status the fake answered, ``spec_errors`` what the OpenAPI check found in the body
    (checked on first access, so validation costs nothing while the bot is being timed or streamed).
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: int = 0
    file_contents: list[bytes] = field(default_factory=list, repr=False)  # the attached files, as sent
    status: int = 0
    at: float = 0.0
    _spec_errors: list[str] | None = field(default=None, repr=False)

    @property
    def spec_errors(self) -> list[str]:
        """Problems of the body per Discord's OpenAPI spec (empty when valid or when no route matched)."""
        if self._spec_errors is None:
            from . import spec

            self._spec_errors = [] if self.route is None else spec.validate_body(self.route, self.method, self.json)
        return self._spec_errors

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class DiscordError(Exception):
    """An error answer in Discord's shape: ``{"message", "code"[, "errors"]}`` with an HTTP status."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord would send."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid_form(field_path: str, code: str, message: str) -> DiscordError:
    """Discord's 400 / 50035 "Invalid Form Body" for one field (``field_path`` like ``content``)."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


UNKNOWN_CHANNEL = (404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
UNKNOWN_USER = (404, 10013, "Unknown User")
UNKNOWN_MEMBER = (404, 10007, "Unknown Member")
UNKNOWN_GUILD = (404, 10004, "Unknown Guild")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = (400, 40060, "Interaction has already been acknowledged.")
CANNOT_DM = (403, 50007, "Cannot send messages to this user")
EMPTY_MESSAGE = (400, 50006, "Cannot send an empty message")
NOT_AUTHOR = (403, 50005, "Cannot edit a message authored by another user")
CANNOT_IN_DM = (403, 50003, "Cannot execute action on a DM channel")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


def error(spec: tuple[int, int, str]) -> DiscordError:
    """A :class:`DiscordError` from one of the constants above."""
    return DiscordError(*spec)
