"""Queued messages and the turn in flight: joining, answers alone, resuming, finishing, requeueing."""

from __future__ import annotations

import asyncio

import pytest
from conftest import AnyStore, CountRows, MakeRecord

from bot.core.store import InterviewRecord, Turn, UnknownInterview

ANSWER = {"question_id": "q1", "value": ["a", "b"]}


@pytest.fixture
async def interview(store: AnyStore, make_record: MakeRecord) -> InterviewRecord:
    """A stored interview that has had two turns accepted."""
    record = make_record(turns_sent=2)
    await store.create_interview(record)
    return record


async def test_enqueue_keeps_messages_in_order(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    first = await store.enqueue_message(iid, "one", 1.0)
    second = await store.enqueue_message(iid, "Option A", 2.0, answer=ANSWER)

    assert second.id > first.id
    assert await store.queued_messages(iid) == [first, second]
    assert second.answer == ANSWER


async def test_enqueue_for_unknown_interview_raises(store: AnyStore) -> None:
    with pytest.raises(UnknownInterview):
        await store.enqueue_message("nope", "hi", 1.0)


async def test_begin_turn_with_nothing_queued_is_none(store: AnyStore, interview: InterviewRecord) -> None:
    assert await store.begin_turn(interview.interview_id, 1.0) is None
    assert await store.turn_in_flight(interview.interview_id) is None


async def test_consecutive_plain_messages_travel_joined(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    for text in ("one", "two", "three"):
        await store.enqueue_message(iid, text, 1.0)

    turn = await store.begin_turn(iid, 5.0, joiner=" / ")

    assert turn == Turn(turn.id if turn else 0, iid, "one / two / three", 5.0, None, turns_before=2)
    assert await store.queued_messages(iid) == []  # they are in flight now, not queued
    assert await store.turn_in_flight(iid) == turn


async def test_an_answer_travels_alone(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "before", 1.0)
    await store.enqueue_message(iid, "also before", 1.5)
    await store.enqueue_message(iid, "Option A", 2.0, answer=ANSWER)
    await store.enqueue_message(iid, "after", 3.0)

    first = await store.begin_turn(iid, 4.0)
    assert first is not None and first.content == "before\n\nalso before" and first.answer is None
    await store.finish_turn(first.id, "ok", 4.5)

    second = await store.begin_turn(iid, 5.0)
    assert second is not None and second.content == "Option A" and second.answer == ANSWER
    assert second.turns_before == 3
    await store.finish_turn(second.id, None, 5.5)

    third = await store.begin_turn(iid, 6.0)
    assert third is not None and third.content == "after" and third.answer is None and third.turns_before == 4


async def test_begin_turn_resumes_the_turn_in_flight(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "one", 1.0)
    turn = await store.begin_turn(iid, 2.0)
    await store.enqueue_message(iid, "arrived while the turn was in flight", 3.0)

    again = await store.begin_turn(iid, 4.0)

    assert again == turn
    assert [m.content for m in await store.queued_messages(iid)] == ["arrived while the turn was in flight"]


async def test_concurrent_begin_turn_makes_one_turn(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    for text in ("a", "b"):
        await store.enqueue_message(iid, text, 1.0)

    turns = await asyncio.gather(*(store.begin_turn(iid, 2.0) for _ in range(8)))

    assert all(t is not None for t in turns)
    assert len({t.id for t in turns if t is not None}) == 1
    assert turns[0] is not None and turns[0].content == "a\n\nb"


async def test_finish_turn_mirrors_counts_and_clears(
    store: AnyStore, interview: InterviewRecord, count_rows: CountRows
) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "hello", 1.0)
    await store.enqueue_message(iid, "there", 1.5)
    turn = await store.begin_turn(iid, 2.0)
    assert turn is not None

    await store.finish_turn(turn.id, "Hi! Tell me more.", 3.0)

    assert [(line.role, line.content, line.at) for line in await store.transcript(iid)] == [
        ("respondent", "hello\n\nthere", 2.0),
        ("interviewer", "Hi! Tell me more.", 3.0),
    ]
    stored = await store.get_interview(iid)
    assert stored is not None and stored.turns_sent == 3
    assert await store.turn_in_flight(iid) is None
    assert await store.queued_messages(iid) == []
    assert await store.begin_turn(iid, 4.0) is None
    # the sent messages and the turn are gone, not just hidden
    assert await count_rows("queued_messages") == 0
    assert await count_rows("turns") == 0

    await store.finish_turn(turn.id, "again", 5.0)  # a second finish of the same turn changes nothing
    stored = await store.get_interview(iid)
    assert stored is not None and stored.turns_sent == 3
    assert len(await store.transcript(iid)) == 2


async def test_finish_turn_without_reply_mirrors_only_the_respondent(
    store: AnyStore, interview: InterviewRecord
) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "hello", 1.0)
    turn = await store.begin_turn(iid, 2.0)
    assert turn is not None

    await store.finish_turn(turn.id, None, 3.0)

    assert [line.role for line in await store.transcript(iid)] == ["respondent"]


async def test_finish_turn_is_all_or_nothing(store: AnyStore, interview: InterviewRecord) -> None:
    """If any statement of finish_turn fails, none of its effects stay."""
    iid = interview.interview_id
    await store.enqueue_message(iid, "hello", 1.0)
    turn = await store.begin_turn(iid, 2.0)
    assert turn is not None

    # a reply the driver cannot bind makes the transcript insert fail midway through the transaction
    with pytest.raises(Exception):  # noqa: B017 - the driver's binding error; only the rollback matters here
        await store.finish_turn(turn.id, object(), 3.0)  # type: ignore[arg-type]

    assert await store.turn_in_flight(iid) == turn
    assert await store.transcript(iid) == []
    stored = await store.get_interview(iid)
    assert stored is not None and stored.turns_sent == 2
    await store.finish_turn(turn.id, "fine now", 3.0)  # the store is usable afterwards
    assert len(await store.transcript(iid)) == 2


async def test_requeue_puts_the_messages_back_at_the_head(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "one", 1.0)
    await store.enqueue_message(iid, "two", 1.5)
    turn = await store.begin_turn(iid, 2.0)
    assert turn is not None
    await store.enqueue_message(iid, "three", 3.0)

    await store.requeue_turn(turn.id)

    assert [m.content for m in await store.queued_messages(iid)] == ["one", "two", "three"]
    assert await store.turn_in_flight(iid) is None
    stored = await store.get_interview(iid)
    assert stored is not None and stored.turns_sent == 2  # nothing was counted
    retry = await store.begin_turn(iid, 4.0)
    assert retry is not None and retry.content == "one\n\ntwo\n\nthree" and retry.id != turn.id


async def test_requeued_answer_still_travels_alone(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    await store.enqueue_message(iid, "Option A", 1.0, answer=ANSWER)
    turn = await store.begin_turn(iid, 2.0)
    assert turn is not None
    await store.enqueue_message(iid, "plain", 3.0)

    await store.requeue_turn(turn.id)
    retry = await store.begin_turn(iid, 4.0)

    assert retry is not None and retry.answer == ANSWER and retry.content == "Option A"
