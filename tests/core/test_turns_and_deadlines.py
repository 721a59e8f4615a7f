"""Turns in order, failures mid-reply, inactivity, restarts — core against the built-in server."""

from __future__ import annotations

import asyncio

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.events import Exit, OutcomeKind, Retry, UserText
from bot.core.ports import Action, NoticeKind
from bot.core.store import RecordStatus
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore
from tests.waiting import wait_until

from .conftest import CONFIG
from .helpers import key_of, respondent, say, start, start_consented
from .recording import RecordingAdapter


async def _respondent_messages(bridge: Bridge, interview_id: str) -> list[str]:
    details = await bridge.client.get(interview_id)
    return [e.content for e in details.transcript if e.role == "respondent"]


async def test_messages_during_a_reply_are_kept_in_order_and_sent_together(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("q1")
    interview_id = await start(bridge, key)
    emulator.faults.token_rate = 60.0  # a slow reply, so the next messages arrive while it streams
    outcome = await bridge.handle(UserText(key, "first", respondent("q1")))
    assert outcome.ok
    # "first" is on its way once its reply has begun (opening + this one)
    await wait_until(lambda: len(adapter.replies_of(key)) >= 2, adapter.changed, timeout=30, poll=0.01)
    for text in ("second", "third"):
        outcome = await bridge.handle(UserText(key, text, respondent("q1")))
        assert outcome.ok
    await bridge.wait_until_idle(key)
    assert await _respondent_messages(bridge, interview_id) == ["first", "second\n\nthird"]
    replies = [r for r in adapter.replies_of(key) if r.final is not None]
    assert len(replies) == 3  # opening + two replies, each delivered whole
    assert all(r.shown == r.final for r in replies)


async def test_slow_replies_reach_the_adapter_in_pieces(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    adapter = RecordingAdapter(update_interval=0.1)
    bridge = Bridge(client, store, CONFIG, clock=clock)
    bridge.register(adapter)
    key = key_of("q2")
    await start(bridge, key)
    emulator.faults.token_rate = 80.0
    await say(bridge, key, "I mostly hang out in the voice channels in the evenings.")
    reply = adapter.replies_of(key)[-1]
    assert len(reply.appends) >= 2, "the reply grows while it streams"
    assert reply.final is not None and reply.final.startswith("".join(reply.appends))  # finish carries the rest


async def test_a_failure_mid_reply_ends_visibly_and_retry_sends_nothing_twice(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("f1")
    interview_id = await start(bridge, key)
    emulator.faults.error_rate = 1.0  # every message request fails with a 5xx
    await bridge.handle(UserText(key, "my answer", respondent("f1")))
    await bridge.wait_until_idle(key)
    failed = adapter.replies_of(key)[-1]
    assert failed.failed is not None and failed.final is None
    assert failed.failed.actions == (Action.RETRY, Action.END)
    assert "kept" in failed.failed.text
    emulator.faults.error_rate = 0.0
    outcome = await bridge.handle(Retry(key, actor="f1"))
    assert outcome.ok
    await bridge.wait_until_idle(key)
    assert adapter.replies_of(key)[-1].final
    assert await _respondent_messages(bridge, interview_id) == ["my answer"]
    assert (await bridge.handle(Retry(key, actor="f1"))).kind is OutcomeKind.STALE


async def test_a_cut_stream_is_recovered_without_sending_twice(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("f2")
    interview_id = await start(bridge, key)
    emulator.faults.cut_stream_after_chars = 15
    await say(bridge, key, "I found the server through a YouTube video.")
    details = await bridge.client.get(interview_id)
    last = [e.content for e in details.transcript if e.role == "interviewer"][-1]
    assert adapter.replies_of(key)[-1].final == last
    assert await _respondent_messages(bridge, interview_id) == ["I found the server through a YouTube video."]


async def test_nudge_then_timeout_with_an_injected_clock(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    key = key_of("t1")
    interview_id = await start(bridge, key)
    clock.advance(CONFIG.inactivity_timeout - CONFIG.inactivity_nudge - 1)
    assert await bridge.check_deadlines() == 0
    clock.advance(2)
    assert await bridge.check_deadlines() == 1
    nudges = adapter.notices_of(key, NoticeKind.NUDGE)
    assert len(nudges) == 1 and "2 min" in nudges[0].text
    assert await bridge.check_deadlines() == 0  # one reminder only
    clock.advance(CONFIG.inactivity_nudge)
    assert await bridge.check_deadlines() == 1
    record = await store.get_interview(interview_id)
    assert record is not None and record.status is RecordStatus.COMPLETED
    assert record.completion_reason == "timeout"
    assert "without a reply" in adapter.notices_of(key, NoticeKind.ENDED)[0].text
    assert (await bridge.client.get(interview_id)).status == "completed"
    # after completion, a new message offers a new interview
    offer = await bridge.handle(UserText(key, "hello again", respondent("t1")))
    assert offer.kind is OutcomeKind.NO_INTERVIEW
    assert adapter.notices_of(key, NoticeKind.OFFER_NEW)[0].actions == (Action.NEW_INTERVIEW,)
    assert (await bridge.handle(UserText(key, "new", respondent("t1")))).ok


async def test_an_answer_resets_the_inactivity_clock(
    bridge: Bridge, adapter: RecordingAdapter, clock: ManualClock
) -> None:
    key = key_of("t2")
    await start(bridge, key)
    clock.advance(CONFIG.inactivity_timeout - 10)
    await say(bridge, key, "still here")
    clock.advance(20)
    assert await bridge.check_deadlines() == 0


async def test_an_unreachable_respondent_completes_as_unreachable(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, clock: ManualClock
) -> None:
    key = key_of("t3")
    interview_id = await start(bridge, key)
    adapter.unreachable.add("t3")  # blocked the bot / left the server
    clock.advance(CONFIG.inactivity_timeout - CONFIG.inactivity_nudge + 1)
    await bridge.check_deadlines()
    clock.advance(CONFIG.inactivity_nudge)
    await bridge.check_deadlines()
    record = await store.get_interview(interview_id)
    assert record is not None and record.completion_reason == "unreachable"
    assert not adapter.notices_of(key, NoticeKind.NUDGE)


async def test_many_conversations_do_not_wait_for_each_other(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    keys = [key_of(f"c{i}") for i in range(8)]
    ids = await asyncio.gather(*(start(bridge, k) for k in keys))
    assert len(set(ids)) == 8
    await asyncio.gather(*(say(bridge, k, f"answer from {k.user}") for k in keys))
    for key, interview_id in zip(keys, ids, strict=True):
        assert await _respondent_messages(bridge, interview_id) == [f"answer from {key.user}"]


async def test_a_turn_in_flight_is_resumed_by_a_new_bridge(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    """A stored turn that the API accepted is recovered by GET, not sent again."""
    adapter = RecordingAdapter()
    first = Bridge(client, store, CONFIG, clock=clock)
    first.register(adapter)
    key = key_of("r1")
    interview_id = await start(first, key)
    emulator.faults.token_rate = 30.0
    await first.handle(UserText(key, "cut me off", respondent("r1")))
    await emulator_wait_for_respondent(first, interview_id)
    await first.stop()  # the bot shuts down mid-reply: the turn stays in flight
    assert await store.turn_in_flight(interview_id) is not None
    cut = adapter.replies_of(key)[-1]
    assert cut.failed is not None and "restarting" in cut.failed.text
    emulator.faults.token_rate = 5000.0
    again = RecordingAdapter()
    second = Bridge(client, store, CONFIG, clock=clock)
    second.register(again)
    await second.start()
    await second.wait_until_idle(key)
    await second.stop()
    assert await store.turn_in_flight(interview_id) is None
    assert await _respondent_messages(second, interview_id) == ["cut me off"]
    details = await client.get(interview_id)
    assert again.replies_of(key)[-1].final == [e.content for e in details.transcript if e.role == "interviewer"][-1]


async def emulator_wait_for_respondent(bridge: Bridge, interview_id: str) -> None:
    for _ in range(200):
        if await _respondent_messages(bridge, interview_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the message never reached the server")


async def test_a_respondent_waiting_for_the_shared_budget_sees_their_place(
    store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    from bot.core.request_budget import RequestBudget

    budget = RequestBudget(limit=3, window=1.0)
    adapter = RecordingAdapter()
    async with InterviewClient(emulator.base_url, emulator.api_key, budget=budget) as client:
        bridge = Bridge(client, store, CONFIG, clock=clock)
        bridge.register(adapter)
        keys = [key_of(f"b{i}") for i in range(5)]
        await asyncio.gather(*(start(bridge, k) for k in keys))
        await bridge.stop()
    statuses = [s for r in adapter.replies for s in r.statuses]
    assert statuses, "at least one respondent was told they wait"
    assert all("in line" in s or "next" in s for s in statuses)
    assert all(r.final for r in adapter.replies), "everyone got their opening message in the end"


async def test_a_resumed_turn_waiting_for_the_shared_budget_shows_its_place(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    """A turn picked up after a restart (or from a dead instance) is looked up first; that look-up waits for the
    key's budget like any request, and the respondent sees their place in the queue meanwhile, not silence."""
    from bot.core.request_budget import RequestBudget

    first = Bridge(client, store, CONFIG, clock=clock)
    first.register(RecordingAdapter())
    key = key_of("q1")
    interview_id = await start(first, key)
    emulator.faults.token_rate = 30.0
    await first.handle(UserText(key, "cut me off", respondent("q1")))
    await emulator_wait_for_respondent(first, interview_id)
    await first.stop()  # the turn stays in flight
    emulator.faults.token_rate = 5000.0
    budget = RequestBudget(limit=1, window=1.5)
    again = RecordingAdapter()
    async with InterviewClient(emulator.base_url, emulator.api_key, budget=budget) as busy:
        await busy.get(interview_id)  # someone else's request just took the key's only slot
        second = Bridge(busy, store, CONFIG, clock=clock)
        second.register(again)
        await second.start()
        await second.wait_until_idle(key)
        await second.stop()
        assert await _respondent_messages(second, interview_id) == ["cut me off"]  # looked up, not sent again
    [resumed] = again.replies_of(key)
    assert resumed.statuses and all("in line" in s or "next" in s for s in resumed.statuses), resumed.statuses
    assert resumed.final


async def test_an_opening_never_shown_is_shown_when_the_respondent_writes(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    """An interview stored but its opening never on screen (the instance that started it was killed in between,
    or the platform refused it): the respondent saw no question, so what they write next answers nothing. The
    opening is shown then, with its question, and their next message is the first answer."""
    key = key_of("o1")
    adapter.broken_finishes = 1  # the platform refuses the opening
    refused = await start_consented(bridge, key)
    assert refused.kind is OutcomeKind.ERROR
    [record] = await bridge.store.interviews_of_user("test", "o1")
    assert (await bridge.handle(UserText(key, "hello? anyone there?", respondent("o1")))).ok
    await bridge.wait_until_idle(key)
    opening = adapter.replies_of(key)[-1]
    said = [e["content"] for e in emulator.transcript(record.interview_id) if e["role"] == "interviewer"]
    assert opening.final == said[0]
    assert await _respondent_messages(bridge, record.interview_id) == []  # nothing went in as an answer
    await say(bridge, key, "I joined for the game jams.")
    assert await _respondent_messages(bridge, record.interview_id) == ["I joined for the game jams."]
    assert adapter.replies_of(key)[-1].final  # the reply to that answer


async def test_deadlines_survive_a_restart(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, adapter: RecordingAdapter
) -> None:
    first = Bridge(client, store, CONFIG, clock=clock)
    first.register(adapter)
    key = key_of("d1")
    interview_id = await start(first, key)
    await first.stop()
    clock.advance(CONFIG.inactivity_timeout + 1)  # the bot was down past the deadline
    second = Bridge(client, store, CONFIG, clock=clock)
    second.register(adapter)
    await second.start()
    assert await second.check_deadlines() == 1
    await second.stop()
    record = await store.get_interview(interview_id)
    assert record is not None and record.completion_reason == "timeout"


async def test_respondent_unreachable_mid_stream_keeps_the_reply_and_ends_as_unreachable(
    client: InterviewClient, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    adapter = RecordingAdapter(update_interval=0.0)  # every chunk goes straight to the adapter
    bridge = Bridge(client, store, CONFIG, clock=clock)
    bridge.register(adapter)
    key = key_of("t4")
    interview_id = await start(bridge, key)
    emulator.faults.token_rate = 50.0
    await bridge.handle(UserText(key, "I left the server the next day, to be honest.", respondent("t4")))
    for _ in range(300):  # block the bot once the reply has started to show
        if adapter.replies_of(key)[-1].appends:
            break
        await asyncio.sleep(0.01)
    adapter.unreachable.add("t4")
    await bridge.wait_until_idle(key)
    assert adapter.refused, "the platform refused part of the reply"
    assert await store.turn_in_flight(interview_id) is None, "the turn finished although nobody saw its end"
    assert [line.role for line in await store.transcript(interview_id)][-2:] == ["respondent", "interviewer"]
    clock.advance(CONFIG.inactivity_timeout + 1)
    await bridge.check_deadlines()
    record = await store.get_interview(interview_id)
    assert record is not None and record.completion_reason == "unreachable"


async def test_an_adapter_bug_mid_reply_ends_the_turn_visibly_and_retry_works(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("x1")
    interview_id = await start(bridge, key)
    adapter.broken_appends = True  # the platform code raises something nobody planned for
    emulator.faults.token_rate = 200.0
    await bridge.handle(UserText(key, "the rules channel was long", respondent("x1")))
    await bridge.wait_until_idle(key)
    broken = adapter.replies_of(key)[-1]
    assert broken.failed is not None and broken.failed.actions == (Action.RETRY, Action.END)
    adapter.broken_appends = False
    assert (await bridge.handle(Retry(key, actor="x1"))).ok
    await bridge.wait_until_idle(key)
    assert adapter.replies_of(key)[-1].final
    assert await _respondent_messages(bridge, interview_id) == ["the rules channel was long"]


async def test_a_platform_error_showing_the_answered_reply_offers_retry_and_sends_nothing_twice(
    bridge: Bridge, adapter: RecordingAdapter
) -> None:
    key = key_of("x2")
    interview_id = await start(bridge, key)
    adapter.broken_finishes = 1  # e.g. Slack answers chat.update with ratelimited
    await bridge.handle(UserText(key, "the search finds old threads", respondent("x2")))
    await bridge.wait_until_idle(key)
    notice = adapter.notices_of(key, NoticeKind.ERROR)[-1]
    assert notice.actions == (Action.RETRY, Action.END)  # the respondent is told, the worker did not just die
    assert await bridge.store.turn_in_flight(interview_id) is not None
    assert (await bridge.handle(Retry(key, actor="x2"))).ok
    await bridge.wait_until_idle(key)
    assert adapter.replies_of(key)[-1].final  # looked up, shown whole
    assert await bridge.store.turn_in_flight(interview_id) is None
    assert await _respondent_messages(bridge, interview_id) == ["the search finds old threads"]


async def test_retry_clicked_the_instant_it_shows_is_not_refused(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("f3")
    interview_id = await start(bridge, key)
    outcomes = []

    async def click_retry(reply: object) -> None:
        emulator.faults.error_rate = 0.0
        outcomes.append(await bridge.handle(Retry(key, actor="f3")))

    adapter.on_fail = click_retry
    emulator.faults.error_rate = 1.0
    await bridge.handle(UserText(key, "quick fingers", respondent("f3")))
    await bridge.wait_until_idle(key)
    assert [o.kind for o in outcomes] == [OutcomeKind.ACCEPTED]
    assert adapter.replies_of(key)[-1].final, "the retried reply came through"
    assert await _respondent_messages(bridge, interview_id) == ["quick fingers"]


async def test_an_exit_while_the_api_is_down_completes_later_and_takes_no_more_messages(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, emulator: Emulator
) -> None:
    key = key_of("e1")
    interview_id = await start(bridge, key)
    emulator.faults.error_rate = 1.0
    await bridge.handle(Exit(key, confirmed=True))
    assert adapter.notices_of(key, NoticeKind.ENDED), "the respondent is told at once"
    record = await store.get_interview(interview_id)
    assert record is not None and record.status is RecordStatus.COMPLETING
    late = await bridge.handle(UserText(key, "one more thing", respondent("e1")))
    assert late.kind is OutcomeKind.NO_INTERVIEW  # not queued into an interview that has ended
    emulator.faults.error_rate = 0.0
    again = await bridge.handle(UserText(key, "new", respondent("e1")))
    assert again.ok and again.interview_id != interview_id
    record = await store.get_interview(interview_id)
    assert record is not None and record.status is RecordStatus.COMPLETED
    details = await bridge.client.get(interview_id)
    assert details.status == "completed"
    assert [e for e in details.transcript if e.role == "respondent"] == []
