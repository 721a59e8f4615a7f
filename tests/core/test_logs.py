"""Log lines: one per fault (the traceback only at DEBUG), and nothing in them can drive a terminal."""

from __future__ import annotations

import io
import logging

import pytest

from bot.ops.logs import configure_logging


def _fault(level: str) -> str:
    stream = io.StringIO()
    configure_logging(level, "text", stream)
    log = logging.getLogger("bot.test")
    try:
        raise ConnectionError("the interview service hung up\nsecond line")
    except ConnectionError:
        log.exception("turn failed for %s", "\x1b[2Jmallory")
    return stream.getvalue()


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_fault_is_one_line_below_debug() -> None:
    out = _fault("INFO")
    assert out.count("\n") == 1, out
    assert "turn failed for ^[[2Jmallory (ConnectionError: the interview service hung up)" in out
    assert "Traceback" not in out and "\x1b" not in out


def test_debug_shows_the_traceback() -> None:
    out = _fault("DEBUG")
    assert "Traceback (most recent call last)" in out and "\x1b" not in out
