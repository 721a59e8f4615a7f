"""The shared write budget: per-DM spacing and window, a global cap, and no starved conversation."""

from __future__ import annotations

import asyncio
import bisect
import re
import time
from pathlib import Path

from discord_helpers import BRIEF, custom_ids, discord_stack
from fake_discord import FakeDiscord

from adapters.discord.writes import WriteBudget

CHATTY_BRIEF = BRIEF.replace("[Thanks.]", '["' + "Thanks, that is really helpful to hear. " * 5 + '"]')


async def test_one_channel_is_spaced_by_the_interval() -> None:
    budget = WriteBudget(interval=0.05, global_rate=1000)
    started = time.monotonic()
    for _ in range(4):
        await budget.acquire("dm-1")
    # grant n+1 comes at least one interval after grant n, so four grants span at least three intervals;
    # a loaded machine only makes this longer (gaps between callers' own timestamps could look shorter)
    assert time.monotonic() - started >= 3 * 0.05
    assert budget.stats.granted == 4


async def test_busy_channel_does_not_starve_the_others() -> None:
    budget = WriteBudget(interval=0.0, global_rate=200, burst=1, dm_writes=None)  # no per-DM window here
    order: list[str] = []
    hog_running = asyncio.Event()

    async def hog() -> None:
        for _ in range(30):
            await budget.acquire("hog")
            order.append("hog")
            if len(order) == 3:
                hog_running.set()

    async def once(name: str) -> None:
        await budget.acquire(name)
        order.append(name)

    hog_task = asyncio.create_task(hog())
    await hog_running.wait()
    others = [f"dm-{i}" for i in range(5)]
    await asyncio.gather(*(once(name) for name in others))
    await hog_task
    first_other = min(order.index(n) for n in others)
    last_other = max(order.index(n) for n in others)
    # round-robin: while five others wait, the hog gets at most one turn between each of them
    assert order[first_other : last_other + 1].count("hog") <= len(others), order


async def test_global_cap_holds_across_channels() -> None:
    budget = WriteBudget(interval=0.0, global_rate=50, burst=1)
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire(f"dm-{i}") for i in range(11)))
    # 11 grants at 50/s with a burst of 1 need at least 10 refills of 20 ms
    assert time.monotonic() - started >= 0.19
    assert budget.stats.granted == 11


async def test_cancelled_waiter_gives_its_turn_up() -> None:
    budget = WriteBudget(interval=10.0, global_rate=100)
    await budget.acquire("dm-1")
    waiter = asyncio.create_task(budget.acquire("dm-1"))  # must wait 10 s
    await asyncio.sleep(0.01)
    assert budget.waiting() == 1
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert budget.waiting() == 0
    await asyncio.wait_for(budget.acquire("dm-2"), 1.0)  # other channels are not held up


async def test_a_waiter_sharing_a_cancelled_turn_still_gets_its_own() -> None:
    budget = WriteBudget(interval=0.2, global_rate=100)
    await budget.acquire("dm-1")
    first = asyncio.create_task(budget.acquire("dm-1"))  # waits for the interval
    await asyncio.sleep(0)
    second = asyncio.create_task(budget.acquire("dm-1"))  # shares the first one's turn
    await asyncio.sleep(0)
    first.cancel()  # e.g. a reply's edit loop stopped while the other wanted the same channel
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 5.0)  # not cancelled along with it
    assert not second.cancelled()


# --- against the fake Discord: sends and edits together stay within a DM's limit ---------------------------

#: Message writes into a channel: new messages, edits, deletes (typing has a bucket of its own on Discord).
WRITE = re.compile(r"^/channels/(\d+)/messages(/\d+)?$")


def most_writes_in_any_window(fake: FakeDiscord, window: float) -> dict[str, int]:
    """Per channel: the most message writes the fake received within any ``window`` seconds."""
    times: dict[str, list[float]] = {}
    for request in fake.requests:
        match = WRITE.match(request.path)
        if match and request.method in ("POST", "PATCH", "DELETE"):
            times.setdefault(match.group(1), []).append(request.at)
    most: dict[str, int] = {}
    for channel, stamps in times.items():
        stamps.sort()
        most[channel] = max(bisect.bisect_left(stamps, at + window) - i for i, at in enumerate(stamps))
    return most


async def test_a_dm_sees_at_most_five_writes_in_any_five_seconds(tmp_path: Path) -> None:
    """Discord's figures (5 writes per 5 s per DM, a 1 s edit interval): placeholders, streamed edits, final
    texts and questions of quick turns all count, and no DM ever sees a sixth write within 5 s."""
    members = [str(3000 + n) for n in range(3)]
    async with discord_stack(
        tmp_path, brief_text=CHATTY_BRIEF, token_rate=15.0, edit_interval=1.0, message_limit=(5, 5.0)
    ) as stack:
        for n, member in enumerate(members):
            stack.fake.add_user(member, f"member{n}")

        async def converse(member: str) -> None:
            await stack.fake.user_sends_dm(member, "hello")
            await stack.agree(member)  # the consent text (a write of its own) comes first
            await stack.reply_done(member)
            await stack.fake.user_sends_dm(member, "I like the people")  # answered at once, streamed back
            yes_no = await stack.question(member, "yn")
            await stack.click(member, yes_no, next(c for c in custom_ids(yes_no) if c.endswith(":y")))
            await stack.question(member, "nps")

        await asyncio.gather(*(converse(m) for m in members))
        most = most_writes_in_any_window(stack.fake, 5.0)
        channels = {stack.fake.dm_channel_of(m) for m in members}
        assert channels <= set(most), most
        assert all(most[channel] <= 5 for channel in channels), most
        assert max(most[channel] for channel in channels) == 5, most  # the limit is used, not just avoided
        assert not [r for r in stack.fake.requests if r.status == 429]
