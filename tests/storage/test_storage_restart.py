"""What a restart relies on: cancelled callers leave no open transaction; the work left is found cheaply."""

from __future__ import annotations

import asyncio

from conftest import AnyStore, MakeRecord


async def test_cancelled_transactions_never_leave_the_connection_inside_one(
    store: AnyStore, make_record: MakeRecord
) -> None:
    record = make_record()
    await store.create_interview(record)
    for round_ in range(60):
        await store.enqueue_message(record.interview_id, f"message {round_}", 1.0)
        task = asyncio.create_task(store.begin_turn(record.interview_id, 2.0))
        for _ in range(round_ % 6):  # cancel at a different point of BEGIN … COMMIT each round
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        turn = await store.begin_turn(record.interview_id, 3.0)  # would fail inside a dangling transaction
        assert turn is not None
        await store.finish_turn(turn.id, "reply", 4.0)
    assert await store.turn_in_flight(record.interview_id) is None
    assert await store.queued_messages(record.interview_id) == []


async def test_resumable_interviews_are_those_with_work_left(store: AnyStore, make_record: MakeRecord) -> None:
    from bot.core.store import RecordStatus

    idle, queued, in_flight, completing, done = (make_record(user=f"r{n}", channel=f"c{n}") for n in range(5))
    completing.status = RecordStatus.COMPLETING
    done.status = RecordStatus.COMPLETED
    for record in (idle, queued, in_flight, completing, done):
        await store.create_interview(record)
    await store.enqueue_message(queued.interview_id, "waiting", 1.0)
    await store.enqueue_message(in_flight.interview_id, "sent", 1.0)
    await store.begin_turn(in_flight.interview_id, 2.0)
    await store.enqueue_message(done.interview_id, "too late", 1.0)
    found = {r.interview_id for r in await store.resumable_interviews()}
    assert found == {queued.interview_id, in_flight.interview_id, completing.interview_id}
