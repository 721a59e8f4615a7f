"""Several instances of one Discord bot on one PostgreSQL database share Discord's global limit (50 requests/s per
bot): each books its writes in a window every instance books in, so together they write no faster than one.

Each instance here is what ``interview-bridge run`` makes with ``DISCORD_GATEWAY=false``: a bridge on its own
connection pool to the database and an :class:`~adapters.discord.runner.InterviewBot` logged in over REST, whose
extension wires the sharing. All of them post into DMs of their own as fast as their budget lets them, against the
fake Discord, which answers 429 beyond 50 requests a second as Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fake_discord import FakeDiscord, RecordedRequest, serving

from adapters.discord.adapter import DiscordAdapter, dm_key
from adapters.discord.runner import InterviewBot
from bot.api.client import InterviewClient
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.policy import BridgeConfig
from storage.pg_budget import PostgresRequestWindow
from storage.postgres import PostgresStore

INSTANCES = 3
DMS = 15  # DMs each instance writes into
EACH = 4  # messages into each DM: within the DM's own window (5 per 5 s), so only the global limit holds them back
CONFIG = BridgeConfig(sweep_interval=3600.0)


@dataclass
class Instance:
    store: PostgresStore
    bridge: Bridge
    bot: InterviewBot

    @property
    def adapter(self) -> DiscordAdapter:
        adapter: Any = getattr(self.bot.get_cog("Interview"), "adapter", None)
        assert adapter is not None
        return adapter  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def instance(fake: FakeDiscord, dsn: str) -> AsyncIterator[Instance]:
    """One instance: its own store (connection pool) and bridge, its bot logged in over REST only."""
    store = PostgresStore(dsn)
    await store.open()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        api = await stack.enter_async_context(InterviewClient("http://127.0.0.1:9", "unused-key"))
        bridge = Bridge(api, store, CONFIG)
        bot = InterviewBot(bridge, Settings(_env_file=None))  # type: ignore[call-arg]
        await stack.enter_async_context(bot)
        await bot.login(fake.token)  # runs setup_hook: the extension loads, with the bot's user known
        yield Instance(store, bridge, bot)


def most_in_one_second(requests: list[RecordedRequest]) -> int:
    """The most requests that reached the fake within any one second."""
    times = sorted(r.at for r in requests)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_instances_together_stay_within_discords_global_limit(pg_dsn: str) -> None:
    async with serving() as fake, contextlib.AsyncExitStack() as stack:  # global limit: 50 a second, as Discord
        instances = [await stack.enter_async_context(instance(fake, pg_dsn)) for _ in range(INSTANCES)]
        assert all(one.adapter.budget.shared is not None for one in instances)
        channels: list[list[str]] = []
        for n in range(INSTANCES):
            users = [str(2000 + n * DMS + d) for d in range(DMS)]
            for user in users:
                fake.add_user(user, f"member-{user}")
            channels.append([fake.world.open_dm(user)[0].id for user in users])
        fake.requests.clear()

        async def post(adapter: DiscordAdapter, channel: str) -> None:
            key = dm_key(channel, "unused")
            for n in range(EACH):
                await adapter.send(key, f"message {n}")

        await asyncio.wait_for(
            asyncio.gather(
                *(post(one.adapter, c) for one, mine in zip(instances, channels, strict=True) for c in mine)
            ),
            120,
        )

    limited = [f"{r.method} {r.path}" for r in fake.requests if r.status == 429]
    assert limited == [], f"{len(limited)} requests answered 429"  # each instance alone would write 40 a second
    assert most_in_one_second(fake.requests) <= 50
    assert all(len(fake.bot_messages(c)) == EACH for mine in channels for c in mine)


async def test_an_unreachable_database_leaves_each_instance_its_own_budget(pg_dsn: str) -> None:
    async with serving() as fake, instance(fake, pg_dsn) as one:
        fake.add_user("3000", "member")
        channel = fake.world.open_dm("3000")[0].id
        await one.store.close()  # the database is away: the shared window cannot be reached
        await asyncio.wait_for(one.adapter.send(dm_key(channel, "3000"), "still here"), 30)
        assert [m["content"] for m in fake.bot_messages(channel)] == ["still here"]


async def test_typing_is_left_out_while_the_shared_window_is_full(pg_dsn: str) -> None:
    async with serving() as fake, instance(fake, pg_dsn) as one, instance(fake, pg_dsn) as other:
        fake.add_user("3001", "member")
        channel = fake.world.open_dm("3001")[0].id
        key = dm_key(channel, "3001")
        shared = other.adapter.budget.shared
        assert isinstance(shared, PostgresRequestWindow)
        # the other instance's writes fill the bot's window (booked to stay an hour: a slow machine changes nothing)
        window = PostgresRequestWindow(other.store.pool, shared.key, shared.limit, 3600.0)
        booked, _ = await window.take(shared.limit)
        assert len(booked) == 40
        await one.adapter.typing(key)
        assert fake.typing_count(channel) == 0
        for booking in booked:
            await window.release(booking)
        await one.adapter.typing(key)
        assert fake.typing_count(channel) == 1
