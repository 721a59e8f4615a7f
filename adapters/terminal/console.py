"""What the terminal chat needs from its console: lines read without blocking a stop, the person's locale.

Lines are read on a daemon thread, so Ctrl-C ends the chat at once even while a read is waiting (a read in
asyncio's default executor would hold the process until Enter). On a terminal, Ctrl-D ends only the line
being read and reading goes on; on a pipe the end of input is final.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping
from typing import TextIO

from babel.core import Locale, UnknownLocaleError

from bot.core import language_of

__all__ = ["TERMINAL_LINE_LIMIT", "LineReader", "terminal_locale"]

#: The longest line a terminal in canonical mode passes on (Linux's N_TTY_BUF_SIZE is 4096, newline included):
#: a typed or pasted line this long may have been cut by the terminal itself.
TERMINAL_LINE_LIMIT = 4095


class LineReader:
    """Lines of ``stream`` as they come; ``None`` for the end of input (Ctrl-D on a terminal, EOF of a pipe)."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name="terminal-input", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                line = self._stream.readline()
            except (OSError, ValueError):  # the console went away
                line = ""
            try:
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line or None)
            except RuntimeError:  # the loop is closed: the chat is over
                return
            if not line and not self._interactive:
                return

    async def readline(self) -> str | None:
        """The next line without its line ending, or ``None`` at the end of input."""
        line = await self._lines.get()
        return None if line is None else line.rstrip("\r\n")


def terminal_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The person's locale from ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG`` (``de_DE.UTF-8`` → ``de-DE``).

    ``C`` and ``POSIX`` (no language chosen) give ``None``, and so do names that are neither a language the
    bot has a catalogue for nor one Babel knows.
    """
    env = os.environ if environ is None else environ
    value = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    name = value.split(".", 1)[0].split("@", 1)[0].strip()
    if not name or name.upper() in ("C", "POSIX"):
        return None
    if language_of(name) != "en" or name.lower().startswith("en"):  # a language the bot has a catalogue for
        return name.replace("_", "-")
    try:
        locale = Locale.parse(name.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language
