"""The handoff tables on both backends: one handoff per idempotency key, the callbacks' outbox in order,
leased, retried and done, surviving a reopen (a restart)."""

from __future__ import annotations

import asyncio

from conftest import AnyStore, MakeRecord, NewStore

from bot.core.keys import ConversationKey
from bot.core.store import AnalysisStatus, HandoffRecord, HandoffStatus, RecordStatus

KEY = ConversationKey("discord", "", "dm9", "1001")


def handoff(n: int, *, idempotency_key: str | None = None, url: str | None = "http://127.0.0.1:9/cb") -> HandoffRecord:
    return HandoffRecord(
        handoff_id=f"ho_{n}",
        key=KEY,
        study="pulse",
        interview_id=f"iv-{n}",
        context={"plan": "team", "n": n, "ok": True, "ü": None},
        callback_url=url,
        idempotency_key=idempotency_key,
        created_at=100.0 + n,
        updated_at=100.0 + n,
    )


async def test_a_handoff_is_stored_once_per_idempotency_key_and_read_back_whole(store: AnyStore) -> None:
    first = await store.create_handoff(handoff(1, idempotency_key="k-1"))
    again = await store.create_handoff(handoff(2, idempotency_key="k-1"))
    assert again.handoff_id == first.handoff_id == "ho_1", "the same key gives the first handoff"
    assert await store.get_handoff("ho_2") is None
    found = await store.handoff_by_idempotency_key("k-1")
    assert found == handoff(1, idempotency_key="k-1")
    await store.create_handoff(handoff(3))
    assert await store.handoffs_since(101.5) == [103.0]
    found.status, found.end_reason, found.updated_at = HandoffStatus.COMPLETED, "manual", 200.0
    await store.update_handoff(found)
    assert await store.get_handoff("ho_1") == found


async def test_only_handoffs_with_news_are_reconciled_least_recently_seen_first(
    store: AnyStore, make_record: MakeRecord
) -> None:
    running, ended, analysed = (make_record(user=u, interview_id=f"iv-{n}") for n, u in ((1, "a"), (2, "b"), (3, "c")))
    for record in (running, ended, analysed):
        await store.create_interview(record)
        await store.create_handoff(handoff(int(record.interview_id[3:])))
    assert await store.handoffs_with_news() == [], "every interview still runs"
    for record in (ended, analysed):
        record.status, record.completion_reason = RecordStatus.COMPLETED, "natural"
        await store.update_interview(record)
    assert [h.handoff_id for h in await store.handoffs_with_news()] == ["ho_2", "ho_3"]
    third = await store.get_handoff("ho_3")
    assert third is not None
    third.status, third.updated_at = HandoffStatus.COMPLETED, 500.0
    await store.update_handoff(third)
    await store.watch_analysis("iv-3", "pulse", 600.0, 500.0)
    assert [h.handoff_id for h in await store.handoffs_with_news()] == ["ho_2"], "its analysis is awaited"
    await store.settle_analysis("iv-3", "pulse", AnalysisStatus.COMPLETED, {"themes": []}, 700.0)
    assert [h.handoff_id for h in await store.handoffs_with_news()] == ["ho_2", "ho_3"]
    third.status = HandoffStatus.ANALYSED
    await store.update_handoff(third)
    assert [h.handoff_id for h in await store.handoffs_with_news(limit=5)] == ["ho_2"]


