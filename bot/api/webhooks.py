"""Webhook signatures: HMAC-SHA256 of the raw body with the workspace secret, in ``X-Koji-Signature``.

The exact encoding Koji uses is not public, so both ``<hex>`` and ``sha256=<hex>`` are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

SIGNATURE_HEADER = "X-Koji-Signature"


def sign_webhook(secret: str, body: bytes, *, style: Literal["sha256", "hex"] = "sha256") -> str:
    """The signature header value for ``body``: ``sha256=<hex>`` (or bare ``<hex>``)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}" if style == "sha256" else digest


def verify_webhook_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of the raw ``body`` (constant-time comparison)."""
    if not header or not secret:
        return False
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.lower(), expected)
