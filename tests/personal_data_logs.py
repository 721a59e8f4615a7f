"""Capture every log line of a test run as the running bot writes it at ``LOG_LEVEL=DEBUG`` (text and JSON), to
search it for a respondent's words and ids. The platform fakes and the built-in interview server run in the same
process; they are not the bot, so their own lines are left out."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.logs import PAYLOAD_LOGGERS, OneLineFormatter
from bot.ops.logs import JsonFormatter, configure_logging

__all__ = ["assert_anonymous", "debug_log", "logged_text"]

#: Loggers of the stand-ins for the outside world (the fakes, the interview service), not of the bot.
NOT_THE_BOT = ("bot.emulator", "fake_slack", "fake_discord", "tests.")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(NOT_THE_BOT):
            self.records.append(record)


@contextmanager
def debug_log() -> Iterator[list[logging.LogRecord]]:
    """Logging as ``interview-bridge run`` sets it up at ``LOG_LEVEL=DEBUG``; yields the bot's records so far."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers), {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    records = _Records()
    try:
        configure_logging("DEBUG", "json", stream=io.StringIO())
        root.addHandler(records)
        yield records.records
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def logged_text(records: list[logging.LogRecord]) -> str:
    """Every record as the text and the JSON format write it (tracebacks included)."""
    text, json = OneLineFormatter(tracebacks=True), JsonFormatter()
    return "\n".join([*(text.format(r) for r in records), *(json.format(r) for r in records)])


def assert_anonymous(records: list[logging.LogRecord], respondent: dict[str, Any], *personal: str) -> None:
    """The interview service saw a pseudonym and no name; the bot logged at DEBUG, and none of ``personal``."""
    assert respondent["external_id"].startswith("anon-") and "display_name" not in respondent
    assert any(r.name.startswith("bot.core") for r in records), "the bot logged at DEBUG"
    logged = logged_text(records)
    for said in personal:
        assert said not in logged, said
