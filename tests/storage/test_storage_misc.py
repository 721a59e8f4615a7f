"""Pending questions, seen platform events, the transcript mirror and adapter state."""

from __future__ import annotations

import asyncio

import pytest
from conftest import AnyStore, MakeRecord, NewStore

from bot.core.store import InterviewRecord, StoredQuestion, UnknownInterview
from storage.sqlite import SQLiteStore


@pytest.fixture
async def interview(store: AnyStore, make_record: MakeRecord) -> InterviewRecord:
    """A stored interview."""
    record = make_record()
    await store.create_interview(record)
    return record


def question(interview_id: str, question_id: str = "q1") -> StoredQuestion:
    """A structured question as the core stores it."""
    return StoredQuestion(
        interview_id=interview_id,
        question_id=question_id,
        question={"id": question_id, "type": "single_choice", "options": [{"id": "a", "label": "Ä"}]},
        asked_at=10.0,
    )


async def test_pending_question_is_set_replaced_and_resolved(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    assert await store.pending_question(iid) is None
    await store.set_pending_question(question(iid, "q1"))
    await store.set_pending_question(question(iid, "q2"))  # replaces q1

    assert await store.pending_question(iid) == question(iid, "q2")
    assert await store.resolve_question(iid, "q1") is False  # a click on the old question
    assert await store.resolve_question(iid, "q2") is True
    assert await store.resolve_question(iid, "q2") is False
    assert await store.pending_question(iid) is None


async def test_pending_question_for_unknown_interview_raises(store: AnyStore) -> None:
    with pytest.raises(UnknownInterview):
        await store.set_pending_question(question("nope"))


async def test_double_click_resolves_once(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    await store.set_pending_question(question(iid))

    results = await asyncio.gather(*(store.resolve_question(iid, "q1") for _ in range(10)))

    assert results.count(True) == 1


async def test_resolve_race_across_connections(new_store: NewStore, make_record: MakeRecord) -> None:
    """Two processes handling the same click: exactly one of them gets True."""
    async with new_store() as one, new_store() as two:
        record = make_record()
        await one.create_interview(record)
        for n in range(5):
            await one.set_pending_question(question(record.interview_id, f"q{n}"))
            results = await asyncio.gather(
                one.resolve_question(record.interview_id, f"q{n}"),
                two.resolve_question(record.interview_id, f"q{n}"),
            )
            assert sorted(results) == [False, True]


async def test_mark_event_drops_redeliveries(store: AnyStore) -> None:
    assert await store.mark_event("slack", "Ev1", 1.0) is True
    assert await store.mark_event("slack", "Ev1", 2.0) is False
    assert await store.mark_event("discord", "Ev1", 2.0) is True  # ids are per platform
    results = await asyncio.gather(*(store.mark_event("slack", "Ev2", 3.0) for _ in range(5)))
    assert results.count(True) == 1


async def test_a_message_and_its_event_are_stored_together(store: AnyStore, make_record: MakeRecord) -> None:
    record = make_record()
    await store.create_interview(record)
    assert await store.event_seen("slack", "Ev7") is False
    await store.enqueue_message(record.interview_id, "hello", 1.0, event=("slack", "Ev7"))
    assert await store.event_seen("slack", "Ev7") is True
    assert await store.mark_event("slack", "Ev7", 2.0) is False  # a redelivery of it is dropped
    with pytest.raises(UnknownInterview):  # the message is refused: its event stays unseen (one transaction)
        await store.enqueue_message("no-such-interview", "lost?", 3.0, event=("slack", "Ev8"))
    assert await store.event_seen("slack", "Ev8") is False


async def test_prune_events_forgets_old_ids(store: AnyStore) -> None:
    for n in range(5):
        await store.mark_event("slack", f"old{n}", 10.0 + n)
    await store.mark_event("slack", "new", 100.0)

    assert await store.prune_events(before=14.0) == 4
    assert await store.prune_events(before=14.0) == 0
    assert await store.mark_event("slack", "old0", 200.0) is True  # forgotten, so new again
    assert await store.mark_event("slack", "old4", 200.0) is False  # kept (14.0 is not before 14.0)
    assert await store.mark_event("slack", "new", 200.0) is False


async def test_transcript_mirror_in_order_per_interview(
    store: AnyStore, interview: InterviewRecord, make_record: MakeRecord
) -> None:
    other = make_record(user="other")
    await store.create_interview(other)
    iid = interview.interview_id
    await store.append_transcript(iid, "interviewer", "Welcome!", 1.0)
    await store.append_transcript(other.interview_id, "interviewer", "Hi other", 1.0)
    await store.append_transcript(iid, "respondent", "Thanks 👋", 2.0)

    lines = await store.transcript(iid)

    assert [(line.role, line.content, line.at) for line in lines] == [
        ("interviewer", "Welcome!", 1.0),
        ("respondent", "Thanks 👋", 2.0),
    ]
    assert all(line.interview_id == iid for line in lines)
    assert await store.transcript("nope") == []
    with pytest.raises(UnknownInterview):
        await store.append_transcript("nope", "respondent", "x", 1.0)


async def test_state_put_get_replace_delete(store: AnyStore) -> None:
    assert await store.get_state("slack", "T1") is None
    await store.put_state("slack", "T1", {"bot_user": "U1", "n": 1})
    await store.put_state("slack", "T2", {"other": True})
    await store.put_state("slack", "T1", {"bot_user": "U2", "list": [1, "ü"]})

    assert await store.get_state("slack", "T1") == {"bot_user": "U2", "list": [1, "ü"]}
    assert await store.get_state("discord", "T1") is None  # scopes are separate

    await store.put_state("slack", "T1", None)
    assert await store.get_state("slack", "T1") is None
    assert await store.get_state("slack", "T2") == {"other": True}
    await store.put_state("slack", "never-set", None)  # deleting nothing is fine


async def test_memory_store_works(make_record: MakeRecord) -> None:
    async with SQLiteStore(":memory:") as store:
        record = make_record()
        await store.create_interview(record)
        await store.enqueue_message(record.interview_id, "hi", 1.0)
        turn = await store.begin_turn(record.interview_id, 2.0)
        assert turn is not None
        await store.finish_turn(turn.id, "hello", 3.0)
        stored = await store.get_interview(record.interview_id)
        assert stored is not None and stored.turns_sent == 1
