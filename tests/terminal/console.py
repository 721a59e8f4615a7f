"""The demo in a real pseudo-terminal (python's ``pty``): keys go in as a person types them, output is read."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

BRIEF = Path(__file__).parents[1] / "core" / "briefs" / "every-type.yaml"


class Console:
    """``interview-bridge ARGS`` on a pty of its own (its controlling terminal: Ctrl-C and Ctrl-D work)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the command
            os.execve(sys.executable, [sys.executable, "-m", "bot", *args], env)
        self.seen = b""
        self.status: int | None = None

    def type(self, keys: str) -> None:
        """Type ``keys`` (``\\r`` is Enter, ``\\x03`` Ctrl-C, ``\\x04`` Ctrl-D)."""
        os.write(self.fd, keys.encode())

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Read until ``text`` appears after what earlier calls consumed; returns the output up to it."""
        marker = text.encode()
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {text!r} within {timeout} s; output so far:\n{self.text()}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready and not self._read():
                raise AssertionError(f"the program ended before {text!r}; output:\n{self.text()}")
        head, _, rest = self.seen.partition(marker)
        self.seen = rest
        return (head + marker).decode(errors="replace")

    def _read(self) -> bool:
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.seen += chunk
        return bool(chunk)

    def text(self) -> str:
        return self.seen.decode(errors="replace")

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the program to exit (reading what it still prints); its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                while self._read():
                    pass
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                self._read()
        raise AssertionError(f"the program did not exit within {timeout} s; output:\n{self.text()}")

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


def demo_env(state: Path, **extra: str) -> dict[str, str]:
    """The environment of a demo whose lasting folder is under ``state`` (never the developer's)."""
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_", "EMULATOR_", "LC_", "LANG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return env | {"XDG_STATE_HOME": str(state), "EMULATOR_BRIEF": str(BRIEF), "TERM": "xterm"} | extra
