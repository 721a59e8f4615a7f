"""Interactions end to end: redeliveries, someone else's click, double clicks, stale questions, the pointer
for a new top-level DM, /interview, App Home, 429s, an app removed mid-interview, Retry, and a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import test_slack_e2e as e2e
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from test_slack_e2e import ALICE, Harness, action_ids, agree, block_text, start_interview

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import SlackBudget
from adapters.slack.listeners import register_listeners
from adapters.slack.runner import make_client
from adapters.slack.wording import pointer_text
from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.i18n import catalogue
from bot.core.policy import BridgeConfig
from bot.core.store import RecordStatus
from storage.sqlite import SQLiteStore

POINTER_TEXT = pointer_text(catalogue(None))

BOB = "U0BOB0002"
harness = e2e.harness  # the end-to-end fixture


async def answer_first_question(h: Harness, thread: str) -> dict:
    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread)
    return await h.wait_for_action("ib:yes")


async def test_redelivered_events_are_handled_once(harness: Harness) -> None:
    h = harness
    sent = await h.fake.user_sends_dm(ALICE, "hi")
    assert await h.fake.redeliver(sent["event_id"]) == 200
    assert await h.fake.redeliver(sent["event_id"]) == 200
    await agree(h)
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies(thread=sent["ts"])))
    second = await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=sent["ts"])
    assert await h.fake.redeliver(second["event_id"]) == 200
    await h.wait_for_action("ib:yes")
    await h.idle()
    records = await h.store.interviews_of_user("slack", ALICE)
    assert len(records) == 1
    answers = [t.content for t in await h.store.transcript(records[0].interview_id) if t.role == "respondent"]
    assert answers == ["I am a designer"]
    assert not any(d.timed_out for d in h.fake.deliveries)


async def test_another_users_click_changes_nothing(harness: Harness) -> None:
    h = harness
    h.fake.add_user(BOB, "bob")
    thread = await start_interview(h)
    question = await answer_first_question(h, thread)
    assert await h.click(question, "ib:no", user=BOB) == 200
    await h.fake.wait_for(lambda: h.fake.ephemerals(BOB))
    assert "someone else" in h.fake.ephemerals(BOB)[-1]["text"]
    assert "ib:no" in action_ids(h.message(question["ts"]))  # still unanswered
    record = await h.store.active_interview(h.key())
    assert record is not None
    assert await h.store.pending_question(record.interview_id) is not None
    await h.click(question, "ib:yes")  # the owner still can
    await h.wait_for_action("ib:scale:3")


async def test_double_click_and_stale_question_change_nothing(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    question = await answer_first_question(h, thread)
    statuses = await asyncio.gather(h.click(question, "ib:yes"), h.click(question, "ib:no"))
    assert statuses == [200, 200]
    await h.wait_for_action("ib:scale:3")
    await h.idle()
    record = await h.store.active_interview(h.key())
    assert record is not None
    answers = [t.content for t in await h.store.transcript(record.interview_id) if t.role == "respondent"]
    assert len(answers) == 2 and answers[1] in ("Yes", "No")
    # the old yes/no message is still clickable in a stale client: nothing happens, the clicker is told
    before = len(h.fake.ephemerals(ALICE))
    await h.click(question, "ib:no")
    await h.fake.wait_for(lambda: len(h.fake.ephemerals(ALICE)) > before)
    await h.idle()
    assert [t.content for t in await h.store.transcript(record.interview_id) if t.role == "respondent"] == answers


async def test_typed_answer_makes_buttons_stale(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    question = await answer_first_question(h, thread)
    await h.fake.user_sends_dm(ALICE, "yes, mostly", thread_ts=thread)
    await h.wait_for_action("ib:scale:3")
    await h.click(question, "ib:no")
    await h.fake.wait_for(lambda: h.fake.ephemerals(ALICE))
    assert (
        "no longer open" in h.fake.ephemerals(ALICE)[-1]["text"] or "answered" in h.fake.ephemerals(ALICE)[-1]["text"]
    )


async def test_new_top_level_dm_goes_to_the_active_interview(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    elsewhere = await h.fake.user_sends_dm(ALICE, "I lead the design team")  # top level, not in the thread
    await h.wait_for_action("ib:yes")
    assert (await h.wait_for_action("ib:yes"))["thread_ts"] == thread
    await h.fake.wait_for(lambda: any(m["text"] == POINTER_TEXT for m in h.bot_replies(thread=elsewhere["ts"])))
    assert await h.thread() == thread
    records = await h.store.interviews_of_user("slack", ALICE)
    assert len(records) == 1


async def test_slash_command_start_status_stop(harness: Harness) -> None:
    h = harness
    help_answer = await h.fake.slash_command(ALICE, "/interview", "")
    assert help_answer["status"] == 200
    await h.fake.wait_for(lambda: any("/interview start" in e["text"] for e in h.fake.ephemerals(ALICE)))
    started = await h.fake.slash_command(ALICE, "/interview", "start", channel_id="C0GENERAL")
    assert started["status"] == 200 and not started["delivery"].timed_out
    await agree(h)
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies()))
    thread = await h.thread()
    anchor = h.message(thread)
    assert anchor["bot"] and "Interview" in anchor["text"]  # a command-started interview opens its own thread
    await h.fake.slash_command(ALICE, "/interview", "status")
    await h.fake.wait_for(lambda: any("in progress" in e["text"] for e in h.fake.ephemerals(ALICE)))
    await h.fake.slash_command(ALICE, "/interview", "stop")
    confirm = await h.wait_for_action("ib:act:confirm_exit")
    assert confirm["thread_ts"] == thread
    await h.click(confirm, "ib:act:confirm_exit")
    await h.record_status(RecordStatus.COMPLETED)
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.completion_reason == "respondent_left"
    # the notice's buttons are replaced by the choice, so it cannot be clicked again
    await h.fake.wait_for(lambda: "ib:act:confirm_exit" not in action_ids(h.message(confirm["ts"])))
    await h.fake.slash_command(ALICE, "/interview", "status")  # in words, not the API's reason code
    await h.fake.wait_for(lambda: any("finished (ended by you)" in e["text"] for e in h.fake.ephemerals(ALICE)))
    assert not any("respondent_left" in e["text"] for e in h.fake.ephemerals(ALICE))


async def test_app_home_lists_interviews_with_start_and_resume(harness: Harness) -> None:
    h = harness
    assert await h.fake.open_app_home(ALICE) == 200
    await h.fake.wait_for(lambda: h.fake.home_view(ALICE) is not None)
    view = h.fake.home_view(ALICE)
    assert view is not None and "ib_home:start" in action_ids(view) and "No interviews yet" in block_text(view)
    await h.fake.click_in_view(ALICE, view["id"], "ib_home:start")
    await agree(h)  # the consent text came to the DM; the interview starts on I agree
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies()))
    assert await h.fake.open_app_home(ALICE) == 200  # the Home tab shows the new state when opened again

    def resumable() -> bool:
        current = h.fake.home_view(ALICE)
        return current is not None and "ib_home:resume" in action_ids(current)

    await h.fake.wait_for(resumable)
    view = h.fake.home_view(ALICE)
    assert view is not None and "In progress" in block_text(view) and "Not anonymous" in block_text(view)
    messages_tab = f"slack://app?team={h.fake.team_id}&id={h.fake.app_id}&tab=messages"
    assert "continues in" in block_text(view) and messages_tab in block_text(view)
    record = await h.store.active_interview(h.key())
    assert record is not None
    await h.fake.click_in_view(ALICE, view["id"], "ib_home:resume", value=record.interview_id)
    thread = await h.thread()
    await h.fake.wait_for(lambda: any("Welcome back" in m["text"] for m in h.bot_replies(thread=thread)))


async def test_rate_limited_slack_calls_are_retried_and_nothing_is_lost(harness: Harness) -> None:
    h = harness
    h.fake.force_429("chat.postMessage", 1, retry_after=1)
    h.fake.force_429("chat.stopStream", 1, retry_after=1)
    thread = await start_interview(h)
    question = await answer_first_question(h, thread)
    assert question["text"].startswith("Thanks.")
    assert any(c.status == 429 for c in h.fake.calls_of("chat.stopStream"))


async def test_app_removed_mid_interview_ends_cleanly(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    h.emulator.faults.latency = 0.5  # the interviewer takes a moment: the app is removed meanwhile
    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread)
    channel = h.fake.dm_channel_of(ALICE)
    await h.fake.wait_for(lambda: len([s for s in h.fake.thread_status(channel, thread) if s]) == 2)
    h.fake.remove_app()
    await h.idle()
    record = await h.store.active_interview(h.key())
    assert record is not None and record.turns_sent == 1  # the answer reached the interview API
    h.clock.advance(601)
    await h.bridge.check_deadlines()
    await h.record_status(RecordStatus.COMPLETED)
    done = await h.store.latest_interview(h.key())
    assert done is not None and done.completion_reason == "unreachable"


async def test_failed_reply_offers_retry_and_retry_delivers_it(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    h.emulator.faults.error_rate = 1.0  # the interview service answers 503 for now
    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread)
    failed = await h.wait_for_action("ib:act:retry")
    assert failed["thread_ts"] == thread and "didn't come through" in block_text(failed)
    h.emulator.faults.error_rate = 0.0
    await h.click(failed, "ib:act:retry")
    question = await h.wait_for_action("ib:yes")
    assert question["thread_ts"] == thread
    await h.fake.wait_for(lambda: "ib:act:retry" not in action_ids(h.message(failed["ts"])))


async def test_files_only_message_is_refused_with_a_clear_note(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    await h.fake.user_sends_dm(ALICE, "", thread_ts=thread, files=1)
    await h.fake.wait_for(lambda: any("files or images" in m["text"] for m in h.bot_replies(thread=thread)))
    record = await h.store.active_interview(h.key())
    assert record is not None and record.turns_sent == 0


async def test_after_the_end_a_button_starts_a_new_interview_in_a_new_thread(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    await h.fake.user_sends_dm(ALICE, "stop", thread_ts=thread)
    confirm = await h.wait_for_action("ib:act:confirm_exit")
    await h.click(confirm, "ib:act:confirm_exit")
    await h.record_status(RecordStatus.COMPLETED)
    later = await h.fake.user_sends_dm(ALICE, "hello again")  # top level, after the end: an offer in its thread

    def offers() -> list[dict]:
        return [m for m in h.bot_replies(thread=later["ts"]) if "ib:act:new_interview" in action_ids(m)]

    await h.fake.wait_for(offers)
    await h.click(offers()[0], "ib:act:new_interview")
    await agree(h)
    await h.record_status(RecordStatus.ACTIVE)
    new_thread = await h.thread()
    assert new_thread not in (thread, later["ts"]) and h.message(new_thread)["bot"]  # the anchor message
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies(thread=new_thread)))
    assert len(await h.store.interviews_of_user("slack", ALICE)) == 2


async def test_buttons_and_threads_survive_a_restart(
    harness: Harness, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> None:
    h = harness
    thread = await start_interview(h)
    question = await answer_first_question(h, thread)
    await h.idle()
    await h.bridge.stop()  # the bot goes down; a new process starts on the same database

    store = SQLiteStore(tmp_path / "bridge.db")
    await store.open()
    api = InterviewClient(h.emulator.base_url, h.emulator.api_key)
    bridge = Bridge(api, store, BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=0.0))
    client = make_client(h.fake.bot_token, h.fake.api_url)
    app = AsyncApp(client=client, signing_secret=h.fake.signing_secret)
    budget = SlackBudget()
    register_listeners(app, bridge, SlackAdapter(client, bridge.adapter_state, budget=budget, update_interval=0.05))
    await bridge.start()
    try:
        h.fake.set_events_url(await serve_http(app.web_app()) + "/slack/events")
        await h.click(question, "ib:yes")  # a button posted before the restart
        scale = await h.wait_for_action("ib:scale:3")
        assert scale["thread_ts"] == thread
        await h.fake.wait_for(lambda: "You chose *Yes*" in block_text(h.message(question["ts"])))
        await h.fake.user_sends_dm(ALICE, "a new top-level message")  # still routed to the same interview
        await h.fake.wait_for(lambda: any(m["text"] == POINTER_TEXT for m in h.bot_replies()))
    finally:
        await bridge.stop()
        await budget.close()
        await api.aclose()
        await store.close()


async def test_two_quick_first_messages_open_one_interview_and_neither_goes_unanswered(harness: Harness) -> None:
    h = harness
    first, second = await asyncio.gather(h.fake.user_sends_dm(ALICE, "hi"), h.fake.user_sends_dm(ALICE, "hello?"))
    # the first gets the consent text, the second a reminder that nothing was sent yet (with the same buttons)
    await h.fake.wait_for(
        lambda: len([m for m in h.fake.bot_messages(first["channel"]) if "ib:act:agree" in action_ids(m)]) == 2
    )
    await agree(h)
    await h.fake.wait_for(lambda: any("Thanks for joining" in m["text"] for m in h.bot_replies()))
    await h.idle()
    thread = await h.thread()
    assert thread in (first["ts"], second["ts"])
    other = second["ts"] if thread == first["ts"] else first["ts"]
    assert [m for m in h.fake.bot_messages(first["channel"], other)], "neither message goes unanswered"
    assert len(await h.store.interviews_of_user("slack", ALICE)) == 1


async def test_a_thread_reply_also_sent_to_the_conversation_is_an_answer_too(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread, broadcast=True)  # thread_broadcast
    await h.wait_for_action("ib:yes")
    await h.idle()
    record = await h.store.active_interview(h.key())
    assert record is not None
    answers = [t.content for t in await h.store.transcript(record.interview_id) if t.role == "respondent"]
    assert answers == ["I am a designer"]


async def test_a_ranking_step_slack_refuses_to_draw_is_explained(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    for typed, next_action in (
        ("I am a designer", "ib:yes"),
        ("yes", "ib:scale:4"),
        ("4", "ib:other"),
        ("Sales", "ib:radio"),
        ("Lisbon", "ib:multi"),
        ("Slack", "ib:rank:2"),
    ):
        await h.fake.user_sends_dm(ALICE, typed, thread_ts=thread)
        question = await h.wait_for_action(next_action)
    h.fake.force_error("chat.update", "invalid_blocks")
    before = len(h.fake.ephemerals(ALICE))
    assert await h.click(question, "ib:rank:2") == 200
    await h.fake.wait_for(lambda: len(h.fake.ephemerals(ALICE)) > before)
    assert "try again" in h.fake.ephemerals(ALICE)[-1]["text"]
    await h.click(question, "ib:rank:2")  # the same click again works
    await h.fake.wait_for(lambda: "ib:rank:2" not in action_ids(h.message(question["ts"])))
