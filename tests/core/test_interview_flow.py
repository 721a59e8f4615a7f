"""A whole interview through the core against the built-in server over real HTTP."""

from __future__ import annotations

import asyncio

from bot.api.models import QuestionType
from bot.core import ConversationKey, EndReason
from bot.core.bridge import Bridge
from bot.core.events import Answer, CancelExit, Exit, OutcomeKind, Start, UserText
from bot.core.ports import Action, NoticeKind
from bot.core.store import RecordStatus
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore

from .helpers import agree, answer_for, click_answer, key_of, respondent, say, start
from .recording import RecordingAdapter


async def test_whole_interview_with_every_question_type(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, emulator: Emulator
) -> None:
    key = key_of("u1")
    ended: list[EndReason] = []

    async def on_ended(key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        ended.append(reason)

    bridge.on_ended(on_ended)
    interview_id = await start(bridge, key)
    assert adapter.replies_of(key)[0].final  # the opening message is shown
    seen: set[QuestionType] = set()
    for _ in range(60):
        record = await store.get_interview(interview_id)
        assert record is not None
        if record.status is RecordStatus.COMPLETED:
            break
        pending = adapter.last_question(key)
        if pending is not None and pending.question.type is not QuestionType.OPEN_ENDED:
            seen.add((await click_answer(bridge, adapter, key)).type)
        else:
            if pending is not None:
                seen.add(pending.question.type)
            await say(bridge, key, "Honestly it was a bit confusing at first, because the rules channel was long.")
    else:
        raise AssertionError("the interview never ended")
    assert seen >= {
        QuestionType.SCALE,
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.RANKING,
        QuestionType.YES_NO,
    }
    assert record.completion_reason == "natural"
    assert adapter.notices_of(key, NoticeKind.ENDED), "a thank-you is shown"
    await bridge.wait_until_idle(key)
    assert ended == [EndReason.NATURAL]
    details = await bridge.client.get(interview_id)
    assert details.status == "completed"
    # every streamed reply was delivered whole: what was shown equals the interviewer's words in the API
    interviewer = [e.content for e in details.transcript if e.role == "interviewer"]
    shown = [r.final for r in adapter.replies_of(key) if r.final is not None]
    assert shown == interviewer
    mirror = await store.transcript(interview_id)
    assert [line.content for line in mirror if line.role == "respondent"] == [
        e.content for e in details.transcript if e.role == "respondent"
    ]


async def test_bad_input_is_refused_and_nothing_is_sent(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("u2")
    interview_id = await start(bridge, key)
    for text, attachments in (("   ", 0), ("", 2), ("x" * 501, 0)):
        outcome = await bridge.handle(UserText(key, text, respondent("u2"), attachments=attachments))
        assert outcome.kind is OutcomeKind.REJECTED
        assert outcome.message
    rejected = adapter.notices_of(key, NoticeKind.REJECTED)
    assert "files" in rejected[1].text and "500" in rejected[2].text
    details = await bridge.client.get(interview_id)
    assert [e for e in details.transcript if e.role == "respondent"] == []
    # formatting is kept as typed
    await say(bridge, key, "**bold**\n- one\n- two")
    details = await bridge.client.get(interview_id)
    assert [e.content for e in details.transcript if e.role == "respondent"] == ["**bold**\n- one\n- two"]


async def test_exit_asks_to_confirm_then_completes_as_respondent_left(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore
) -> None:
    key = key_of("u3")
    interview_id = await start(bridge, key)
    await bridge.handle(UserText(key, "stop", respondent("u3")))
    confirm = adapter.notices_of(key, NoticeKind.CONFIRM_EXIT)
    assert confirm and confirm[0].actions == (Action.CONFIRM_EXIT, Action.CANCEL_EXIT)
    # changing their mind: "no" cancels the exit and is not passed on; then messages go on as before
    await say(bridge, key, "No.")
    record = await store.get_interview(interview_id)
    assert record is not None and record.status is RecordStatus.ACTIVE and not record.exit_requested
    await say(bridge, key, "actually, let's continue")
    await bridge.handle(Exit(key))
    assert (await bridge.handle(CancelExit(key))).ok
    await bridge.handle(Exit(key))
    await bridge.handle(UserText(key, "yes", respondent("u3")))
    record = await store.get_interview(interview_id)
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.completion_reason == "respondent_left"
    details = await bridge.client.get(interview_id)
    assert details.status == "completed"
    assert [e.content for e in details.transcript if e.role == "respondent"] == ["actually, let's continue"]


async def test_two_quick_first_messages_open_one_interview(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore
) -> None:
    key = key_of("u4")
    await asyncio.gather(
        bridge.handle(UserText(key, "hi", respondent("u4"))),
        bridge.handle(UserText(key, "hello?", respondent("u4"))),
        bridge.handle(Start(key, respondent("u4"))),
    )
    assert not await store.interviews_of_user("test", "u4"), "nothing starts before I agree"
    outcomes = await asyncio.gather(agree(bridge, key), agree(bridge, key))
    started = {o.interview_id for o in outcomes if o.interview_id}
    assert len(started) == 1
    assert len(await store.interviews_of_user("test", "u4")) == 1


async def test_duplicate_platform_events_are_dropped(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("u5")
    interview_id = await start(bridge, key)
    await say(bridge, key, "first answer", event_id="evt-1")
    again = await bridge.handle(UserText(key, "first answer", respondent("u5"), event_id="evt-1"))
    assert again.kind is OutcomeKind.DUPLICATE
    await bridge.wait_until_idle(key)
    details = await bridge.client.get(interview_id)
    assert [e.content for e in details.transcript if e.role == "respondent"] == ["first answer"]


async def test_clicks_on_stale_or_someone_elses_question_change_nothing(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("u6")
    await start(bridge, key)
    # answer open questions by text until a structured one is pending
    for _ in range(10):
        pending = adapter.last_question(key)
        if pending is not None and pending.question.type is not QuestionType.OPEN_ENDED:
            break
        await say(bridge, key, "I joined through a friend who invited me to the server last spring.")
    assert pending is not None
    value = answer_for(pending.question)
    before = await bridge.client.get(pending.interview_id)
    sent_before = [e for e in before.transcript if e.role == "respondent"]
    intruder = await bridge.handle(Answer(key, "someone-else", pending.interview_id, pending.question.id, value))
    assert intruder.kind is OutcomeKind.NOT_YOURS and intruder.message
    clicks = await asyncio.gather(
        *(bridge.handle(Answer(key, "u6", pending.interview_id, pending.question.id, value)) for _ in range(3))
    )
    assert sorted(c.kind.value for c in clicks) == ["accepted", "stale", "stale"]
    await bridge.wait_until_idle(key)
    stale = await bridge.handle(Answer(key, "u6", pending.interview_id, pending.question.id, value))
    assert stale.kind is OutcomeKind.STALE
    details = await bridge.client.get(pending.interview_id)
    sent_after = [e for e in details.transcript if e.role == "respondent"]
    assert len(sent_after) == len(sent_before) + 1  # three clicks and an intruder: one answer
