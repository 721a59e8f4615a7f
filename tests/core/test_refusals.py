"""Errors that waiting cannot fix are not answered with "try again in a moment"."""

from __future__ import annotations

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.events import OutcomeKind
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore

from .conftest import CONFIG
from .helpers import key_of, start_consented
from .recording import RecordingAdapter


async def test_a_refused_api_key_does_not_ask_the_respondent_to_wait(
    emulator: Emulator, store: SQLiteStore, clock: ManualClock, adapter: RecordingAdapter
) -> None:
    async with InterviewClient(emulator.base_url, "pk_live_not_a_key_it_knows", max_retries=0) as refused:
        bridge = Bridge(refused, store, CONFIG, clock=clock)
        bridge.register(adapter)
        key = key_of("r1")
        outcome = await start_consented(bridge, key)
        assert outcome.kind is OutcomeKind.FAILED
        said = outcome.message or ""
        assert "did not accept the bot's access key" in said and "please let them know" in said
        assert "in a moment" not in said
        failed = adapter.replies_of(key)[-1].failed
        assert failed is not None and "in a moment" not in failed.text


async def test_a_busy_or_unreachable_service_still_says_try_again(
    store: SQLiteStore, clock: ManualClock, adapter: RecordingAdapter
) -> None:
    async with InterviewClient("http://127.0.0.1:9/api/v1", "pk_live_x", max_retries=0, backoff_base=0.01) as down:
        bridge = Bridge(down, store, CONFIG, clock=clock)
        bridge.register(adapter)
        outcome = await start_consented(bridge, key_of("r2"))
        assert outcome.kind is OutcomeKind.FAILED and "Try again in a moment" in (outcome.message or "")
