"""Encryption of session tokens at rest (Fernet from ``cryptography``), shared by every storage backend.

A token is stored as plaintext when no key is configured, or as a Fernet token when one is. Backends keep a
flag beside the stored value saying which, so a row written with encryption is never mistaken for plaintext.
No message raised here contains a token or a key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SessionTokenUnreadable(Exception):
    """A stored session token cannot be decrypted: the key is missing or is not the one it was written with."""


class InvalidEncryptionKey(ValueError):
    """The configured encryption key is not a Fernet key."""


def generate_key() -> str:
    """A new random Fernet key, as the text to put in ``TOKEN_ENCRYPTION_KEY``."""
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Turns session tokens into what is stored, and back.

    ``key`` is a Fernet key (32 url-safe base64-encoded bytes) or None for plaintext storage.
    """

    __slots__ = ("_fernet",)

    def __init__(self, key: str | None) -> None:
        self._fernet: Fernet | None = None
        if key is not None:
            try:
                self._fernet = Fernet(key.strip().encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise InvalidEncryptionKey(
                    "TOKEN_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                    "`interview-bridge doctor` can make one"
                ) from None

    def __repr__(self) -> str:
        return f"TokenCipher(encrypting={self.encrypting})"

    @property
    def encrypting(self) -> bool:
        """True when tokens are encrypted before they are stored."""
        return self._fernet is not None

    def seal(self, token: str) -> tuple[str, bool]:
        """What to store for ``token``: ``(stored_text, encrypted)``."""
        if self._fernet is None:
            return token, False
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii"), True

    def open(self, stored: str, encrypted: bool, interview_id: str, what: str = "the session token") -> str:
        """The text (a session token, a transcript line) from what was stored.

        Raises :class:`SessionTokenUnreadable` if it cannot be read.
        """
        if not encrypted:
            return stored
        if self._fernet is None:
            raise SessionTokenUnreadable(
                f"interview {interview_id}: {what} is encrypted at rest but no TOKEN_ENCRYPTION_KEY is configured"
            )
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SessionTokenUnreadable(
                f"interview {interview_id}: {what} cannot be decrypted with the configured "
                "TOKEN_ENCRYPTION_KEY (was it written with another key?)"
            ) from None
