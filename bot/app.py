"""Wiring: the settings become a store, an API client (or the built-in server) and a bridge."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from bot.api.client import InterviewClient
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.clock import Clock
from bot.core.policy import BridgeConfig
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

log = logging.getLogger("bot.app")


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else None


def bridge_config(settings: Settings) -> BridgeConfig:
    """The core's part of the settings."""
    return BridgeConfig(
        inactivity_timeout=settings.inactivity_timeout,
        inactivity_nudge=settings.inactivity_nudge,
        max_message_length=settings.max_message_length,
        exit_words=settings.exit_words,
        after_completion=settings.after_completion,
        study=settings.koji_study,
        locale=settings.koji_locale,
    )


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[InterviewClient]:
    """The API client for the configured service, or for a built-in server started for the occasion."""
    async with AsyncExitStack() as stack:
        api_key = _secret(settings.koji_api_key)
        if settings.uses_builtin_server() or api_key is None:
            brief = Path(settings.emulator_brief) if settings.emulator_brief else None
            emulator = await stack.enter_async_context(
                run_emulator(
                    EmulatorConfig(
                        brief=brief, token_rate=settings.emulator_token_rate, rate_limit=settings.koji_rate_limit
                    )
                )
            )
            log.info("no KOJI_API_KEY set: using the built-in interview server at %s", emulator.base_url)
            base_url, api_key = emulator.base_url, emulator.api_key
        else:
            base_url = settings.koji_api_url
        client = InterviewClient(base_url, api_key, rate_limit=settings.koji_rate_limit, study=settings.koji_study)
        stack.push_async_callback(client.aclose)
        yield client


@asynccontextmanager
async def open_bridge(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Bridge]:
    """A started bridge with its store and client; register adapters on it (they resume as they register)."""
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(open_client(settings))
        store = SQLiteStore(settings.database_path, encryption_key=_secret(settings.token_encryption_key))
        await store.open()
        stack.push_async_callback(store.close)
        bridge = Bridge(client, store, bridge_config(settings), clock=clock)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        yield bridge
