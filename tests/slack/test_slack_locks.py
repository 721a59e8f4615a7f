"""ConversationLocks: one body at a time per conversation, others free, nothing kept once idle."""

from __future__ import annotations

import asyncio

from adapters.slack.locks import ConversationLocks
from bot.core.keys import ConversationKey

A = ConversationKey("slack", "T1", "D1", "U1")
B = ConversationKey("slack", "T1", "D2", "U2")


async def test_same_conversation_waits_other_conversations_do_not() -> None:
    locks = ConversationLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def body(key: ConversationKey, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if name == "a1":
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(body(A, "a1"))
    await asyncio.sleep(0)
    second = asyncio.create_task(body(A, "a2"))
    other = asyncio.create_task(body(B, "b"))
    await other  # B never waits for A
    assert order == ["a1 in", "b in", "b out"]
    assert len(locks) == 1
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["a1 out", "a2 in", "a2 out"]
    assert len(locks) == 0  # forgotten when idle


async def test_a_failing_body_releases_the_lock() -> None:
    locks = ConversationLocks()
    try:
        async with locks.hold(A):
            raise ValueError("boom")
    except ValueError:
        pass
    async with locks.hold(A):
        assert len(locks) == 1
    assert len(locks) == 0
