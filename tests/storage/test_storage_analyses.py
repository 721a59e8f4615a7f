"""The results tables on both backends: analyses watched once, due by their timer, saved whole, by study."""

from __future__ import annotations

import asyncio

from conftest import AnyStore, MakeRecord

from bot.core.store import AnalysisStatus


async def test_analyses_are_watched_once_due_by_timer_and_saved_whole(store: AnyStore, make_record: MakeRecord) -> None:
    first, second = make_record(user="u1", study="pulse"), make_record(user="u2", study="pulse")
    other = make_record(user="u3", study="onboarding")
    for record in (first, second, other):
        await store.create_interview(record)
    assert await store.watch_analysis(first.interview_id, "pulse", 115.0, 100.0)
    assert not await store.watch_analysis(first.interview_id, "pulse", 999.0, 100.0), "watched once"
    assert await store.watch_analysis(second.interview_id, "pulse", 160.0, 101.0)
    assert await store.watch_analysis(other.interview_id, "onboarding", 120.0, 102.0)
    assert [a.interview_id for a in await store.due_analyses(114.0)] == []
    assert [a.interview_id for a in await store.due_analyses(130.0)] == [first.interview_id, other.interview_id]
    record = await store.get_analysis(first.interview_id)
    assert record is not None and record.status is AnalysisStatus.WAITING and record.next_poll_at == 115.0
    record.status, record.analysis, record.next_poll_at, record.posted = (
        AnalysisStatus.COMPLETED, {"quality_score": 4, "themes": ["ü"]}, None, True,
    )  # fmt: skip
    await store.save_analysis(record)
    again = await store.get_analysis(first.interview_id)
    assert again is not None and again.analysis == {"quality_score": 4, "themes": ["ü"]} and again.posted
    assert [a.interview_id for a in await store.due_analyses(10_000.0)] == [other.interview_id, second.interview_id]
    assert [a.interview_id for a in await store.analyses_of_study("pulse")] == [first.interview_id, second.interview_id]
    assert [r.interview_id for r in await store.interviews_of_study("pulse")] == [
        first.interview_id,
        second.interview_id,
    ]
    assert await store.get_analysis("nope") is None


async def test_an_analysis_settles_once_and_a_late_poll_changes_nothing(
    store: AnyStore, make_record: MakeRecord
) -> None:
    record = make_record(user="u9", study="pulse")
    await store.create_interview(record)
    assert await store.watch_analysis(record.interview_id, "pulse", 115.0, 100.0)
    results = await asyncio.gather(
        *(
            store.settle_analysis(record.interview_id, "pulse", AnalysisStatus.COMPLETED, {"route": n}, 120.0)
            for n in range(5)
        )
    )
    assert sorted(results) == [False, False, False, False, True], "one caller lands it"
    assert not await store.reschedule_analysis(record.interview_id, 1, 180.0, 121.0), "a poll that came late"
    settled = await store.get_analysis(record.interview_id)
    assert settled is not None and settled.status is AnalysisStatus.COMPLETED and settled.next_poll_at is None
    assert settled.analysis is not None and settled.analysis["route"] in range(5)
    # an analysis never watched (the webhook came first) is inserted by its settling
    other = make_record(user="u10", study="pulse")
    await store.create_interview(other)
    assert await store.settle_analysis(other.interview_id, "pulse", AnalysisStatus.FAILED, None, 130.0)
    assert not await store.watch_analysis(other.interview_id, "pulse", 145.0, 130.0), "no poll after it landed"
    assert [a.interview_id for a in await store.due_analyses(10_000.0)] == []
