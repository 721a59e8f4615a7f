"""Text made safe for a terminal: control characters and ANSI escape sequences are shown, never obeyed.

Whatever reaches a terminal (the interviewer's words, a respondent's echoed line, log lines, ``doctor``) goes
through :func:`printable`, so a typed ``ESC [2J`` cannot clear the screen and no text can move the cursor,
change colours, set the window title or reverse the direction of what follows.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

#: Bidirectional overrides and isolates: they make text display in another order than it is written.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)  # ^[ for ESC, ^G for BEL, ^M for CR: as terminals show them
    if code == 0x7F:
        return "^?"
    return f"\\u{code:04x}"


def _obeyed(char: str) -> bool:
    """Would a terminal act on ``char`` instead of showing it?"""
    return unicodedata.category(char) == "Cc" or char in _BIDI or char in "\u2028\u2029"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control characters made visible (``ESC [2J`` → ``^[[2J``); newlines and tabs kept."""
    keep = "\n\t" if keep_newlines else "\t"
    return "".join(_shown(c) if _obeyed(c) and c not in keep else c for c in text)
