"""Choosing a study: asked for by id, the only one open, or picked from a list; refusals say why."""

from __future__ import annotations

from dataclasses import replace

from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.events import Exit, OutcomeKind, Start, UserText
from bot.core.keys import ConversationKey
from bot.core.ports import NoticeKind
from bot.core.studies import StudyState
from bot.emulator import Emulator
from bot.studies_file import parse_studies
from storage.sqlite import SQLiteStore
from tests.core.helpers import agree, key_of, respondent, start_consented
from tests.core.recording import RecordingAdapter

from .conftest import TWO_STUDIES, BridgeFactory


async def test_a_respondent_picks_a_study_and_it_is_recorded_with_the_interview(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, emulator: Emulator
) -> None:
    key = key_of("u1")
    outcome = await start_consented(bridge, key, study="pulse")
    assert outcome.ok and outcome.interview_id
    record = await store.get_interview(outcome.interview_id)
    assert record is not None and record.study == "pulse"
    sent = emulator.interview(outcome.interview_id).respondent
    assert "display_name" not in sent and sent["external_id"].startswith("anon-"), "pulse is anonymous"
    assert "u1" not in str(sent)
    [consent] = adapter.notices_of(key, NoticeKind.CONSENT)
    assert "Team pulse" in consent.text and "without names" in consent.text, "the default consent text"


async def test_the_consent_text_comes_before_the_opening_message(bridge: Bridge, adapter: RecordingAdapter) -> None:
    key = key_of("u2")
    assert (await bridge.handle(Start(key, respondent("u2"), "onboarding"))).ok
    [consent] = adapter.notices_of(key, NoticeKind.CONSENT)
    assert "Your answers go to the community team." in consent.text, "the study's own words, then the facts"
    assert not adapter.replies_of(key), "nothing is started before I agree"
    assert (await agree(bridge, key)).interview_id
    assert adapter.notices.index((key, consent)) == 0 and adapter.replies_of(key)[0].final


async def test_several_open_studies_a_plain_dm_gets_a_choice_of_them(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore
) -> None:
    key = key_of("u3")
    outcome = await bridge.handle(UserText(key, "hi", respondent("u3")))
    assert outcome.kind is OutcomeKind.NO_INTERVIEW
    [choice] = adapter.notices_of(key, NoticeKind.CHOOSE_STUDY)
    assert choice.studies == (("onboarding", "Joining Pixel Forge"), ("pulse", "Team pulse"))  # archive is closed
    assert await store.active_interview(key) is None


async def test_once_per_respondent_holds_and_the_choice_shrinks(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore
) -> None:
    key = key_of("u4")
    first = await start_consented(bridge, key, study="onboarding")
    assert first.ok
    assert (await bridge.handle(Exit(key, confirmed=True))).ok
    again = await bridge.handle(Start(key, respondent("u4"), "onboarding"))
    assert again.kind is OutcomeKind.REJECTED
    assert again.message is not None and "already taken part" in again.message
    # a plain "new" now starts the only study still open to them, without asking
    assert (await bridge.handle(UserText(key, "new", respondent("u4")))).ok
    outcome = await agree(bridge, key)
    assert outcome.ok and outcome.interview_id
    record = await store.get_interview(outcome.interview_id)
    assert record is not None and record.study == "pulse"


async def test_a_closed_study_says_so_and_when(bridge: Bridge, adapter: RecordingAdapter) -> None:
    key = key_of("u5")
    outcome = await bridge.handle(Start(key, respondent("u5"), "archive"))
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.message == "“Last year's survey” closed on 2020-01-31 00:00 UTC — thank you for your interest!"
    assert adapter.notices_of(key, NoticeKind.INFO)[-1].text == outcome.message


async def test_an_unknown_study_lists_the_real_ones(bridge: Bridge) -> None:
    outcome = await bridge.handle(Start(key_of("u6"), respondent("u6"), "nope"))
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.message == "There is no study called “nope”. Studies: onboarding, pulse, archive."


async def test_paused_takes_no_new_interviews_but_running_ones_go_on(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, clock: ManualClock
) -> None:
    running = key_of("u7")
    started = await start_consented(bridge, running, study="pulse")
    assert started.ok
    pulse = bridge.studies.get("pulse")
    assert pulse is not None
    await bridge.gate.set_state(pulse, StudyState.PAUSED)
    refused = await bridge.handle(Start(key_of("u8"), respondent("u8"), "pulse"))
    assert refused.kind is OutcomeKind.REJECTED and refused.message is not None and "paused" in refused.message
    assert (await bridge.handle(UserText(running, "still here", respondent("u7")))).ok
    await bridge.wait_until_idle(running)
    assert (await store.get_interview(started.interview_id or "")) is not None
    await bridge.gate.set_state(pulse, StudyState.OPEN)
    assert (await bridge.handle(Start(key_of("u8"), respondent("u8"), "pulse"))).ok


async def test_who_may_take_it_is_checked_per_platform(make_bridge: BridgeFactory) -> None:
    text = TWO_STUDIES.replace(
        "    min_responses: 3\n", "    min_responses: 3\n    who: {slack_workspaces: [T1], slack_usergroups: [S9]}\n"
    )
    async with make_bridge(parse_studies(text)) as bridge:
        bridge.register(RecordingAdapter("slack"))
        outsider = ConversationKey("slack", "T2", "D1", "U1")
        refused = await bridge.handle(Start(outsider, respondent("U1"), "pulse"))
        assert refused.kind is OutcomeKind.REJECTED and refused.message is not None
        assert "isn't open to you" in refused.message
        member = ConversationKey("slack", "T1", "D2", "U2")
        info = respondent("U2")
        no_group = await bridge.handle(Start(member, info, "pulse"))
        assert no_group.kind is OutcomeKind.REJECTED
        assert (await bridge.handle(Start(member, replace(info, groups=frozenset({"S9"})), "pulse"))).ok
