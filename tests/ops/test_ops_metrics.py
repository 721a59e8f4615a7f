"""/metrics: Prometheus text that parses, counters that move during a real interview, bounded labels."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fake_discord import FakeDiscord
from fake_discord import serving as discord_serving
from fake_slack import FakeSlack
from ops_helpers import get, until_status
from prometheus_client.parser import text_string_to_metric_families
from test_ops_health import ADA, discord_settings, running

from adapters.slack.runner import start_slack
from bot.app import open_bridge
from bot.config import Settings
from bot.core.keys import ConversationKey
from bot.ops.metrics import MAX_LABEL_VALUES, Metrics
from storage.sqlite import SQLiteStore
from tests.serving import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample as {(name, sorted labels): value}; raises if the text is not valid exposition format."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


async def scrape(base: str) -> tuple[Samples, str]:
    status, text = await get(f"{base}/metrics")
    assert status == 200
    return parse(text), text


async def said(fake: FakeDiscord, fragment: str, count: int = 1) -> None:
    def found() -> bool:
        channel = fake.dm_channel_of(ADA)
        texts = [m["content"] for m in fake.bot_messages(channel)] if channel else []
        return sum(fragment in t for t in texts) >= count

    await fake.wait_for(found, timeout=20.0)


async def test_counters_move_during_an_interview_and_labels_stay_bounded(tmp_path: Path) -> None:
    async with discord_serving() as fake:
        fake.add_user(ADA, "ada")
        settings = discord_settings(fake, tmp_path, free_port())
        async with running(settings) as base:
            await until_status(f"{base}/readyz", 200)
            before, _ = await scrape(base)
            assert total(before, "interview_bridge_interviews_started_total") == 0
            assert before[("interview_bridge_platform_connected", (("link", "discord"),))] == 1.0

            await fake.user_sends_dm(ADA, "hi")
            await said(fake, "Before we start")
            await fake.user_sends_dm(ADA, "I agree")  # typed words answer the consent text too
            await said(fake, "Hi ada")
            fake.force_429("PATCH", r"/channels/\d+/messages/\d+", count=1, retry_after=0.1)  # discord.py waits
            await fake.user_sends_dm(ADA, "A friend invited me, and the channels confused me at first.")
            await said(fake, "?", count=2)  # the interviewer's next question
            for _ in range(200):  # the turn is put away before the member leaves (the DM's write budget, 5 per 5 s,
                turned, _ = await scrape(base)  # is partly spent on the consent text): 10 s at most
                if total(turned, "interview_bridge_turns_total", platform="discord") >= 1:
                    break
                await asyncio.sleep(0.05)
            await fake.user_sends_dm(ADA, "exit")
            await said(fake, "end")
            await fake.user_sends_dm(ADA, "yes")
            await said(fake, "Thank")

            ended = "interview_bridge_interviews_completed_total"
            for _ in range(200):  # the lifecycle hooks count in the background: 10 s at most
                after, text = await scrape(base)
                if total(after, ended) >= 1:
                    break
                await asyncio.sleep(0.05)
        store = SQLiteStore(tmp_path / "bot.db")
        await store.open()
        try:
            (record,) = await store.interviews_of_user("discord", ADA)
        finally:
            await store.close()

    print("TURNS", [(k, v) for k, v in after.items() if "turns_total" in k[0]])
    started = "interview_bridge_interviews_started_total"
    assert total(after, started, study="default", platform="discord") == 1
    assert total(after, ended, study="default", platform="discord", reason="respondent_left") == 1
    assert total(after, "interview_bridge_turns_total", platform="discord", outcome="ok") == 1
    assert total(after, "interview_bridge_turn_seconds_count", platform="discord") == 1
    assert total(after, "interview_bridge_turn_seconds_sum", platform="discord") > 0
    assert total(after, "interview_bridge_first_update_seconds_count", platform="discord") == 1
    assert total(after, "interview_bridge_api_budget_wait_seconds_count") >= 3  # start, send, complete
    assert ("interview_bridge_api_budget_queued_requests", ()) in after
    assert total(after, "interview_bridge_platform_write_wait_seconds_count", platform="discord") >= 1
    assert total(after, "interview_bridge_rate_limited_total", api="discord", platform="discord") == 1
    for name in ("# TYPE interview_bridge_rate_limited_total counter", "# TYPE interview_bridge_invitations_total"):
        assert name in text
    for name, labels in after:  # no user id, no interview id, no channel id in any label
        for _, value in labels:
            assert value not in (ADA, record.interview_id, record.key.channel), (name, labels)


async def test_duplicates_429s_and_unbounded_label_values() -> None:
    metrics = Metrics()
    metrics.duplicate_dropped(platform="slack")
    metrics.rate_limited(api="interview", platform="shared")
    metrics.webhook_delivered(kind="handoff", outcome="ok")
    for n in range(MAX_LABEL_VALUES + 10):  # a study label that someone could fill with anything
        metrics.interview_started(study=f"study-{n}", platform="slack")
    metrics.invitation_changed(study="study-0", platform="slack", state="sent")
    samples = parse(metrics.exposition().decode())
    assert total(samples, "interview_bridge_duplicate_events_dropped_total", platform="slack") == 1
    assert total(samples, "interview_bridge_rate_limited_total", api="interview") == 1
    assert total(samples, "interview_bridge_webhook_deliveries_total", kind="handoff", outcome="ok") == 1
    assert total(samples, "interview_bridge_invitations_total", state="sent") == 1
    studies = {dict(ls)["study"] for n, ls in samples if n == "interview_bridge_interviews_started_total"}
    assert len(studies) == MAX_LABEL_VALUES + 1 and "other" in studies
    assert total(samples, "interview_bridge_interviews_started_total", study="other") == 10


async def test_the_api_budget_reports_waits_and_429s() -> None:
    from bot.core.request_budget import RequestBudget

    metrics = Metrics()
    budget = RequestBudget(1, 0.2)
    metrics.watch_budget(budget)
    await budget.acquire("a")
    waiting = asyncio.create_task(budget.acquire("b"))
    await asyncio.sleep(0)
    assert parse(metrics.exposition().decode())[("interview_bridge_api_budget_queued_requests", ())] == 1
    await waiting
    budget.penalize(0.01)
    samples = parse(metrics.exposition().decode())
    assert total(samples, "interview_bridge_api_budget_wait_seconds_count") == 2
    assert total(samples, "interview_bridge_api_budget_wait_seconds_sum") > 0.1
    assert total(samples, "interview_bridge_rate_limited_total", api="interview", platform="shared") == 1


async def test_slack_429s_and_write_waits_are_counted(tmp_path: Path) -> None:
    async with FakeSlack(signing_secret="fake-signing-secret") as fake:
        fake.add_user("U0ALICE01", "alice")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,  # type: ignore[arg-type]
            slack_app_token=fake.app_token,  # type: ignore[arg-type]
            slack_api_url=fake.api_url,
            database_path=str(tmp_path / "bot.db"),
            emulator_token_rate=2000.0,
        )
        metrics = Metrics()
        async with open_bridge(settings, observer=metrics) as bridge:
            runner = await start_slack(settings, bridge, host="127.0.0.1")
            try:
                await fake.wait_for(lambda: fake.socket.connected)
                fake.force_429("*", count=2, retry_after=0)  # slack_sdk waits Retry-After and tries again
                sent = await fake.user_sends_dm("U0ALICE01", "hi")
                key = ConversationKey("slack", fake.team_id, fake.dm_channel_of("U0ALICE01") or "", "U0ALICE01")

                def consent() -> dict[str, Any] | None:  # the consent text, in the thread the interview will use
                    found = [m for m in fake.bot_messages(key.channel, sent["ts"]) if "ib:act:agree" in str(m)]
                    return found[0] if found else None

                await fake.wait_for(lambda: consent() is not None, timeout=20)
                await fake.click("U0ALICE01", key.channel, consent()["ts"], "ib:act:agree")  # type: ignore[index]
                await fake.wait_for(lambda: len(fake.bot_messages(key.channel, sent["ts"])) >= 2, timeout=20)
                await bridge.wait_until_idle(key)
            finally:
                await runner.stop()
    samples = parse(metrics.exposition().decode())
    assert total(samples, "interview_bridge_rate_limited_total", api="slack", platform="slack") == 2
    assert total(samples, "interview_bridge_platform_write_wait_seconds_count", platform="slack") >= 1
    assert total(samples, "interview_bridge_interviews_started_total", platform="slack") == 1
