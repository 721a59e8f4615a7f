"""Which interview a log line is about: interview id, study and platform, as fields of the running task.

The core sets them around the work on one conversation (:func:`about`, then :func:`note` once the interview
is known); a log formatter (``LOG_FORMAT=json``) reads them with :func:`current`. Only ids and labels go here
— never a token or a message text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["about", "current", "note"]

_fields: ContextVar[dict[str, str] | None] = ContextVar("interview_log_fields", default=None)


@contextmanager
def about(platform: str, interview_id: str | None = None, study: str | None = None) -> Iterator[None]:
    """Log lines written inside the block carry ``platform`` (and the interview's id and study once known)."""
    token = _fields.set({"platform": platform})
    if interview_id is not None:
        note(interview_id, study)
    try:
        yield
    finally:
        _fields.reset(token)


def note(interview_id: str, study: str | None) -> None:
    """The block's work is about this interview (no-op outside :func:`about`)."""
    fields = _fields.get()
    if fields is not None:
        fields["interview_id"] = interview_id
        fields["study"] = study or "default"


def current() -> dict[str, str]:
    """The fields of the interview the running code is about (empty outside one)."""
    return dict(_fields.get() or {})
