"""Pseudonyms: what an anonymous study's interview API sees instead of the platform id, and the erasure log's key.

Both are HMAC-SHA256 of the person (platform and user id) with a per-install secret, made once and kept in
storage (scope :data:`SECRET_SCOPE`), so every instance on one database derives the same pseudonym and a database
copied elsewhere cannot be matched against platform ids without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from bot.core.store import Store

__all__ = ["CONTACT_SCOPE", "SECRET_KEY", "SECRET_SCOPE", "Pseudonyms", "erasure_hash", "person_of", "secret_of"]

#: The storage scope of the per-install secret (never searched for, never erased: it names nobody).
SECRET_SCOPE = "install"
#: Forgotten people who asked to be invited again: key the erasure hash (names nobody without the secret).
CONTACT_SCOPE = "erasure-contact"
#: The key of the per-install secret in that scope; its value is ``{"secret": "<hex>"}``.
SECRET_KEY = "privacy-secret"


def person_of(platform: str, workspace: str, user: str) -> str:
    """Who a person is for pseudonyms: Discord and terminal ids are global, Slack ids belong to a workspace."""
    return f"{platform}:{workspace}:{user}" if platform == "slack" else f"{platform}::{user}"


def _digest(secret: bytes, purpose: str, platform: str, workspace: str, user: str) -> str:
    message = f"{purpose}|{person_of(platform, workspace, user)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def erasure_hash(secret: bytes, platform: str, workspace: str, user: str) -> str:
    """The erasure log's salted hash of the person under the install's ``secret``."""
    return _digest(secret, "erasure", platform, workspace, user)


def secret_of(stored: dict[str, object]) -> bytes:
    """The secret from its stored value (``{"secret": "<hex>"}``)."""
    return bytes.fromhex(str(stored["secret"]))


class Pseudonyms:
    """Derives pseudonyms from the install's secret (made on first use)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        """The per-install secret (created and stored the first time)."""
        if self._secret is None:
            stored = await self._store.get_state(SECRET_SCOPE, SECRET_KEY)
            if stored is None:
                await self._store.put_state(SECRET_SCOPE, SECRET_KEY, {"secret": secrets.token_hex(32)})
                stored = await self._store.get_state(SECRET_SCOPE, SECRET_KEY)
            assert stored is not None
            self._secret = secret_of(stored)
        return self._secret

    async def external_id(self, platform: str, workspace: str, user: str) -> str:
        """The respondent id an anonymous study's API gets: stable per person, meaningless without the secret."""
        return "anon-" + _digest(await self.secret(), "respondent", platform, workspace, user)[:32]

    async def erasure(self, platform: str, workspace: str, user: str) -> str:
        """The erasure log's salted hash of the person."""
        return erasure_hash(await self.secret(), platform, workspace, user)

    async def erased_among(self, platform: str, workspace: str, users: Iterable[str]) -> set[str]:
        """Which of ``users`` are in the erasure log and have not asked to be invited again since (forgotten
        people are never invited: the erasure log is a do-not-contact record until their ``/interview opt-in``)."""
        wanted = list(dict.fromkeys(users))
        if not wanted:
            return set()
        secret = await self.secret()
        hashes = {erasure_hash(secret, platform, workspace, user): user for user in wanted}
        found = await self._store.erased_of(list(hashes))
        return {hashes[erasure] for erasure in found if await self._store.get_state(CONTACT_SCOPE, erasure) is None}

    async def allow_contact(self, platform: str, workspace: str, user: str, now: float) -> bool:
        """The forgotten person asked to be invited again (``/interview opt-in``); False if they were never
        forgotten. A later erasure takes it back (:meth:`forbid_contact`)."""
        erasure = await self.erasure(platform, workspace, user)
        if await self._store.erased_at(erasure) is None:
            return False
        await self._store.put_state(CONTACT_SCOPE, erasure, {"at": now})
        return True

    async def forbid_contact(self, erasure: str) -> None:
        """An erasure: the person is not invited again, whatever they said before."""
        await self._store.put_state(CONTACT_SCOPE, erasure, None)
