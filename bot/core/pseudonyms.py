"""Pseudonyms: what an anonymous study's interview API sees instead of the platform id, and the erasure log's key.

Both are HMAC-SHA256 of the person (platform and user id) with a per-install secret, made once and kept in
storage (scope :data:`SECRET_SCOPE`), so every instance on one database derives the same pseudonym and a database
copied elsewhere cannot be matched against platform ids without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.core.store import Store

__all__ = ["SECRET_SCOPE", "Pseudonyms", "person_of"]

#: The storage scope of the per-install secret (never searched for, never erased: it names nobody).
SECRET_SCOPE = "install"
_SECRET_KEY = "privacy-secret"


def person_of(platform: str, workspace: str, user: str) -> str:
    """Who a person is for pseudonyms: Discord and terminal ids are global, Slack ids belong to a workspace."""
    return f"{platform}:{workspace}:{user}" if platform == "slack" else f"{platform}::{user}"


class Pseudonyms:
    """Derives pseudonyms from the install's secret (made on first use)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        """The per-install secret (created and stored the first time)."""
        if self._secret is None:
            stored = await self._store.get_state(SECRET_SCOPE, _SECRET_KEY)
            if stored is None:
                await self._store.put_state(SECRET_SCOPE, _SECRET_KEY, {"secret": secrets.token_hex(32)})
                stored = await self._store.get_state(SECRET_SCOPE, _SECRET_KEY)
            assert stored is not None
            self._secret = bytes.fromhex(str(stored["secret"]))
        return self._secret

    async def _digest(self, purpose: str, platform: str, workspace: str, user: str) -> str:
        message = f"{purpose}|{person_of(platform, workspace, user)}".encode()
        return hmac.new(await self.secret(), message, hashlib.sha256).hexdigest()

    async def external_id(self, platform: str, workspace: str, user: str) -> str:
        """The respondent id an anonymous study's API gets: stable per person, meaningless without the secret."""
        return "anon-" + (await self._digest("respondent", platform, workspace, user))[:32]

    async def erasure(self, platform: str, workspace: str, user: str) -> str:
        """The erasure log's salted hash of the person."""
        return await self._digest("erasure", platform, workspace, user)