async def test_callbacks_go_in_order_leased_retried_and_done_across_a_reopen(new_store: NewStore) -> None:
    store = new_store()
    await store.open()
    try:
        await store.create_handoff(handoff(1))
        await store.create_handoff(handoff(2))
        assert await store.add_callback("ho_1", "accepted", 1, '{"event":"accepted"}', 10.0)
        assert not await store.add_callback("ho_1", "accepted", 1, '{"event":"accepted"}', 11.0), "queued once"
        assert await store.add_callback("ho_1", "completed", 2, '{"event":"completed"}', 12.0)
        assert await store.add_callback("ho_2", "accepted", 1, '{"event":"accepted","ü":1}', 12.0)
        claimed = await store.claim_callbacks(20.0, lease=60.0)
        assert [(c.handoff_id, c.event) for c in claimed] == [("ho_1", "accepted"), ("ho_2", "accepted")]
        assert claimed[0].url == "http://127.0.0.1:9/cb" and claimed[1].body == '{"event":"accepted","ü":1}'
        assert await store.claim_callbacks(21.0, lease=60.0) == [], "leased: another sweep skips them"
        await store.callback_retry("ho_1", "accepted", 1, 30.0)
    finally:
        await store.close()
    store = new_store()  # a restart: the outbox is still there
    await store.open()
    try:
        claimed = await store.claim_callbacks(30.0, lease=60.0)
        assert [(c.event, c.attempts) for c in claimed] == [("accepted", 1)], "completed waits for accepted"
        await store.callback_done("ho_1", "accepted", 31.0, delivered=True)
        await store.callback_done("ho_2", "accepted", 31.0, delivered=False)  # given up
        claimed = await store.claim_callbacks(32.0, lease=60.0)
        assert [(c.handoff_id, c.event) for c in claimed] == [("ho_1", "completed")]
        await store.callback_done("ho_1", "completed", 33.0, delivered=True)
        assert await store.claim_callbacks(10_000.0, lease=60.0) == []
    finally:
        await store.close()


async def test_two_sweeps_at_once_never_claim_the_same_callback(new_store: NewStore) -> None:
    stores = [new_store(), new_store()]
    for s in stores:
        await s.open()
    try:
        for n in range(1, 11):
            await stores[0].create_handoff(handoff(n))
            await stores[0].add_callback(f"ho_{n}", "accepted", 1, "{}", 1.0)
        a, b = await asyncio.gather(*(s.claim_callbacks(5.0, lease=60.0, limit=10) for s in stores))
        claimed = [c.handoff_id for c in (*a, *b)]
        assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 10
    finally:
        for s in stores:
            await s.close()


async def test_a_handoff_waits_without_an_interview_then_is_accepted_or_removed(store: AnyStore) -> None:
    other = ConversationKey("discord", "", "dm8", "1002")
    waiting = handoff(4, idempotency_key="k-4")
    waiting.interview_id, waiting.status, waiting.expires_at = None, HandoffStatus.CONSENT_PENDING, 500.0
    waiting.request_hash = "ab" * 32
    starting = handoff(5)
    starting.key, starting.interview_id, starting.status, starting.expires_at = (
        other,
        None,
        HandoffStatus.STARTING,
        300.0,
    )
    for record in (waiting, starting, handoff(6)):
        await store.create_handoff(record)
    assert await store.get_handoff("ho_4") == waiting, "no interview id, the hash and the expiry read back"
    assert [h.handoff_id for h in await store.waiting_handoffs()] == ["ho_5", "ho_4"], "soonest to expire first"
    assert [h.handoff_id for h in await store.waiting_handoffs(KEY)] == ["ho_4"]

    waiting.status, waiting.interview_id, waiting.expires_at, waiting.updated_at = (
        HandoffStatus.ACCEPTED,
        "iv-4",
        None,
        9.0,
    )
    await store.update_handoff(waiting)
    assert await store.get_handoff("ho_4") == waiting, "the interview id is written once the person agrees"
    assert await store.add_callback("ho_5", "expired", 1, "{}", 1.0)
    await store.delete_handoff("ho_5")
    assert await store.get_handoff("ho_5") is None and await store.waiting_handoffs() == []
    assert await store.claim_callbacks(10.0, 60.0) == [], "its callbacks went with it"


async def test_forgetting_a_person_erases_their_handoffs_that_never_started(store: AnyStore) -> None:
    declined = handoff(7)
    declined.interview_id, declined.status = None, HandoffStatus.DECLINED
    await store.create_handoff(declined)
    await store.add_callback("ho_7", "declined", 1, '{"event":"declined"}', 1.0)
    elsewhere = handoff(8)
    elsewhere.key = ConversationKey("discord", "", "dm7", "1009")
    elsewhere.interview_id, elsewhere.status = None, HandoffStatus.EXPIRED
    await store.create_handoff(elsewhere)
    removed = await store.forget_user("discord", None, KEY.user, "erasure-hash", 50.0)
    assert removed["handoffs"] == 1 and removed["handoff_callbacks"] == 1
    assert await store.get_handoff("ho_7") is None
    assert await store.get_handoff("ho_8") is not None, "someone else's stays"
