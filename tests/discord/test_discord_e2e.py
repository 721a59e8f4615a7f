"""End to end: fake Discord ⇄ real discord.py ⇄ the adapter ⇄ Bridge ⇄ InterviewClient ⇄ built-in server.

A member DMs the bot and answers every question type through real component interactions; the interview
survives a bot restart with a question pending; slash commands and the moderator's Start button open DMs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_helpers import ADA, BOB, GUILD, MOD, Stack, answered, custom_ids, discord_stack, first_id, labels

from adapters.discord import ids
from bot.core import EndReason
from bot.core.store import RecordStatus


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        yield built


async def test_dm_interview_with_every_question_type(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you to the server?")
    await stack.fake.wait_for(lambda: ids.action_id("end") in custom_ids(stack.dm(ADA)[-1]))
    assert "Before we start" in stack.dm(ADA)[0]["content"], "the consent text comes first"
    assert "Hi ada! GREETING" in stack.dm(ADA)[1]["content"]
    await stack.fake.user_sends_dm(ADA, "My friends are here")

    yes_no = await stack.question(ADA, "yn")
    yes = first_id(yes_no, "ib:a:", ":y")
    await answered(stack, await stack.click(ADA, yes_no, yes), "Yes")
    again = await stack.click(ADA, yes_no, yes, force=True)  # a double click: counted once, explained
    assert again.ephemeral and again.response_type == 4

    scale = await stack.question(ADA, "nps")
    assert [len(row["components"]) for row in scale["components"]] == [5, 5, 1, 1]
    await answered(stack, await stack.click(ADA, scale, first_id(scale, "ib:a:", ":7")), "7 / 10")

    choice = await stack.question(ADA, "src")
    opened = await stack.click(ADA, choice, first_id(choice, "ib:o:"))
    assert opened.modal is not None
    submitted = await stack.fake.submit_modal(ADA, opened, opened.modal["custom_id"], {"other": "A podcast"})
    await submitted.wait_responded(5.0)
    await answered(stack, submitted, "Other: A podcast")

    long_choice = await stack.question(ADA, "pick")
    page_two = first_id(long_choice, "ib:s:", ":1")
    await answered(stack, await stack.click(ADA, long_choice, page_two, values=["27"]), "c27")

    multi = await stack.question(ADA, "many")  # up to 10 options: a checkbox modal
    opened = await stack.click(ADA, multi, first_id(multi, "ib:mo:"))
    assert opened.modal is not None
    submitted = await stack.fake.submit_modal(ADA, opened, opened.modal["custom_id"], {"choices": ["0", "2"]})
    await submitted.wait_responded(5.0)
    await answered(stack, submitted, "Voice, Events")

    ranking = await stack.question(ADA, "rank")
    tapped = await stack.click(ADA, ranking, first_id(ranking, "ib:r:", ":2"))  # Fun first
    ranking = tapped.original_message() or {}
    assert labels(ranking)[:3] == ["1. Fun", "Speed", "Price"]
    tapped = await stack.click(ADA, ranking, first_id(ranking, "ib:r:", ":0"))  # then Speed; Price goes last
    ranking = tapped.original_message() or {}
    assert labels(ranking)[:3] == ["1. Fun", "2. Speed", "3. Price"]
    submitted = await stack.click(ADA, ranking, first_id(ranking, "ib:rs:"))
    assert submitted.response_type == 7 and "Fun" in labels(submitted.original_message())[0]

    await stack.said(ADA, "Anything else?")
    await stack.fake.user_sends_dm(ADA, "No, that's all")
    await stack.said(ADA, "That's all — thank you, ada!")
    key = stack.key(ADA)
    await stack.core.wait_until_idle(key)
    record = await stack.core.status(key)
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.end_reason is EndReason.NATURAL
    assert record.locale is None  # a DM carries no locale; the interaction-started flows pass it
    details = await stack.api.get(record.interview_id)
    said = [e.content for e in details.transcript if e.role == "respondent"]
    assert said == [
        "My friends are here",
        "Yes",
        "7 / 10",
        "Other: A podcast",
        "c27",
        "Voice, Events",
        "Ranked: 1. Fun, 2. Speed, 3. Price",
        "No, that's all",
    ]
    stack.fake.assert_no_spec_errors()


async def test_clicks_work_after_a_restart_and_stale_clicks_change_nothing(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hello")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.fake.user_sends_dm(ADA, "Curiosity")
    yes_no = await stack.question(ADA, "yn")

    await stack.shut_down()  # the bot restarts with the question pending
    await stack.boot()

    no = first_id(yes_no, "ib:a:", ":n")
    await answered(stack, await stack.click(ADA, yes_no, no), "No")
    scale = await stack.question(ADA, "nps")
    stale = await stack.click(ADA, yes_no, first_id(yes_no, "ib:a:", ":y"), force=True)
    assert stale.ephemeral and "nothing changed" in stale.all_texts()[0].lower()
    assert labels(stack.fake.world.find_message(yes_no["id"])) == ["✓ No"]  # the answered message is untouched
    theirs = await stack.click(MOD, scale, first_id(scale, "ib:a:", ":3"), force=True)  # someone else's click
    assert theirs.ephemeral
    assert custom_ids(stack.fake.world.find_message(scale["id"])) == custom_ids(scale)
    stack.fake.assert_no_spec_errors()


async def test_slash_commands_open_the_dm_with_the_interaction_locale(stack: Stack) -> None:
    started = await stack.fake.slash_command(
        ADA, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD, locale="de"
    )
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)
    assert started.ephemeral and "DMs" in started.all_texts()[-1]
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.locale == "de"
    details = await stack.api.get(record.interview_id)
    assert details.metadata["guild_name"] == "Pixel Forge" and details.metadata["discord_user"] == "ada"

    status = await stack.fake.slash_command(
        ADA, "interview", [{"type": 1, "name": "status", "options": []}], guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(status.followups))
    assert "in progress" in status.all_texts()[-1]
    stop = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "stop", "options": []}])
    await stack.fake.wait_for(lambda: bool(stop.followups), timeout=10.0)
    assert "ended" in stop.all_texts()[-1]
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.end_reason is EndReason.RESPONDENT_LEFT
    stack.fake.assert_no_spec_errors()


async def test_closed_dms_get_a_how_to_and_nothing_half_started(stack: Stack) -> None:
    started = await stack.fake.slash_command(
        BOB, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)
    assert started.ephemeral and "Privacy Settings" in started.all_texts()[-1]
    assert await stack.store.interviews_of_user("discord", BOB) == []
    assert len(stack.fake.requests_to("POST", r"/channels/\d+/messages$")) == 1  # tried once, no retry loop


async def test_moderator_start_button_opens_a_dm(stack: Stack) -> None:
    posted = await stack.fake.slash_command(MOD, "interview-button", [], guild_id=GUILD)
    await posted.wait_responded(5.0)
    button_message = posted.original_message()
    assert button_message is not None and not posted.ephemeral
    start = first_id(button_message, "ib:go:")
    clicked = await stack.click(ADA, button_message, start)
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.fake.wait_for(lambda: bool(clicked.followups))
    assert clicked.ephemeral
    assert custom_ids(stack.fake.world.find_message(button_message["id"])) == [start]  # stays for the next member


async def test_end_button_confirm_cancel_and_a_new_interview(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.reply_done(ADA)
    reply = stack.dm(ADA)[-1]
    asked = await stack.click(ADA, reply, ids.action_id("end"))
    assert asked.response_type in (6, 7) and not asked.ephemeral
    await stack.fake.wait_for(lambda: ids.action_id("confirm_exit") in custom_ids(stack.dm(ADA)[-1]))
    confirm = stack.dm(ADA)[-1]
    cancelled = await stack.click(ADA, confirm, ids.action_id("cancel_exit"))
    assert cancelled.response_type == 7 and custom_ids(cancelled.original_message()) == []  # one-shot buttons go
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.status is RecordStatus.ACTIVE

    await stack.click(ADA, reply, ids.action_id("end"))  # the End button still works on the reply
    await stack.fake.wait_for(lambda: ids.action_id("confirm_exit") in custom_ids(stack.dm(ADA)[-1]))
    confirm = stack.dm(ADA)[-1]
    assert stack.emulator is not None
    stack.router.answer_within = 0.2  # the bot defers a click the core has not decided within 0.2 s
    stack.emulator.faults.latency = 1.0  # completing takes longer than that (as if longer than Discord's 3 s)
    confirmed = await stack.click(ADA, confirm, ids.action_id("confirm_exit"))
    assert confirmed.response_type == 6
    await stack.fake.wait_for(lambda: custom_ids(stack.fake.world.find_message(confirm["id"])) == [], 10.0)
    stack.emulator.faults.latency = 0.0
    twice = await stack.click(ADA, confirm, ids.action_id("confirm_exit"), force=True)  # a double click
    assert twice.ephemeral
    record = await stack.core.status(stack.key(ADA))
    assert record is not None and record.end_reason is EndReason.RESPONDENT_LEFT

    await stack.fake.user_sends_dm(ADA, "hello again")  # after the end: offered a new interview
    await stack.fake.wait_for(lambda: ids.action_id("new_interview") in custom_ids(stack.dm(ADA)[-1]))
    offer = stack.dm(ADA)[-1]
    count = len(stack.dm(ADA))
    await stack.click(ADA, offer, ids.action_id("new_interview"))
    await stack.agree(ADA)
    await stack.fake.wait_for(lambda: any("GREETING" in m["content"] for m in stack.dm(ADA)[count:]), 10.0)
    fresh = await stack.core.status(stack.key(ADA))
    assert fresh is not None and fresh.status is RecordStatus.ACTIVE and fresh.interview_id != record.interview_id
    stack.fake.assert_no_spec_errors()


async def test_reply_that_breaks_offers_retry(stack: Stack) -> None:
    assert stack.emulator is not None
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.reply_done(ADA)
    stack.emulator.faults.error_event_after_chars = 4
    await stack.fake.user_sends_dm(ADA, "My friends are here")
    await stack.fake.wait_for(lambda: ids.action_id("retry") in custom_ids(stack.dm(ADA)[-1]), 10.0)
    broken = stack.dm(ADA)[-1]
    assert "⚠️" in broken["content"]
    stack.emulator.faults.error_event_after_chars = None
    await stack.core.wait_until_idle(stack.key(ADA))  # the buttons show a moment before the turn is put away
    retried = await stack.click(ADA, broken, ids.action_id("retry"))
    assert retried.response_type == 7 and custom_ids(retried.original_message()) == []
    await stack.question(ADA, "yn")
    stack.fake.assert_no_spec_errors()


async def test_clicks_on_unknown_or_outdated_buttons_get_an_answer(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.reply_done(ADA)
    reply = stack.dm(ADA)[-1]
    for custom_id in (ids.action_id("bogus"), "ib:zz:1", "ib:a:"):  # e.g. a button of an older/newer version
        clicked = await stack.click(ADA, reply, custom_id, force=True)
        assert clicked.ephemeral and clicked.response_type == 4, custom_id  # never "This interaction failed"
        assert "no longer" in clicked.all_texts()[0]


async def test_status_after_the_end_reads_well(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.reply_done(ADA)
    stop = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "stop", "options": []}])
    await stack.fake.wait_for(lambda: bool(stop.followups), timeout=10.0)
    status = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "status", "options": []}])
    await stack.fake.wait_for(lambda: bool(status.followups), timeout=10.0)
    text = status.all_texts()[-1]
    assert status.ephemeral and "ended" in text
    assert "_" not in text  # no raw reason such as respondent_left


async def test_start_while_the_interview_service_is_down_says_so(stack: Stack) -> None:
    assert stack.emulator is not None
    stack.emulator.faults.error_rate = 1.0  # every API request answers 503
    started = await stack.fake.slash_command(
        ADA, "interview", [{"type": 1, "name": "start", "options": []}], guild_id=GUILD
    )
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=20.0)  # not "thinking…" forever
    assert not stack.emulator.requests, "the consent text asks first: nothing was sent to the interview service"
    agreed = await stack.agree(ADA)  # the start call happens now, and fails
    await stack.fake.wait_for(lambda: bool(agreed.all_texts()), timeout=20.0)
    text = agreed.all_texts()[-1]
    assert agreed.ephemeral and "try again" in text.lower()
    assert "Traceback" not in text and "503" not in text, text


async def test_a_failing_command_still_answers_the_member(stack: Stack) -> None:
    await stack.store.close()  # the database is gone: the command fails inside
    status = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "status", "options": []}])
    await stack.fake.wait_for(lambda: bool(status.followups), timeout=10.0)  # not "thinking…" forever
    assert status.ephemeral and "try again" in status.all_texts()[-1].lower()
    await stack.store.open()


async def test_an_other_answer_typed_across_a_restart_is_taken(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hello")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.fake.user_sends_dm(ADA, "Curiosity")
    yes_no = await stack.question(ADA, "yn")
    await answered(stack, await stack.click(ADA, yes_no, first_id(yes_no, "ib:a:", ":y")), "Yes")
    scale = await stack.question(ADA, "nps")
    await answered(stack, await stack.click(ADA, scale, first_id(scale, "ib:a:", ":5")), "5 / 10")
    choice = await stack.question(ADA, "src")
    opened = await stack.click(ADA, choice, first_id(choice, "ib:o:"))
    assert opened.modal is not None

    await stack.shut_down()  # the member is still typing in the box while the bot restarts
    await stack.boot()

    submitted = await stack.fake.submit_modal(ADA, opened, opened.modal["custom_id"], {"other": "A podcast"})
    await submitted.wait_responded(5.0)
    await answered(stack, submitted, "Other: A podcast")


async def test_a_dm_the_bot_fails_to_handle_gets_a_word_back(stack: Stack) -> None:
    await stack.store.close()  # the database is gone: handling the message fails inside
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.said(ADA, "try again")  # not a silent drop
    await stack.store.open()


async def test_a_dm_sent_while_the_bot_was_down_is_taken_after_the_restart(stack: Stack) -> None:
    await stack.fake.user_sends_dm(ADA, "hello")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.core.wait_until_idle(stack.key(ADA))
    await stack.shut_down()
    await stack.fake.user_sends_dm(ADA, "Curiosity")  # no bot connected: the gateway will never replay it
    await stack.boot()
    await stack.question(ADA, "yn")  # caught up from the DM's history at READY
    await stack.fake.disconnect_gateway()  # a later reconnect does not take it twice
    await stack.fake.wait_until_identified()
    record = await stack.core.status(stack.key(ADA))
    assert record is not None
    await stack.core.wait_until_idle(stack.key(ADA))
    said = [e.content for e in (await stack.api.get(record.interview_id)).transcript if e.role == "respondent"]
    assert said == ["Curiosity"]
    stack.fake.assert_no_spec_errors()


async def test_a_dm_lost_with_an_invalidated_session_is_caught_up(stack: Stack) -> None:
    async def no_pause(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before a repeated IDENTIFY; nothing here is about that pause."""

    assert stack.bot is not None
    stack.bot.before_identify_hook = no_pause  # type: ignore[method-assign]
    await stack.fake.user_sends_dm(ADA, "hello")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    await stack.core.wait_until_idle(stack.key(ADA))
    identified = stack.fake.gateway.stats.identifies
    stack.fake.gateway.begin_outage()
    await stack.fake.invalidate_sessions()  # Discord forgets the session: no RESUME, no replay
    await stack.fake.user_sends_dm(ADA, "Curiosity")
    stack.fake.gateway.end_outage()
    await stack.fake.wait_for(lambda: stack.fake.gateway.stats.identifies > identified, 10.0)
    await stack.question(ADA, "yn")  # caught up from the DM's history at the new READY
