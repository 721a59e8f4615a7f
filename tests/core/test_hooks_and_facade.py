"""The facade an embedding bot uses: lifecycle hooks on every path, read-only views, a core that never raises."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bot.core import (
    Answer,
    Bridge,
    ConversationKey,
    EndReason,
    Exit,
    InterviewStatus,
    ManualClock,
    OutcomeKind,
    RecordStatus,
    Start,
    UserText,
    ending_label,
)
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore

from .conftest import CONFIG
from .helpers import key_of, respondent, say, start
from .recording import RecordingAdapter


class Hooked:
    """A subscriber that writes down what it heard."""

    def __init__(self) -> None:
        self.started: list[tuple[ConversationKey, str]] = []
        self.ended: list[tuple[ConversationKey, str, EndReason]] = []

    async def on_started(self, key: ConversationKey, interview_id: str) -> None:
        self.started.append((key, interview_id))

    async def on_ended(self, key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        self.ended.append((key, interview_id, reason))


@pytest.fixture
def hooked(bridge: Bridge) -> Hooked:
    heard = Hooked()
    bridge.on_started(heard.on_started)
    bridge.on_ended(heard.on_ended)
    return heard


async def test_started_and_ended_by_the_respondent(bridge: Bridge, hooked: Hooked) -> None:
    key = key_of("h1")
    interview_id = await start(bridge, key)
    await bridge.wait_until_idle(key)
    assert hooked.started == [(key, interview_id)]
    assert (await bridge.handle(Exit(key, confirmed=True, actor=key.user))).ok
    await bridge.wait_until_idle(key)
    assert hooked.ended == [(key, interview_id, EndReason.RESPONDENT_LEFT)]


async def test_ended_by_a_timeout_and_by_an_unreachable_respondent(
    bridge: Bridge, hooked: Hooked, adapter: RecordingAdapter, clock: ManualClock
) -> None:
    quiet, blocked = key_of("h2"), key_of("h3")
    quiet_id, blocked_id = await start(bridge, quiet), await start(bridge, blocked)
    adapter.unreachable.add("h3")  # blocked the bot: the reminder cannot be delivered
    clock.advance(CONFIG.inactivity_timeout - CONFIG.inactivity_nudge + 1)
    await bridge.check_deadlines()
    assert hooked.ended == []  # a reminder is no end
    clock.advance(CONFIG.inactivity_nudge)
    await bridge.check_deadlines()
    await bridge.wait_until_idle(quiet)
    assert sorted(hooked.ended, key=lambda e: e[1]) == sorted(
        [(quiet, quiet_id, EndReason.TIMEOUT), (blocked, blocked_id, EndReason.UNREACHABLE)], key=lambda e: e[1]
    )


async def test_ended_by_the_bot_itself(bridge: Bridge, hooked: Hooked) -> None:
    key = key_of("h4")
    interview_id = await start(bridge, key)
    assert (await bridge.end(key)).ok
    await bridge.wait_until_idle(key)
    assert hooked.ended == [(key, interview_id, EndReason.MANUAL)]
    status = await bridge.status(key)
    assert status is not None and status.end_reason is EndReason.MANUAL and status.ended
    assert (await bridge.end(key)).kind is OutcomeKind.NO_INTERVIEW  # nothing left to end: no second hook
    assert len(hooked.ended) == 1


async def test_ended_when_the_api_no_longer_knows_the_interview(
    bridge: Bridge, hooked: Hooked, emulator: Emulator, adapter: RecordingAdapter
) -> None:
    key = key_of("h5")
    interview_id = await start(bridge, key)
    del emulator.book.interviews[interview_id]  # the service lost it (deleted, expired)
    await bridge.handle(UserText(key, "Are you still there?", respondent(key.user)))
    await bridge.wait_until_idle(key)
    assert hooked.ended == [(key, interview_id, EndReason.GONE)]
    status = await bridge.status(key)
    assert status is not None and status.status is RecordStatus.COMPLETED and status.end_reason is EndReason.GONE
    assert ending_label(status.end_reason, "en") == "no longer known to the interview service"


async def test_a_subscriber_that_raises_is_logged_and_harms_nothing(
    bridge: Bridge, hooked: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: ConversationKey, interview_id: str) -> None:
        raise RuntimeError("the host bot's bug")

    bridge.on_started(broken)
    bridge.on_started(hooked.on_started)  # a second listener of the same hook still hears it
    key = key_of("h6")
    with caplog.at_level(logging.ERROR, logger="bot.core.hooks"):
        interview_id = await start(bridge, key)
        await bridge.wait_until_idle(key)
    assert hooked.started == [(key, interview_id)] * 2
    assert "on_started subscriber failed" in caplog.text
    await say(bridge, key, "The interview goes on as if nothing happened.")
    bridge.remove_hook(broken)
    bridge.remove_hook(hooked.on_started)
    assert (await bridge.handle(Exit(key, confirmed=True))).ok
    await bridge.wait_until_idle(key)
    assert len(hooked.started) == 2 and hooked.ended == [(key, interview_id, EndReason.RESPONDENT_LEFT)]


async def test_handle_never_raises_a_platform_error(bridge: Bridge, adapter: RecordingAdapter, hooked: Hooked) -> None:
    key = key_of("h7")
    interview_id = await start(bridge, key)
    adapter.broken_notify = ConnectionResetError("the platform hung up")  # e.g. the exit confirmation fails
    outcome = await bridge.handle(Exit(key, confirmed=False))
    assert outcome.kind is OutcomeKind.ERROR and outcome.message and "try again" in outcome.message
    adapter.broken_notify = None

    adapter.unreachable.add("h8")  # DMs closed before anything could be shown
    refused = await bridge.handle(Start(key_of("h8"), respondent("h8")))
    assert refused.kind is OutcomeKind.UNREACHABLE and refused.message
    assert [started for started in hooked.started if started[0] == key_of("h8")] == []

    adapter.broken_notify = RuntimeError("a bug in the platform code")  # the closing message fails
    assert (await bridge.handle(Exit(key, confirmed=True))).kind is OutcomeKind.ERROR
    await bridge.wait_until_idle(key)
    assert hooked.ended == [(key, interview_id, EndReason.RESPONDENT_LEFT)]  # the end is heard all the same


async def test_status_is_a_read_only_view_without_the_session_token(bridge: Bridge, store: SQLiteStore) -> None:
    key = key_of("h9")
    interview_id = await start(bridge, key)
    record = await store.get_interview(interview_id)
    assert record is not None and record.session_token
    status = await bridge.status(key)
    assert isinstance(status, InterviewStatus) and status.active and status.interview_id == interview_id
    assert "session_token" not in {f.name for f in dataclasses.fields(InterviewStatus)}
    assert record.session_token not in repr(status)
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.turns_sent = 99  # type: ignore[misc]
    assert [s.interview_id for s in await bridge.interviews_of(key.platform, key.user)] == [interview_id]
    assert await bridge.active_conversations(key.platform) == [key]


async def test_the_core_answers_who_may_act_on_a_question(bridge: Bridge, adapter: RecordingAdapter) -> None:
    key = key_of("h10")
    await start(bridge, key)
    for _ in range(10):  # talk until the interviewer asks a structured question
        pending = await bridge.pending(key)
        if pending is not None:
            break
        await say(bridge, key, "It was fine, mostly; the channel list was long.")
    assert pending is not None and await bridge.pending_in(pending.interview_id) == pending
    question_id = pending.question.id
    assert (await bridge.may_answer(key.user, pending.interview_id, question_id)).ok
    theirs = await bridge.may_answer("someone-else", pending.interview_id, question_id)
    assert theirs.kind is OutcomeKind.NOT_YOURS and theirs.message
    stale = await bridge.may_answer(key.user, pending.interview_id, "an-old-question")
    assert stale.kind is OutcomeKind.STALE
    clicked = await bridge.handle(Answer(key, "someone-else", pending.interview_id, question_id, "x"))
    assert clicked.kind is theirs.kind and clicked.message == theirs.message  # one check, in one place
