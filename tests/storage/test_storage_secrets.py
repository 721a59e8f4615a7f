"""Session tokens: encrypted at rest with a key, unreadable without it, never in logs, errors or reprs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.store import InterviewRecord
from storage.crypto import InvalidEncryptionKey, SessionTokenUnreadable, generate_key
from storage.sqlite import SQLiteStore

MakeRecord = Callable[..., InterviewRecord]
TOKEN = "sess_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def backend() -> str:
    """These tests are about the SQLite file itself (its PostgreSQL counterparts are in test_postgres_*.py)."""
    return "sqlite"


def file_bytes(db_path: Path) -> bytes:
    """The database file and its WAL, as they sit on disk."""
    wal = Path(f"{db_path}-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_without_a_key_tokens_are_plaintext_on_disk(db_path: Path, make_record: MakeRecord) -> None:
    """The check the encrypted case relies on: the raw bytes do show a plaintext token."""
    async with SQLiteStore(db_path) as store:
        await store.create_interview(make_record(session_token=TOKEN))
        assert TOKEN.encode() in file_bytes(db_path)


async def test_with_a_key_the_token_is_not_on_disk(db_path: Path, make_record: MakeRecord) -> None:
    key = generate_key()
    record = make_record(session_token=TOKEN)
    async with SQLiteStore(db_path, encryption_key=key) as store:
        await store.create_interview(record)
        record.session_token = TOKEN + "-rotated"
        await store.update_interview(record)
        assert TOKEN.encode() not in file_bytes(db_path)
        assert (await store.get_interview(record.interview_id)) == record
    assert TOKEN.encode() not in file_bytes(db_path)  # nor after the WAL is checkpointed on close

    async with SQLiteStore(db_path, encryption_key=key) as store:
        reread = await store.get_interview(record.interview_id)
        assert reread is not None and reread.session_token == TOKEN + "-rotated"
        assert await store.active_interview(record.key) == record


async def test_encrypted_token_without_the_key_is_a_clear_error(db_path: Path, make_record: MakeRecord) -> None:
    record = make_record(session_token=TOKEN)
    async with SQLiteStore(db_path, encryption_key=generate_key()) as store:
        await store.create_interview(record)

    async with SQLiteStore(db_path) as store:
        with pytest.raises(SessionTokenUnreadable, match="no TOKEN_ENCRYPTION_KEY") as missing:
            await store.get_interview(record.interview_id)
    async with SQLiteStore(db_path, encryption_key=generate_key()) as store:
        with pytest.raises(SessionTokenUnreadable, match="another key") as wrong:
            await store.unfinished_interviews()

    for error in (missing.value, wrong.value):
        assert record.interview_id in str(error)
        assert TOKEN not in str(error) and TOKEN not in repr(error)
        assert TOKEN not in "".join(traceback.format_exception(error))  # nor in a chained cause


async def test_plaintext_rows_stay_readable_once_a_key_is_set(db_path: Path, make_record: MakeRecord) -> None:
    """Turning encryption on later: old rows still read, and are encrypted when next written."""
    record = make_record(session_token=TOKEN)
    async with SQLiteStore(db_path) as store:
        await store.create_interview(record)

    async with SQLiteStore(db_path, encryption_key=generate_key()) as store:
        assert await store.get_interview(record.interview_id) == record
        await store.update_interview(record)
    assert TOKEN.encode() not in file_bytes(db_path)


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    bad = "not-a-fernet-key-but-maybe-a-secret"
    with pytest.raises(InvalidEncryptionKey) as refused:
        SQLiteStore(":memory:", encryption_key=bad)
    assert bad not in str(refused.value)
    assert "Fernet" in str(refused.value)


async def test_token_not_in_reprs(store: SQLiteStore, make_record: MakeRecord) -> None:
    record = make_record(session_token=TOKEN)
    await store.create_interview(record)
    assert TOKEN not in repr(record)
    assert TOKEN not in repr(await store.get_interview(record.interview_id))
    assert TOKEN not in repr(await store.unfinished_interviews())


async def test_token_not_logged_even_at_debug(
    db_path: Path, make_record: MakeRecord, caplog: pytest.LogCaptureFixture
) -> None:
    """aiosqlite logs each call with its parameters at DEBUG; the store keeps that logger quiet."""
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG, as with LOG_LEVEL=DEBUG
    async with SQLiteStore(db_path) as store:
        record = make_record(session_token=TOKEN)
        await store.create_interview(record)
        await store.update_interview(record)
        await store.get_interview(record.interview_id)
    assert TOKEN not in caplog.text
