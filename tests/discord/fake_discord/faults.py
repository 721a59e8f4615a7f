"""Forced REST faults beyond 429s: a Discord error answer, or a connection dropped before any answer."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class ForcedFault:
    """The next ``count`` requests with ``method`` whose path matches ``path`` fail this way.

    ``status``/``code``/``message`` make a Discord JSON error; ``status == 0`` drops the connection instead
    (the client sees the server disconnect with no answer, as on a network blip).
    """

    method: str
    path: re.Pattern[str]
    count: int
    status: int = 0
    code: int = 0
    message: str = ""

    def take(self, method: str, path: str) -> bool:
        """True (and one fewer left) if this fault applies to a request."""
        if self.count > 0 and self.method == method.upper() and self.path.search(path):
            self.count -= 1
            return True
        return False


def first_fault(faults: list[ForcedFault], method: str, path: str) -> ForcedFault | None:
    """The forced fault a request meets, if any (each consumes one of its count)."""
    for fault in faults:
        if fault.take(method, path):
            return fault
    return None
