"""Splitting long text for Slack without losing a character."""

from __future__ import annotations

#: Longest text put in one Slack message (Slack cuts at 40,000 and advises staying under 4,000).
MESSAGE_LIMIT = 3900
#: Longest text of one ``section`` block (Slack's limit is 3,000).
SECTION_LIMIT = 3000


def cut_point(text: str, limit: int, at_least: int = 0) -> int:
    """Where to cut ``text`` so the first part is at most ``limit`` characters, preferring a natural break.

    Prefers a paragraph break, then a line break, then a space in the last two thirds of the window; else a hard
    cut. The cut is never before ``at_least`` (text that cannot be taken back, e.g. already streamed).
    """
    if len(text) <= limit:
        return len(text)
    if limit < 1:
        raise ValueError("limit must be positive")
    at_least = min(max(at_least, 0), limit)
    window = text[:limit]
    floor = limit // 3
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at >= floor and at + len(sep) >= at_least:
            return at + len(sep)
    return limit


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters; ``"".join(parts) == text`` always holds."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        at = cut_point(rest, limit)
        parts.append(rest[:at])
        rest = rest[at:]
    if rest or not parts:
        parts.append(rest)
    return parts
