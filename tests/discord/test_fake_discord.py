"""Tests of the fake Discord itself, driven by the real discord.py client over loopback."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from fake_discord import FakeDiscord, running_client

ADA = "100000000000000001"
BOB = "100000000000000002"
GUILD = "200000000000000001"


def make_client(**kwargs: Any) -> discord.Client:
    """A plain discord.py client with default intents (no privileged ones), ready without a 2 s wait."""
    return discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05, **kwargs)


class EchoClient(discord.Client):
    """Answers a DM with a placeholder, then edits it — the shape of a streamed reply."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.received: list[discord.Message] = []
        self.own_seen: list[int] = []

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.user.id:  # type: ignore[union-attr]
            self.own_seen.append(message.id)
            return
        self.received.append(message)
        async with message.channel.typing():
            reply = await message.channel.send("…")
        await reply.edit(content=f"you said: {message.content}")


async def test_connects_and_logs_in(fake_discord: FakeDiscord) -> None:
    client = make_client()
    async with running_client(client, fake_discord):
        assert client.user is not None
        assert str(client.user.id) == fake_discord.bot_user_id
        assert str(client.application_id) == fake_discord.application_id
    paths = [r.path for r in fake_discord.requests]
    assert "/users/@me" in paths
    assert fake_discord.gateway.stats.identifies == 1
    assert fake_discord.gateway.stats.heartbeats >= 1
    fake_discord.assert_no_spec_errors()


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_dm_in_reply_out_and_edit(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = EchoClient()
    async with running_client(client, fake_discord):
        sent = await fake_discord.user_sends_dm(ADA, "hello bot")
        channel_id = sent["channel_id"]
        assert fake_discord.dm_channel_of(ADA) == channel_id

        def replied() -> bool:
            bot = fake_discord.bot_messages(channel_id)
            return len(bot) == 1 and bot[0]["content"] == "you said: hello bot"

        await fake_discord.wait_for(replied)
        got = client.received[0]
        assert isinstance(got.channel, discord.DMChannel)
        assert got.guild is None
        assert got.content == "hello bot"
        assert str(got.author.id) == ADA
        reply = fake_discord.bot_messages(channel_id)[0]
        assert reply["edits"] == 1
        assert fake_discord.typing_count(channel_id) >= 1
        # the bot sees its own DM message too, as on Discord
        await fake_discord.wait_for(lambda: int(reply["id"]) in client.own_seen)
    fake_discord.assert_no_spec_errors()


async def test_closed_dms_answer_50007(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(BOB, "bob", dms_open=False)
    client = make_client()
    async with running_client(client, fake_discord):
        user = await client.fetch_user(int(BOB))
        channel = await user.create_dm()
        with pytest.raises(discord.Forbidden) as caught:
            await channel.send("hi")
        assert caught.value.code == 50007
        fake_discord.set_dms_open(BOB, True)
        await channel.send("hi again")
    assert [m["content"] for m in fake_discord.messages(str(channel.id))] == ["hi again"]
