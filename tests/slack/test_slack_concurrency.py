"""Many interviews in one workspace at once: one shared, fair budget per method keeps Slack from answering 429;
and a reply that outlives its stream (expiry) is completed with chat.update without losing a character."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from fake_slack import FakeSlack
from test_slack_e2e import Harness, agree, open_harness

from adapters.slack.budget import SlackBudget

#: Slack's tiers scaled down to a one-second window so the test is short: calls per second per workspace.
TIERS = {
    "assistant.threads.setStatus": 20,
    "chat.startStream": 6,
    "chat.appendStream": 20,
    "chat.stopStream": 8,
    "chat.update": 20,
}


def budget_for(tiers: dict[str, int]) -> SlackBudget:
    """A budget well inside ``tiers``: a burst of a quarter of the tier and a quarter of it per second, so that
    even the grants of two seconds (a call granted late in one second may reach the fake early in the next on a
    loaded machine) stay at three quarters of what the fake allows in one. ``chat.startStream`` gets one token
    for the whole test, so which replies stream does not depend on timing: the first one does, the rest are
    posted and updated."""
    budget = SlackBudget(
        {method: 15.0 * calls for method, calls in tiers.items()} | {"chat.startStream": 0.5},
        bursts={method: max(1.0, calls / 4) for method, calls in tiers.items()} | {"chat.startStream": 1.0},
    )
    return budget


async def interviewer_lines(h: Harness, user: str) -> list[str]:
    record = await h.store.latest_interview(h.key(user))
    assert record is not None
    return [line.content for line in await h.store.transcript(record.interview_id) if line.role == "interviewer"]


async def test_many_concurrent_interviews_share_the_workspace_budget(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> None:
    users = [f"U0PEOPLE{i:02d}" for i in range(8)]
    for i, user in enumerate(users):
        fake_slack.add_user(user, f"person{i}")
    for method, calls in TIERS.items():
        fake_slack.set_tier_limit(method, calls, window=1.0)
    async with open_harness(
        fake_slack, serve_http, tmp_path, budget=budget_for(TIERS), update_interval=0.02, token_rate=400.0
    ) as h:
        sent = await asyncio.gather(*(fake_slack.user_sends_dm(u, "hi") for u in users))
        assert all(s["status"] == 200 for s in sent)
        threads = {u: s["ts"] for u, s in zip(users, sent, strict=True)}
        await asyncio.gather(*(agree(h, u) for u in users))
        await fake_slack.wait_for(
            lambda: all(any("What is your role?" in m["text"] for m in h.bot_replies(u, threads[u])) for u in users),
            timeout=30,
        )
        answers = [
            fake_slack.user_sends_dm(u, f"I am {u}, and I work on the platform team " * 3, thread_ts=threads[u])
            for u in users
        ]
        await asyncio.gather(*answers)
        for user in users:
            await h.wait_for_action("ib:yes", user=user, within=30)
            await h.idle(user)

        for user in users:  # every reply shows exactly what the interviewer said
            shown = [m["text"] for m in h.bot_replies(user, threads[user])]
            assert shown == await interviewer_lines(h, user)
        for method in TIERS:
            assert fake_slack.rate_stats(method).limited == 0, method
        # natively streamed while the workspace's startStream budget had room, posted and updated after that
        assert fake_slack.rate_stats("chat.startStream").accepted == 1
        replies = [m for u in users for m in h.bot_replies(u, threads[u])]
        assert len(replies) == 2 * len(users) and sum(m["streaming"] == "stopped" for m in replies) == 1
        assert not any(d.timed_out for d in fake_slack.deliveries)


async def test_stream_expiry_mid_reply_falls_back_to_update_end_to_end(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> None:
    fake_slack.stream_ttl = 0.0  # Slack's ~5 minutes, shortened: every stream expires right after it starts
    async with open_harness(fake_slack, serve_http, tmp_path, update_interval=0.02, token_rate=400.0) as h:
        sent = await fake_slack.user_sends_dm("U0ALICE01", "hi")
        await agree(h)
        await fake_slack.wait_for(
            lambda: any("What is your role?" in m["text"] for m in h.bot_replies(thread=sent["ts"])), timeout=15
        )
        await fake_slack.user_sends_dm("U0ALICE01", "I design things", thread_ts=sent["ts"])
        question = await h.wait_for_action("ib:yes", within=15)
        await h.idle()
        assert question["stream_expired"] and question["update_count"] >= 1
        shown = [m["text"] for m in h.bot_replies(thread=sent["ts"])]
        assert shown == await interviewer_lines(h, "U0ALICE01")
