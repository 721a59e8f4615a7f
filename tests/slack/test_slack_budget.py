"""The per-method, per-workspace budget: shared by all conversations, fair across them."""

from __future__ import annotations

import asyncio

from adapters.slack.budget import CONVERSATION_BUCKETS_KEPT, MethodBucket, SlackBudget


def test_queued_calls_are_served_round_robin_across_conversations() -> None:
    loop = asyncio.new_event_loop()
    try:
        bucket = MethodBucket(per_minute=60, now=0.0, burst=1)
        assert bucket.take_now("A", 0.0)  # the burst is used up
        order: list[str] = []
        for conv, n in (("A", 6), ("B", 2), ("C", 2)):
            for _ in range(n):
                fut = loop.create_future()
                fut.add_done_callback(lambda _f, c=conv: order.append(c))
                bucket.enqueue(conv, fut)
        now = 0.0
        while (delay := bucket.pump(now)) is not None:
            now += delay
        loop.run_until_complete(asyncio.sleep(0))  # run the done callbacks
        assert order[:6] == ["A", "B", "C", "A", "B", "C"]
        assert order[6:] == ["A"] * 4
        assert 9.0 <= now <= 10.5  # one call a second: the tier holds for everyone together
    finally:
        loop.close()


def test_optional_updates_take_only_a_fair_share_and_never_jump_the_queue() -> None:
    bucket = MethodBucket(per_minute=60, now=0.0, burst=4)
    for _ in range(3):
        assert bucket.take_now("X", 0.0)  # tokens are scarce now (1 of 4); X, A and B are active
    assert bucket.try_take("A", 0.0)
    assert not bucket.try_take("A", 1.0)  # A had its share: one call per 3 active / 1 per s
    assert bucket.try_take("B", 1.0)  # B had none yet
    assert bucket.try_take("A", 3.5)  # plenty of tokens again: spare capacity is not held back
    loop = asyncio.new_event_loop()
    try:
        waiter = loop.create_future()
        bucket.enqueue("C", waiter)
        assert not bucket.try_take("B", 10.0)  # C waits for a required call: it goes first
        assert bucket.pump(10.0) is None and waiter.done()
    finally:
        loop.close()


def test_a_single_conversation_may_use_the_burst() -> None:
    bucket = MethodBucket(per_minute=60, now=0.0, burst=3)
    assert [bucket.try_take("A", 0.0) for _ in range(4)] == [True, True, True, False]


def test_429_blocks_the_method_for_everyone() -> None:
    bucket = MethodBucket(per_minute=600, now=0.0, burst=5)
    bucket.block(0.0, 2.0)
    assert not bucket.take_now("A", 1.0)
    assert not bucket.try_take("B", 1.9)
    assert bucket.take_now("B", 2.2)


def test_budgets_are_per_workspace_and_per_method() -> None:
    now = [0.0]
    budget = SlackBudget({"chat.update": 60}, clock=lambda: now[0])
    bucket = budget.bucket("T1", "chat.update")
    assert bucket is not None and budget.bucket("T1", "chat.update") is bucket
    assert budget.bucket("T2", "chat.update") is not bucket
    assert budget.bucket("T1", "chat.postEphemeral") is None
    assert budget.try_acquire("T1", "views.publish", "x")  # not budgeted


async def test_acquire_waits_its_turn_in_real_time() -> None:
    budget = SlackBudget({"chat.update": 1200})  # 20 a second, burst 10
    order: list[str] = []

    async def caller(conv: str, n: int) -> None:
        for _ in range(n):
            await budget.acquire("T1", "chat.update", conv)
            order.append(conv)

    await asyncio.gather(caller("A", 12), caller("B", 4))
    await budget.close()
    assert sorted(order) == ["A"] * 12 + ["B"] * 4
    # A spent the burst alone; then the queue alternates: B is not starved behind A's backlog
    assert order[10:] == ["A", "B", "A", "B", "B", "B"]


async def test_cancelled_waiter_does_not_block_others() -> None:
    budget = SlackBudget({"chat.update": 60})
    bucket = budget.bucket("T1", "chat.update")
    assert bucket is not None
    bucket.tokens = 0.0
    waiting = asyncio.create_task(budget.acquire("T1", "chat.update", "A"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    bucket.tokens = 1.0
    await asyncio.wait_for(budget.acquire("T1", "chat.update", "B"), 1.0)
    await budget.close()


def test_the_thread_status_is_budgeted_per_conversation_and_its_buckets_stay_bounded() -> None:
    budget = SlackBudget({"assistant.threads.setStatus": 20, "chat.update": 60}, clock=lambda: 0.0)
    one = budget.bucket("T1", "assistant.threads.setStatus", "dm-1")
    assert one is not None and budget.bucket("T1", "assistant.threads.setStatus", "dm-1") is one
    assert budget.bucket("T1", "assistant.threads.setStatus", "dm-2") is not one  # Slack limits it per DM
    assert budget.bucket("T1", "chat.update", "dm-1") is budget.bucket("T1", "chat.update", "dm-2")  # per workspace
    while budget.try_now("T1", "assistant.threads.setStatus", "dm-1"):
        pass  # dm-1 spent its burst...
    assert budget.try_now("T1", "assistant.threads.setStatus", "dm-2")  # ...which leaves dm-2's untouched
    for n in range(CONVERSATION_BUCKETS_KEPT + 50):
        budget.bucket("T1", "assistant.threads.setStatus", f"many-{n}")
    assert len(budget._by_conversation) == CONVERSATION_BUCKETS_KEPT
