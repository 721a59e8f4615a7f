"""The runner: Socket Mode (envelopes over the fake's WebSocket, reconnects) and HTTP mode (the bot's own aiohttp
server, signed requests), each with the real Bolt app, the bridge and the built-in interview server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack

from adapters.slack.runner import start_slack
from bot.api.client import InterviewClient
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.policy import BridgeConfig
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

ALICE = "U0ALICE01"


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    async with run_emulator(EmulatorConfig(token_rate=3000.0)) as emulator:
        store = SQLiteStore(tmp_path / "bridge.db")
        await store.open()
        api = InterviewClient(emulator.base_url, emulator.api_key)
        core = Bridge(api, store, BridgeConfig())
        await core.start()
        yield core
        await core.stop()
        await api.aclose()
        await store.close()


def settings(fake: FakeSlack, **extra: object) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=fake.bot_token,
        slack_api_url=fake.api_url,  # type: ignore[call-arg]
        **extra,
    )


async def greeted(fake: FakeSlack, thread: str, count: int = 1) -> None:
    channel = fake.dm_channel_of(ALICE)
    await fake.wait_for(
        lambda: len([m for m in fake.bot_messages(channel, thread) if m["ts"] != thread]) >= count,
        timeout=10,
    )


async def test_socket_mode_by_default_and_survives_reconnects(fake_slack: FakeSlack, bridge: Bridge) -> None:
    runner = await start_slack(settings(fake_slack, slack_app_token=fake_slack.app_token), bridge)
    try:
        assert runner.socket_mode
        await fake_slack.wait_for(lambda: fake_slack.socket.connected)
        sent = await fake_slack.user_sends_dm(ALICE, "hi")
        assert sent["delivery"].transport == "socket" and sent["status"] == 200
        await greeted(fake_slack, sent["ts"])

        await fake_slack.socket.request_reconnect()  # Slack's "disconnect" message: the client reconnects
        await fake_slack.wait_for(lambda: fake_slack.socket.connects >= 2 and fake_slack.socket.connected)
        again = await fake_slack.user_sends_dm(ALICE, "I run the support team", thread_ts=sent["ts"])
        assert again["status"] == 200
        await greeted(fake_slack, sent["ts"], count=2)
    finally:
        await runner.stop()


async def test_socket_mode_comes_back_after_the_connection_drops(fake_slack: FakeSlack, bridge: Bridge) -> None:
    runner = await start_slack(settings(fake_slack, slack_app_token=fake_slack.app_token), bridge)
    try:
        await fake_slack.wait_for(lambda: fake_slack.socket.connected)
        await fake_slack.socket.drop_all()  # a network blip: no "disconnect" message, the socket just closes
        await fake_slack.wait_for(lambda: fake_slack.socket.connects >= 2 and fake_slack.socket.connected, timeout=15)
        sent = await fake_slack.user_sends_dm(ALICE, "hi")
        assert sent["delivery"].transport == "socket" and sent["status"] == 200
        await greeted(fake_slack, sent["ts"])
    finally:
        await runner.stop()


async def test_http_mode_serves_signed_requests_on_its_own_server(fake_slack: FakeSlack, bridge: Bridge) -> None:
    config = settings(fake_slack, slack_signing_secret=fake_slack.signing_secret, slack_http_port=0)
    runner = await start_slack(config, bridge, host="127.0.0.1")
    try:
        assert not runner.socket_mode and runner.port
        fake_slack.set_events_url(f"http://127.0.0.1:{runner.port}/slack/events")
        fake_slack.forge_signature = True
        forged = await fake_slack.user_sends_dm(ALICE, "hi")
        assert forged["status"] == 401  # not from Slack: refused, nothing started
        fake_slack.forge_signature = False
        sent = await fake_slack.user_sends_dm(ALICE, "hi")
        assert sent["status"] == 200
        await greeted(fake_slack, sent["ts"])
        assert len(fake_slack.bot_messages(fake_slack.dm_channel_of(ALICE), forged["ts"])) == 0
    finally:
        await runner.stop()


async def stored_texts(bridge: Bridge, interview_id: str) -> list[str]:
    """What the bot holds of the respondent's messages: queued, in flight, or already taken by the API."""
    queued = [message.content for message in await bridge.store.queued_messages(interview_id)]
    turn = await bridge.store.turn_in_flight(interview_id)
    details = await bridge.client.get(interview_id)
    sent = [entry.content for entry in details.transcript if entry.role == "respondent"]
    return [*queued, *([turn.content] if turn is not None else []), *sent]


