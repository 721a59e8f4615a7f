"""Bolt plumbing against the fake Slack: the middleware's context, and @app.error answering the person."""

from __future__ import annotations

import test_slack_e2e as e2e
from test_slack_e2e import ALICE, Harness, start_interview

from adapters.slack.plumbing import user_of

harness = e2e.harness  # the end-to-end fixture

FAILED = "Something went wrong on my side. Please try again in a moment."


async def test_a_dm_whose_listener_fails_gets_a_plain_answer(harness: Harness) -> None:
    h = harness
    await start_interview(h)
    await h.idle()
    await h.store.close()  # the database goes away under the running app
    try:
        await h.fake.user_sends_dm(ALICE, "are you still there?")
        await h.fake.wait_for(lambda: any(e["text"] == FAILED for e in h.fake.ephemerals(ALICE)))
    finally:
        await h.store.open()
    assert not any("Traceback" in e["text"] for e in h.fake.ephemerals(ALICE))


async def test_a_command_whose_listener_fails_answers_through_its_response_url(harness: Harness) -> None:
    h = harness
    await start_interview(h)
    await h.idle()
    await h.store.close()
    try:
        answer = await h.fake.slash_command(ALICE, "/interview", "status")
        assert answer["status"] == 200  # acknowledged at once; the failure comes after the ack
        await h.fake.wait_for(lambda: any(e["text"] == FAILED for e in h.fake.ephemerals(ALICE)))
    finally:
        await h.store.open()


async def test_the_middleware_reads_who_acts_from_every_kind_of_payload() -> None:
    dm = {"type": "event_callback", "event": {"type": "message", "user": "U1", "channel": "D1", "channel_type": "im"}}
    own = {"type": "event_callback", "event": {"type": "message", "user": "U0", "bot_id": "B1"}}
    click = {"type": "block_actions", "user": {"id": "U2", "team_id": "T1"}}
    command = {"command": "/interview", "user_id": "U3", "team_id": "T1"}
    thread = {
        "type": "event_callback",
        "event": {"type": "assistant_thread_started", "assistant_thread": {"user_id": "U4"}},
    }
    assert [user_of(b) for b in (dm, own, click, command, thread)] == ["U1", None, "U2", "U3", "U4"]
