"""LOG_FORMAT=json: one JSON object per line, the interview's id, study and platform as fields, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_discord import serving as discord_serving
from ops_helpers import until_status
from test_ops_health import ADA, discord_settings, running
from test_ops_metrics import said

from bot.ops.logs import JsonFormatter, configure_logging
from storage.sqlite import SQLiteStore
from tests.serving import free_port

ENCRYPTION_KEY = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk="


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log record (DEBUG and up) also written as JSON lines into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_json_lines_name_the_interview_and_hold_no_secret(tmp_path: Path, json_lines: io.StringIO) -> None:
    async with discord_serving() as fake:
        fake.add_user(ADA, "ada")
        settings = discord_settings(fake, tmp_path, free_port()).model_copy(
            update={"token_encryption_key": ENCRYPTION_KEY}
        )
        async with running(settings) as base:
            await until_status(f"{base}/readyz", 200)
            await fake.user_sends_dm(ADA, "hi")
            await said(fake, "Before we start")
            await fake.user_sends_dm(ADA, "I agree")
            await said(fake, "Hi ada")
            await fake.user_sends_dm(ADA, "My friend told me about it")
            await said(fake, "?", count=2)
        store = SQLiteStore(tmp_path / "bot.db", encryption_key=ENCRYPTION_KEY)
        await store.open()
        try:
            (record,) = await store.interviews_of_user("discord", ADA)
        finally:
            await store.close()
        secrets = [fake.token, record.session_token, ENCRYPTION_KEY]

    lines = json_lines.getvalue().splitlines()
    assert len(lines) > 20
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in parsed)
    about = [e for e in parsed if e.get("interview_id") == record.interview_id]
    assert any("interview started" in e["message"] for e in about)
    assert any(e["logger"] == "httpx" for e in about)  # the API calls made inside a turn carry the fields too
    assert all(e["study"] == "default" and e["platform"] == "discord" for e in about)
    text = "\n".join(lines)
    for secret in secrets:
        assert secret and secret not in text


def test_configure_logging_text_by_default_json_on_request() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        out = io.StringIO()
        configure_logging("INFO", "text", out)
        logging.getLogger("bot.test").info("plain %s", "text")
        assert out.getvalue().rstrip().endswith("INFO bot.test: plain text")
        out = io.StringIO()
        configure_logging("DEBUG", "json", out)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bot.test").exception("failed", extra={"code": 7, "api_token": "t0p-secret"})
        entry = json.loads(out.getvalue())
        assert entry["message"] == "failed" and entry["code"] == 7 and "ValueError: boom" in entry["error"]
        assert "api_token" not in entry and "t0p-secret" not in out.getvalue()  # secret-named fields are dropped
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