async def test_http_mode_acknowledges_a_dm_only_once_it_is_stored(fake_slack: FakeSlack, bridge: Bridge) -> None:
    """Slack never resends an acknowledged event: whatever the process does after the acknowledgement (even
    being killed), the message is already in the store, so nothing the respondent wrote is lost."""
    config = settings(fake_slack, slack_signing_secret=fake_slack.signing_secret, slack_http_port=0)
    runner = await start_slack(config, bridge, host="127.0.0.1")
    try:
        fake_slack.set_events_url(f"http://127.0.0.1:{runner.port}/slack/events")
        sent = await fake_slack.user_sends_dm(ALICE, "hi")
        assert sent["status"] == 200
        consents = await bridge.store.consents_of("slack", fake_slack.team_id, ALICE)
        assert [c.decision.value for c in consents] == ["asked"], "acknowledged before the consent text was stored"
        channel = fake_slack.dm_channel_of(ALICE)
        await fake_slack.wait_for(lambda: any("ib:act:agree" in str(m) for m in fake_slack.bot_messages(channel)))
        consent = next(m for m in fake_slack.bot_messages(channel) if "ib:act:agree" in str(m))
        assert await fake_slack.click(ALICE, channel, consent["ts"], "ib:act:agree") == 200
        await greeted(fake_slack, sent["ts"], count=2)  # the consent text, then the opening
        interviews = await bridge.store.interviews_of_user("slack", ALICE)
        assert len(interviews) == 1, "the interview starts on I agree"
        for number in range(3):  # each answer is checked the moment its acknowledgement arrives
            answer = f"I run the support team, answer {number}"
            again = await fake_slack.user_sends_dm(ALICE, answer, thread_ts=sent["ts"])
            assert again["status"] == 200
            assert answer in await stored_texts(bridge, interviews[0].interview_id), "acknowledged, not stored"
            await greeted(fake_slack, sent["ts"], count=number + 2)
    finally:
        await runner.stop()


def test_neither_token_nor_secret_is_a_clear_error(fake_slack: FakeSlack) -> None:
    from adapters.slack.runner import make_app

    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        make_app(Settings(_env_file=None))  # type: ignore[call-arg]


async def test_socket_mode_a_connection_lost_after_the_acknowledgement_loses_nothing(
    fake_slack: FakeSlack, bridge: Bridge
) -> None:
    """Over Socket Mode too, a DM is acknowledged once stored, and its turn runs in the background, on no
    connection: when the connection dies right after the acknowledgement (Slack never resends an acknowledged
    envelope), the answer still reaches the interview once and its reply is shown."""
    fake_slack.auto_retries = 3  # like Slack: an envelope not acknowledged would come again
    runner = await start_slack(settings(fake_slack, slack_app_token=fake_slack.app_token), bridge)
    try:
        await fake_slack.wait_for(lambda: fake_slack.socket.connected)
        sent = await fake_slack.user_sends_dm(ALICE, "hi")
        channel = fake_slack.dm_channel_of(ALICE)
        await fake_slack.wait_for(lambda: any("ib:act:agree" in str(m) for m in fake_slack.bot_messages(channel)))
        consent = next(m for m in fake_slack.bot_messages(channel) if "ib:act:agree" in str(m))
        assert await fake_slack.click(ALICE, channel, consent["ts"], "ib:act:agree") == 200
        await greeted(fake_slack, sent["ts"], count=2)
        [interview] = await bridge.store.interviews_of_user("slack", ALICE)

        answer = await fake_slack.user_sends_dm(ALICE, "I run the support team", thread_ts=sent["ts"])
        assert answer["status"] == 200 and answer["delivery"].transport == "socket"
        await fake_slack.socket.drop_all()  # the connection dies the moment the acknowledgement arrived
        assert "I run the support team" in await stored_texts(bridge, interview.interview_id)
        await greeted(fake_slack, sent["ts"], count=3)  # the reply to the answer, over a connection long gone
        await bridge.wait_until_idle(interview.key)
        details = await bridge.client.get(interview.interview_id)
        said = [entry.content for entry in details.transcript if entry.role == "respondent"]
        assert said == ["I run the support team"]
        assert [d.status for d in fake_slack.deliveries if d.payload.get("event_id") == answer["event_id"]] == [200]
    finally:
        await runner.stop()
