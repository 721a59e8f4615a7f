"""Interviews: create, the one-open-interview-per-conversation rule, lookups, the sweep, updates."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from conftest import AnyStore, MakeRecord, NewStore

from bot.core.keys import ConversationKey
from bot.core.store import ActiveInterviewExists, RecordStatus, UnknownInterview

KEY = ConversationKey("discord", "", "dm1", "u1")


async def test_create_then_get_returns_every_field(store: AnyStore, make_record: MakeRecord) -> None:
    record = make_record(
        study="onboarding",
        locale="de",
        nudge_at=1500.0,
        expires_at=1800.0,
        exit_requested=True,
        turns_sent=3,
        failed_turn=True,
        platform_state={"dm_channel": "D1", "nested": {"ts": "1.2"}, "ü": "ß"},
    )
    await store.create_interview(record)

    assert await store.get_interview(record.interview_id) == record
    assert await store.get_interview("missing") is None


async def test_second_open_interview_for_a_key_is_refused(store: AnyStore, make_record: MakeRecord) -> None:
    first = make_record()
    await store.create_interview(first)

    with pytest.raises(ActiveInterviewExists):
        await store.create_interview(make_record())
    await store.update_interview(dataclasses.replace(first, status=RecordStatus.COMPLETING))
    with pytest.raises(ActiveInterviewExists):  # completing still counts as open
        await store.create_interview(make_record())

    # another user, or another channel of the same user, is another conversation
    await store.create_interview(make_record(user="u2"))
    await store.create_interview(make_record(channel="dm2"))


async def test_after_completion_a_new_interview_can_start(store: AnyStore, make_record: MakeRecord) -> None:
    first = make_record()
    await store.create_interview(first)
    first.status = RecordStatus.COMPLETED
    await store.update_interview(first)

    second = make_record()
    await store.create_interview(second)

    assert await store.active_interview(KEY) == second
    # reopening the old one now would make two open interviews
    first.status = RecordStatus.ACTIVE
    with pytest.raises(ActiveInterviewExists):
        await store.update_interview(first)


async def test_two_racing_creates_on_two_connections_only_one_wins(
    new_store: NewStore, make_record: MakeRecord
) -> None:
    """Two processes (here: two stores on one database) start an interview for one key at the same time."""
    async with new_store() as one, new_store() as two:
        for _ in range(5):
            a, b = make_record(user="racer"), make_record(user="racer")
            results = await asyncio.gather(one.create_interview(a), two.create_interview(b), return_exceptions=True)
            assert sorted(type(r).__name__ for r in results) == ["ActiveInterviewExists", "NoneType"]
            winner = a if results[0] is None else b
            assert await one.active_interview(winner.key) == winner
            winner.status = RecordStatus.COMPLETED
            await two.update_interview(winner)


async def test_many_concurrent_creates_on_one_store_only_one_wins(store: AnyStore, make_record: MakeRecord) -> None:
    records = [make_record(user="crowd") for _ in range(10)]

    results = await asyncio.gather(*(store.create_interview(r) for r in records), return_exceptions=True)

    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, ActiveInterviewExists) for r in results if r is not None)
    assert len(await store.unfinished_interviews()) == 1


async def test_duplicate_interview_id_is_refused(store: AnyStore, make_record: MakeRecord) -> None:
    record = make_record()
    await store.create_interview(record)

    with pytest.raises(ValueError, match="already stored"):
        await store.create_interview(make_record(user="other", interview_id=record.interview_id))


async def test_latest_interview_is_the_newest_whatever_its_status(store: AnyStore, make_record: MakeRecord) -> None:
    assert await store.latest_interview(KEY) is None
    old = make_record(status=RecordStatus.COMPLETED, created_at=10.0)
    new = make_record(status=RecordStatus.COMPLETED, created_at=20.0)
    await store.create_interview(new)
    await store.create_interview(old)  # inserted later, but older

    assert await store.latest_interview(KEY) == new
    assert await store.active_interview(KEY) is None


async def test_interviews_of_user_newest_first_with_limit(store: AnyStore, make_record: MakeRecord) -> None:
    mine = [make_record(channel=f"c{i}", created_at=float(i)) for i in range(5)]
    for record in mine:
        await store.create_interview(record)
    await store.create_interview(make_record(user="someone-else"))
    await store.create_interview(make_record(platform="slack"))

    found = await store.interviews_of_user("discord", "u1")
    assert [r.interview_id for r in found] == [r.interview_id for r in reversed(mine)]
    limited = await store.interviews_of_user("discord", "u1", limit=2)
    assert [r.interview_id for r in limited] == [mine[4].interview_id, mine[3].interview_id]
    assert await store.interviews_of_user("discord", "nobody") == []


async def test_unfinished_interviews_are_active_and_completing(store: AnyStore, make_record: MakeRecord) -> None:
    active = make_record(user="a")
    completing = make_record(user="b", status=RecordStatus.COMPLETING)
    completed = make_record(user="c", status=RecordStatus.COMPLETED)
    for record in (active, completing, completed):
        await store.create_interview(record)

    assert await store.unfinished_interviews() == [active, completing]


async def test_due_interviews_is_the_inactivity_sweep(store: AnyStore, make_record: MakeRecord) -> None:
    nudge_due = make_record(user="a", nudge_at=90.0, expires_at=500.0)
    expired = make_record(user="b", nudge_at=None, expires_at=100.0)
    both_due = make_record(user="c", nudge_at=50.0, expires_at=80.0)
    exactly_now = make_record(user="d", expires_at=100.0, nudge_at=200.0)
    not_yet = make_record(user="e", nudge_at=101.0, expires_at=400.0)
    no_deadline = make_record(user="f")
    completing = make_record(user="g", status=RecordStatus.COMPLETING, expires_at=10.0)
    completed = make_record(user="h", status=RecordStatus.COMPLETED, expires_at=10.0)
    for record in (nudge_due, expired, both_due, exactly_now, not_yet, no_deadline, completing, completed):
        await store.create_interview(record)

    due = await store.due_interviews(100.0)

    # most overdue first (by the earlier deadline)
    assert [r.interview_id for r in due] == [i.interview_id for i in (both_due, nudge_due, expired, exactly_now)]
    assert len(await store.due_interviews(100.0, limit=2)) == 2
    assert await store.due_interviews(10.0) == []

    # clearing the deadlines takes it out of the sweep
    both_due.nudge_at = both_due.expires_at = None
    await store.update_interview(both_due)
    assert both_due.interview_id not in [r.interview_id for r in await store.due_interviews(100.0)]


async def test_update_writes_every_field(store: AnyStore, make_record: MakeRecord) -> None:
    record = make_record()
    await store.create_interview(record)
    changed = dataclasses.replace(
        record,
        session_token="rotated-token",
        status=RecordStatus.COMPLETED,
        study="s2",
        locale="fr",
        updated_at=2.0,
        last_activity_at=3.0,
        nudge_at=4.0,
        expires_at=5.0,
        exit_requested=True,
        turns_sent=7,
        completion_reason="timeout",
        completed_at=6.0,
        failed_turn=True,
        platform_state={"thread_ts": "123.456"},
    )

    await store.update_interview(changed)

    assert await store.get_interview(record.interview_id) == changed


async def test_update_never_lowers_turns_sent(store: AnyStore, make_record: MakeRecord) -> None:
    """A record read before finish_turn counted a turn must not undo the count when it is written back."""
    record = make_record()
    await store.create_interview(record)
    await store.enqueue_message(record.interview_id, "hi", 1.0)
    turn = await store.begin_turn(record.interview_id, 1.0)
    assert turn is not None
    await store.finish_turn(turn.id, "hello", 2.0)

    record.last_activity_at = 2.0  # record.turns_sent is still 0 here
    await store.update_interview(record)

    stored = await store.get_interview(record.interview_id)
    assert stored is not None and stored.turns_sent == 1 and stored.last_activity_at == 2.0


async def test_update_of_unknown_interview_raises(store: AnyStore, make_record: MakeRecord) -> None:
    with pytest.raises(UnknownInterview):
        await store.update_interview(make_record())


async def test_bulk_create_inserts_all_or_none(store: AnyStore, make_record: MakeRecord) -> None:
    batch = [make_record(user=f"bulk{i}") for i in range(50)]
    assert await store.bulk_create_interviews(batch) == 50
    assert await store.get_interview(batch[49].interview_id) == batch[49]

    clash = [make_record(user="fresh"), make_record(user="bulk3")]  # bulk3 already has an open interview
    with pytest.raises(ActiveInterviewExists):
        await store.bulk_create_interviews(clash)
    assert await store.get_interview(clash[0].interview_id) is None


async def test_store_must_be_open(new_store: NewStore, make_record: MakeRecord) -> None:
    store = new_store()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_interview("x")
    await store.open()
    await store.open()  # a second open is harmless
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.create_interview(make_record())
