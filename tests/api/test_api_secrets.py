"""No secret (API key, session token, webhook secret) in any log line (text or JSON), exception message or repr."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.api.client import InterviewClient
from bot.api.errors import InterviewApiError, Unauthorized
from bot.api.models import Respondent, StatusEvent
from bot.core.bridge import Bridge
from bot.core.events import Exit, RespondentInfo, Start, UserText
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.core.request_budget import RequestBudget
from bot.core.studies import Study, StudyBook
from bot.emulator import EmulatorConfig, run_emulator
from bot.ops.logs import JsonFormatter
from storage.sqlite import SQLiteStore
from tests.core.recording import RecordingAdapter
from tests.serving import serving

from .conftest import collect

API_KEY = "pk_live_0123456789abcdef0123456789abcdef"
WEBHOOK_SECRET = "whsec_do_not_log_me_42"
LOGGERS = ("", "bot", "httpx", "httpcore", "aiohttp", "asyncio")


@pytest.fixture
async def hook_url() -> AsyncIterator[str]:
    """A webhook receiver that fails once per event, so deliveries are retried (and logged)."""
    seen: set[bytes] = set()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if body not in seen:
            seen.add(body)
            return web.Response(status=503)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with serving(app) as base:
        yield f"{base}/hook"


async def test_whole_interview_at_debug_logs_no_secret(caplog: pytest.LogCaptureFixture, hook_url: str) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    config = EmulatorConfig(
        token_rate=0,
        api_key=API_KEY,
        webhook_url=hook_url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_backoff=0.01,
        analysis_delay=0.01,
        rate_limit=1000,
    )
    texts: list[str] = []
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, API_KEY, budget=RequestBudget(1000, 60.0), backoff_base=0.001) as client,
    ):
        started = await client.start(Respondent(external_id="u-9", display_name="Kim"))
        record = emu.interview(started.interview_id)
        texts += [repr(started), str(started), repr(client), repr(emu.config), repr(record)]
        # every path that logs: a cut stream, a dropped connection, a 429, a 503, an error event
        faults = emu.faults
        for setup in (
            {"cut_stream_after_chars": 10},
            {"drop_after_accept": 1},
            {"force_429": 1, "force_429_retry_after": 0.01},
            {"error_event_after_chars": 5},
            {},
        ):
            for name, value in setup.items():
                setattr(faults, name, value)
            events = await collect(client.send(started.interview_id, started.session_token, "It was a lot at once"))
            assert isinstance(events[-1], StatusEvent)
            texts += [repr(e) for e in events]
            faults.cut_stream_after_chars = faults.error_event_after_chars = None
        faults.error_rate = 1.0
        with pytest.raises(InterviewApiError) as failed:
            await collect(client.send(started.interview_id, started.session_token, "still there?"))
        texts += [str(failed.value), repr(failed.value)]
        faults.error_rate = 0.0
        for _ in range(40):  # finish the interview for real
            events = await collect(client.send(started.interview_id, started.session_token, "Yes, mostly fine."))
            if isinstance(events[-1], StatusEvent) and events[-1].is_complete:
                break
        with pytest.raises(Unauthorized) as forged:
            await client.complete(started.interview_id, "st_live_forged_token")
        texts += [str(forged.value), repr(forged.value)]
        result = await client.complete(started.interview_id, started.session_token, reason="natural")  # type: ignore[arg-type]
        again = await client.complete(started.interview_id, started.session_token)
        texts += [repr(result), repr(again)]
        assert emu.webhooks is not None
        for _ in range(1000):  # returns as soon as all four are done; generous for a loaded machine
            if len(emu.webhooks.deliveries) >= 4 and all(d.done.is_set() for d in emu.webhooks.deliveries):
                break
            await asyncio.sleep(0.01)
        assert all(d.delivered and d.attempts == 2 for d in emu.webhooks.deliveries)  # retried, so logged
        tokens = [record.session_token for record in emu.book.interviews.values()]
    logged = caplog.text
    assert "HTTP Request" in logged and "recovering" in logged and "rate limited" in logged  # it did log
    assert "send_request_headers" in logged  # httpcore's DEBUG trace was captured too
    as_json = [JsonFormatter().format(record) for record in caplog.records]  # LOG_FORMAT=json, same records
    assert all(isinstance(json.loads(line), dict) and "\n" not in line for line in as_json)
    everything = "\n".join([logged, *as_json, *texts])
    for secret in (API_KEY, WEBHOOK_SECRET, *tokens):
        assert secret not in everything
    assert API_KEY[8:24] not in everything  # not even a part of the key


async def test_secrets_echoed_by_the_server_are_redacted() -> None:
    """A server that quotes the credentials back in its error message must not put them in our exceptions."""

    async def echo(request: web.Request) -> web.Response:
        quoted = f"{request.headers.get('Authorization')} / {request.headers.get('X-Session-Token')}"
        return web.json_response({"error": "unauthorized", "message": f"rejected {quoted}"}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    async with (
        serving(app) as base,
        InterviewClient(f"{base}/api/v1", API_KEY, budget=RequestBudget(100, 60.0)) as api,
    ):
        with pytest.raises(Unauthorized) as on_complete:
            await api.complete("int_1", "st_live_secret_session")
        with pytest.raises(Unauthorized) as on_send:
            await collect(api.send("int_1", "st_live_secret_session", "hello"))
    for caught in (on_complete.value, on_send.value):
        text = f"{caught} {caught!r} {caught.message}"
        assert "rejected Bearer [redacted] / [redacted]" in text
        assert API_KEY not in text and "st_live_secret_session" not in text


async def test_an_anonymous_interview_at_debug_logs_none_of_the_respondents_words_or_ids(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Personal data too: the respondent's words, platform id and name appear in no log line of the bot.

    (The built-in interview server runs in this process as the interview service; it is not the bot, so its own
    log lines are left out.)
    """
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    words = ["Quentin-from-payroll shouts at standups", "the Zeppelin room is always booked", "Yes"]
    user, name = "U0SECRETID7", "Kimberly Quasar"
    key = ConversationKey("slack", "T0WORKSPACE", "D0SECRETDM", user)
    book = StudyBook((Study("pulse", "Team pulse", anonymous=True, min_responses=3),))
    config = EmulatorConfig(token_rate=0, api_key=API_KEY, analysis_delay=0.01, rate_limit=1000)
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, API_KEY, budget=RequestBudget(1000, 60.0), backoff_base=0.001) as client,
    ):
        store = SQLiteStore(tmp_path / "bot.db")
        await store.open()
        bridge = Bridge(client, store, BridgeConfig(), studies=book)
        adapter = RecordingAdapter()
        adapter.platform = "slack"
        bridge.register(adapter)
        await bridge.start()
        try:
            who = RespondentInfo(external_id=user, display_name=name, locale="en")
            await bridge.handle(Start(key, who, "pulse"))
            await bridge.handle(UserText(key, "I agree", who))
            await bridge.wait_until_idle(key)
            for said in words:
                await bridge.handle(UserText(key, said, who))
                await bridge.wait_until_idle(key)
            await bridge.handle(Exit(key, confirmed=True, actor=user))
            await bridge.wait_until_idle(key)
            [record] = emu.book.interviews.values()
            assert record.respondent["external_id"].startswith("anon-") and "display_name" not in record.respondent
        finally:
            await bridge.stop()
            await store.close()
    ours = [r for r in caplog.records if not r.name.startswith("bot.emulator")]
    assert any(r.name.startswith("bot.core") for r in ours) and any(r.name.startswith("httpx") for r in ours)
    logged = "\n".join([*(caplog.handler.format(r) for r in ours), *(JsonFormatter().format(r) for r in ours)])
    for personal in (*words[:2], user, name, "D0SECRETDM"):
        assert personal not in logged, personal
