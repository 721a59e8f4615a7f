"""Logging for the commands: one line per record, safe for a terminal; tracebacks only at DEBUG.

A runtime fault is logged as one line ending in ``(ErrorType: what it said)``; with ``LOG_LEVEL=DEBUG`` the
whole traceback follows. Every line goes through :func:`bot.core.safe_text.printable`, so text that came
from outside (a respondent's words, an API's error body) cannot drive the terminal that shows the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.core.safe_text import printable

__all__ = ["PAYLOAD_LOGGERS", "OneLineFormatter", "keep_payloads_out", "log_to_file"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Libraries whose DEBUG lines print whole platform payloads — what respondents wrote, their user ids and names.
PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt", "discord")


class OneLineFormatter(logging.Formatter):
    """``FORMAT`` with the exception as ``(Type: message)`` on the same line, unless ``tracebacks``."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__(FORMAT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not record.exc_info:
            return printable(super().format(record))
        error = record.exc_info[1]
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        if error is not None:
            said = str(error).splitlines()[0] if str(error) else ""
            line += f" ({type(error).__name__}{': ' + said if said else ''})"
        return printable(line, keep_newlines=False)


def _level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    return level if isinstance(level, int) else logging.INFO


def keep_payloads_out(level: str) -> None:
    """Personal data stays out of the log even at ``LOG_LEVEL=DEBUG``: the platform libraries log from INFO up.

    (Their DEBUG output is every request and event body. To see it while debugging the wire, set those loggers'
    level yourself, knowing the log then holds respondents' words and ids.)"""
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(_level(level), logging.INFO))


def log_to_file(level: str, path: Path) -> None:
    """Log at ``level`` to the file ``path`` (the terminal chat: nothing lands in the middle of the chat)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(OneLineFormatter(tracebacks=_level(level) <= logging.DEBUG))
    logging.basicConfig(level=_level(level), handlers=[handler], force=True)
    keep_payloads_out(level)
    logging.captureWarnings(True)  # Python's own warnings too: they would print to the terminal otherwise
