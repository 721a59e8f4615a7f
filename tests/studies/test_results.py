"""Results back to the team: polling with backoff (injected clock), the summary card, anonymous aggregates."""

from __future__ import annotations

import asyncio

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.request_budget import RequestBudget
from bot.core.store import AnalysisStatus
from bot.emulator import Emulator
from bot.studies_file import parse_studies
from storage.sqlite import SQLiteStore
from tests.core.helpers import key_of
from tests.waiting import wait_until

from .conftest import CONFIG, TWO_STUDIES, ResultsRecorder
from .steps import finish_interview


async def _analysed_by_server(emulator: Emulator, interview_id: str) -> None:
    predicate = lambda: emulator.interview(interview_id).analysis_status == "completed"  # noqa: E731
    await wait_until(predicate, asyncio.Event(), 10.0, 0.02)


async def test_after_a_natural_end_polling_fetches_the_analysis_and_the_channel_gets_a_card(
    bridge: Bridge, adapter: ResultsRecorder, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    team = ResultsRecorder("discord")
    bridge.register(team)
    interview_id = await finish_interview(bridge, adapter, key_of("u1"), "onboarding", 1)
    record = await store.get_analysis(interview_id)
    assert record is not None and record.status is AnalysisStatus.WAITING
    assert record.next_poll_at == clock.now() + 15
    await _analysed_by_server(emulator, interview_id)
    assert await bridge.results.poll_due() == 0, "nothing is due before 15 s"
    clock.advance(15)
    assert await bridge.results.poll_due() == 1
    record = await store.get_analysis(interview_id)
    assert record is not None and record.status is AnalysisStatus.COMPLETED and record.analysis
    [(channel, card, files)] = team.posted
    assert channel == "900" and files == ()
    assert card.title == "Joining Pixel Forge: interview with Member u1"
    fields = dict(card.fields)
    assert fields["How easy was joining?"] == "2" and fields["Where did you hear of us?"] == "Reddit"
    assert fields["Which do you use?"] == "Voice, Events" and fields["Would you come back?"] == "no"
    assert fields["Rank these for us."] == "Fun, Speed, Price"
    assert fields["Ended"] == "completed" and "Quality" in fields and "Duration" in fields
    assert "Channel overload" in fields["Themes"]
    assert card.quote and len(card.quote) <= 160
    clock.advance(3600)
    assert await bridge.results.poll_due() == 0 and len(team.posted) == 1, "posted once, polled no more"


async def test_polling_backs_off_15_s_1_min_5_min_then_every_30_min(
    bridge: Bridge, adapter: ResultsRecorder, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    emulator.config.analysis_delay = 3600.0  # the service takes its time
    interview_id = await finish_interview(bridge, adapter, key_of("u2"), "onboarding", 2)
    gets = lambda: sum(1 for r in emulator.requests if r.method == "GET" and interview_id in r.path)  # noqa: E731
    seen = []
    for step in (15, 60, 300, 1800, 1800):
        clock.advance(step - 1)
        assert await bridge.results.poll_due() == 0
        clock.advance(1)
        assert await bridge.results.poll_due() == 1
        record = await store.get_analysis(interview_id)
        assert record is not None
        seen.append(record.next_poll_at and record.next_poll_at - clock.now())
    assert seen == [60, 300, 1800, 1800, 1800]
    assert gets() == 5


async def test_polls_give_way_when_the_key_budget_is_nearly_used(
    adapter: ResultsRecorder, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    budget = RequestBudget(20, 60.0)
    async with InterviewClient(emulator.base_url, emulator.api_key, budget=budget) as client:
        bridge = Bridge(client, store, CONFIG, clock=clock, studies=parse_studies(TWO_STUDIES))
        bridge.register(adapter)
        await bridge.start()
        try:
            interview_id = await finish_interview(bridge, adapter, key_of("u3"), "onboarding", 3)
            await _analysed_by_server(emulator, interview_id)
            clock.advance(15)
            held = [await budget.acquire_slot(f"busy-{n}") for n in range(budget.available() - 4)]
            assert budget.available() == 4
            assert await bridge.results.poll_due() == 0, "conversations first: a quarter of the budget stays free"
            for slot in held:
                budget.release(slot)
            assert await bridge.results.poll_due() == 1
        finally:
            await bridge.stop()


async def test_an_anonymous_study_posts_nothing_until_min_responses_then_only_aggregates(
    bridge: Bridge, adapter: ResultsRecorder, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    team = ResultsRecorder("discord")
    bridge.register(team)
    for n in range(1, 4):
        interview_id = await finish_interview(bridge, adapter, key_of(f"zed{n}"), "pulse", n)
        await _analysed_by_server(emulator, interview_id)
        clock.advance(15)
        assert await bridge.results.poll_due() == 1
        if n < 3:
            assert team.posted == [], f"nothing after {n} interviews"
    [(channel, card, _)] = team.posted
    assert channel == "901"
    assert card.title == "Team pulse: 3 interviews analysed"
    text = card.title + repr(card.fields) + (card.quote or "") + (card.footer or "")
    assert "Member" not in text and "zed" not in text, "no name, ever"
    for record in await store.interviews_of_study("pulse"):
        assert "respondent_name" not in record.platform_state, "not even stored"
    assert card.quote is None
    fields = dict(card.fields)
    assert fields["How easy was joining?"] == "mean 3.0 (n=3)"
    assert fields["Where did you hear of us?"] == "Reddit 1 · YouTube 1 · A friend 1"
    assert fields["Would you come back?"] == "no 2 · yes 1"
    assert fields["Rank these for us."] == "Fun: 1.7 · Speed: 1.7 · Price: 2.7"
    assert card.footer == "Aggregates only: this study is anonymous."
