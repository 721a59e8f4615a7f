"""API key formats of both doc generations, checked without ever printing the key.

- newer docs: ``pk_live_`` followed by 32 characters (shown once, stored hashed by the service);
- older docs: ``koji_sk_…`` and ``koji_live_…``.
"""

from __future__ import annotations

import re

_KOJI_KEY = re.compile(r"(?:pk_live_[A-Za-z0-9]{32}|koji_(?:sk|live)_[A-Za-z0-9_\-]{8,})")


def clean_api_key(key: str) -> str:
    """The key without surrounding whitespace (a ``.env`` line often carries some).

    ``ValueError`` (whose message never contains the key) if it is empty or holds characters an HTTP header
    cannot carry, so the mistake is reported once and clearly instead of as a protocol error on every request.
    """
    cleaned = key.strip()
    if not cleaned:
        raise ValueError("the interview API key is empty")
    if not all(33 <= ord(char) < 127 for char in cleaned):
        raise ValueError("the interview API key contains spaces, control or non-ASCII characters")
    return cleaned


def looks_like_koji_key(key: str) -> bool:
    """Whether ``key`` has one of the documented formats (``pk_live_`` + 32 chars, ``koji_sk_…``, ``koji_live_…``)."""
    return _KOJI_KEY.fullmatch(key.strip()) is not None
