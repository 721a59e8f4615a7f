"""Consent before anything is sent: I agree starts, No thanks starts nothing and is remembered (issue 11)."""

from __future__ import annotations

from bot.core.bridge import Bridge
from bot.core.events import ConsentReply, OutcomeKind, Start, UserText
from bot.core.ports import Action, NoticeKind
from bot.core.privacy_store import ConsentDecision
from bot.core.store import Store
from bot.emulator import Emulator
from tests.core.helpers import key_of, respondent
from tests.core.recording import RecordingAdapter


async def test_nothing_reaches_the_api_before_i_agree(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator
) -> None:
    key = key_of("c1")
    asked = await bridge.handle(Start(key, respondent("c1"), "named"))
    assert asked.ok and asked.interview_id is None
    [consent] = adapter.notices_of(key, NoticeKind.CONSENT)
    assert consent.actions == (Action.AGREE, Action.DECLINE)
    for fact in ("What is collected", "Who sees it", "not anonymous", "180 days", "exit", "/interview forget-me"):
        assert fact in consent.text, fact
    said = await bridge.handle(UserText(key, "what is this about?", respondent("c1")))  # neither yes nor no
    assert said.kind is OutcomeKind.REJECTED and "Nothing has been sent yet" in (said.message or "")
    assert not emulator.requests, "not even the start call before I agree"
    started = await bridge.handle(ConsentReply(key, agreed=True, actor="c1"))
    assert started.ok and started.interview_id
    assert emulator.requests[0].path.endswith("/interviews/start")
    assert adapter.replies_of(key)[0].final, "the opening message follows"


async def test_typed_i_agree_works_like_the_button(bridge: Bridge, adapter: RecordingAdapter) -> None:
    key = key_of("c2")
    await bridge.handle(Start(key, respondent("c2"), "named"))
    assert adapter.notices_of(key, NoticeKind.CONSENT)
    started = await bridge.handle(UserText(key, "I agree", respondent("c2")))
    assert started.ok and started.interview_id


async def test_no_thanks_starts_nothing_is_counted_and_not_asked_again(
    bridge: Bridge, adapter: RecordingAdapter, emulator: Emulator, store: Store
) -> None:
    key = key_of("c3")
    await bridge.handle(Start(key, respondent("c3"), "named"))
    declined = await bridge.handle(UserText(key, "no thanks", respondent("c3")))
    assert declined.ok and "won't be asked" in (declined.message or "")
    assert adapter.notices_of(key, NoticeKind.DECLINED)
    assert (await store.consent_counts("named")).get(ConsentDecision.DECLINED) == 1
    again = await bridge.handle(Start(key, respondent("c3"), "named"))
    assert again.kind is OutcomeKind.REJECTED and "chose not to take part" in (again.message or "")
    assert len(adapter.notices_of(key, NoticeKind.CONSENT)) == 1, "not asked again"
    late = await bridge.handle(ConsentReply(key, agreed=True, actor="c3"))  # an old button clicked later
    assert late.kind is OutcomeKind.STALE
    assert not emulator.requests and await store.latest_interview(key) is None
    # the admin view counts the declined
    counts = await bridge.desk.counts(bridge.studies.get("named"))  # type: ignore[arg-type]
    assert counts.said_no == 1


async def test_the_anonymous_study_says_so_in_its_consent_text(bridge: Bridge, adapter: RecordingAdapter) -> None:
    key = key_of("c4")
    await bridge.handle(Start(key, respondent("c4"), "pulse"))
    [consent] = adapter.notices_of(key, NoticeKind.CONSENT)
    assert "without names" in consent.text and "pseudonym" in consent.text and "3 people" in consent.text
