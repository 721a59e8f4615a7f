"""Turn leases (several instances on one database): a turn in flight belongs to the instance running it until
its lease runs out; then another instance may take it over, as a resumed turn (looked up before it is resent)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import AnyStore, MakeRecord, NewStore

from bot.core.store import InterviewRecord, TurnLease


@pytest.fixture
async def interview(store: AnyStore, make_record: MakeRecord) -> InterviewRecord:
    record = make_record()
    await store.create_interview(record)
    await store.enqueue_message(record.interview_id, "hello", 1.0)
    return record


async def test_a_leased_turn_is_not_handed_to_another_instance(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    turn = await store.begin_turn(iid, 10.0, lease=TurnLease("a", 25.0))
    assert turn is not None and not turn.resumed

    assert await store.begin_turn(iid, 20.0, lease=TurnLease("b", 35.0)) is None  # a's lease still runs
    again = await store.begin_turn(iid, 20.0, lease=TurnLease("a", 35.0))  # its own turn, e.g. a Retry
    assert again == turn and again is not None and again.resumed
    assert await store.lapsed_turns(30.0) == []


async def test_a_lapsed_lease_is_found_and_taken_over_as_resumed(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    turn = await store.begin_turn(iid, 10.0, lease=TurnLease("a", 25.0))
    assert await store.lapsed_turns(24.0) == []
    assert await store.lapsed_turns(26.0) == [iid]

    taken = await store.begin_turn(iid, 26.0, lease=TurnLease("b", 41.0))
    assert taken == turn and taken is not None and taken.resumed
    assert await store.lapsed_turns(30.0) == []  # b holds it now
    assert await store.begin_turn(iid, 30.0, lease=TurnLease("a", 45.0)) is None  # a came back: too late


async def test_renewal_keeps_the_lease_and_release_frees_the_turn(store: AnyStore, interview: InterviewRecord) -> None:
    iid = interview.interview_id
    turn = await store.begin_turn(iid, 10.0, lease=TurnLease("a", 25.0))
    assert turn is not None
    assert await store.renew_turn_leases("a", 60.0, [iid, "other"]) == 1
    assert await store.renew_turn_leases("nobody", 60.0, [iid]) == 0
    assert await store.renew_turn_leases("a", 90.0, []) == 0  # no worker runs it any more: left to lapse
    assert await store.lapsed_turns(50.0) == []
    assert await store.begin_turn(iid, 50.0, lease=TurnLease("b", 65.0)) is None

    await store.release_turn(turn.id, "b")  # not b's to release
    assert await store.begin_turn(iid, 50.0, lease=TurnLease("b", 65.0)) is None
    await store.release_turn(turn.id, "a")  # failed: it waits for Retry, on any instance
    assert await store.lapsed_turns(100.0) == []  # released turns are not taken over by the sweep
    retried = await store.begin_turn(iid, 51.0, lease=TurnLease("b", 66.0))
    assert retried == turn


async def test_without_a_lease_the_single_instance_behaviour_is_unchanged(
    store: AnyStore, interview: InterviewRecord
) -> None:
    turn = await store.begin_turn(interview.interview_id, 10.0)
    assert turn is not None and not turn.resumed
    assert await store.begin_turn(interview.interview_id, 11.0) == turn
    assert await store.lapsed_turns(1e9) == []


async def test_two_instances_claiming_at_once_get_one_turn_between_them(
    new_store: NewStore, make_record: MakeRecord
) -> None:
    async with new_store() as one, new_store() as two:
        for n in range(5):
            record = make_record(user=f"racer{n}")
            await one.create_interview(record)
            await one.enqueue_message(record.interview_id, "hi", 1.0)
            claims = await asyncio.gather(
                one.begin_turn(record.interview_id, 2.0, lease=TurnLease("one", 20.0)),
                two.begin_turn(record.interview_id, 2.0, lease=TurnLease("two", 20.0)),
            )
            assert sum(claim is not None for claim in claims) == 1


async def test_messages_stored_by_a_dead_instance_are_found_once_they_are_old(
    store: AnyStore, make_record: MakeRecord
) -> None:
    waiting, running = make_record(user="waiting"), make_record(user="running")
    for record in (waiting, running):
        await store.create_interview(record)
        await store.enqueue_message(record.interview_id, "hello", 10.0)
    await store.begin_turn(running.interview_id, 11.0, lease=TurnLease("a", 26.0))
    await store.enqueue_message(running.interview_id, "more", 12.0)  # queued behind a running turn: not stranded

    assert await store.stranded_interviews(10.0) == []  # not old enough yet
    assert await store.stranded_interviews(30.0) == [waiting.interview_id]
