"""Logging set-up: plain text (the default) or ``LOG_FORMAT=json``, one JSON object per line.

A text line is one line per record, terminal-safe, with a fault as ``(ErrorType: message)``; the traceback
follows only at ``LOG_LEVEL=DEBUG`` (:class:`bot.logs.OneLineFormatter`).

A JSON line has ``time``, ``level``, ``logger``, ``message``, the interview's ``interview_id``, ``study`` and
``platform`` when the line is about one (:mod:`bot.core.logfields`), simple ``extra=`` fields, and ``error``
(the traceback) when there is one. Fields whose names speak of secrets are never written; the messages
themselves are as safe as the text format's (the code never logs a secret). At every level, the platform
libraries log from INFO up (:func:`bot.logs.keep_payloads_out`): their DEBUG lines are whole payloads.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bot.core import logfields
from bot.logs import OneLineFormatter, keep_payloads_out

__all__ = ["JsonFormatter", "configure_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Attributes every LogRecord has: not copied as extra fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
_SECRET_NAME = re.compile(r"token|secret|key|password|authorization|cookie|signature", re.IGNORECASE)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(logfields.current())
        for name, value in record.__dict__.items():
            if name in _STANDARD or name.startswith("_") or name in line or _SECRET_NAME.search(name):
                continue
            if isinstance(value, str | int | float | bool) or value is None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["error"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log line to ``stream`` (stderr) at ``level``, as text or JSON. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    tracebacks = getattr(logging, level.upper(), logging.INFO) <= logging.DEBUG
    handler.setFormatter(JsonFormatter() if log_format == "json" else OneLineFormatter(tracebacks=tracebacks))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    keep_payloads_out(level)
    return handler
