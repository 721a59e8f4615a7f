"""Splitting a reply into Discord messages (≤ 2000 characters each) without losing a character."""

from __future__ import annotations

#: Discord's limit on a message's content.
MESSAGE_LIMIT = 2000
#: Shown while the interviewer has not produced any text yet (Discord refuses empty content).
PLACEHOLDER = "…"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into chunks of at most ``limit`` characters whose concatenation is exactly ``text``.

    Cuts prefer a paragraph break, then a line break, then a space in the last quarter of a chunk (the
    break stays at the end of the earlier chunk), and fall back to a hard cut. Returns ``[""]`` for ``""``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        floor = limit * 3 // 4
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep, floor)
            if at != -1:
                cut = at + len(sep)
                break
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    return chunks


def without_blank_parts(chunks: list[str]) -> list[str]:
    """``chunks`` without parts that are only whitespace (Discord would show them as nothing; we would have to
    show a "…" with the reply's buttons under it). At least one part is kept."""
    kept = [chunk for chunk in chunks if chunk.strip()]
    return kept or chunks[:1]


def visible(chunk: str) -> str:
    """What to send for one chunk: Discord refuses content that is empty or only whitespace."""
    return chunk if chunk.strip() else PLACEHOLDER


def with_note(text: str, note: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` followed by a short italic note, split into messages; the text itself is kept whole."""
    suffix = f"\n\n⚠️ *{note}*" if text.strip() else f"⚠️ *{note}*"
    chunks = split_message(text, limit) if text else []
    if chunks and len(chunks[-1]) + len(suffix) <= limit:
        chunks[-1] += suffix
    else:
        chunks.extend(split_message(suffix.lstrip("\n"), limit))
    return chunks
