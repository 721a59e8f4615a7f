"""Persistence of interviews, turns, questions, seen platform events and the transcript mirror.

The core depends on :class:`bot.core.store.Store` only; :class:`storage.sqlite.SQLiteStore` is the default backend.
"""

from bot.core.store import (
    ActiveInterviewExists,
    InterviewRecord,
    QueuedMessage,
    RecordStatus,
    Store,
    StoredQuestion,
    TranscriptLine,
    Turn,
    UnknownInterview,
)
from storage.crypto import InvalidEncryptionKey, SessionTokenUnreadable, generate_key
from storage.migrations import SchemaTooNew
from storage.sqlite import SQLiteStore

__all__ = [
    "ActiveInterviewExists",
    "InterviewRecord",
    "InvalidEncryptionKey",
    "QueuedMessage",
    "RecordStatus",
    "SQLiteStore",
    "SchemaTooNew",
    "SessionTokenUnreadable",
    "Store",
    "StoredQuestion",
    "TranscriptLine",
    "Turn",
    "UnknownInterview",
    "generate_key",
]
