"""Typed replies through the core: the exit confirmation is never an answer; natural answers are read whole.

Against the built-in server over real HTTP: what the interviewer recorded is read from its interview state.
"""

from __future__ import annotations

import pytest

from bot.api.models import QuestionType
from bot.core.bridge import Bridge
from bot.core.events import OutcomeKind, UserText
from bot.core.keys import ConversationKey
from bot.core.ports import Action, NoticeKind
from bot.core.store import RecordStatus
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore

from .helpers import click_answer, key_of, respondent, say, start
from .recording import RecordingAdapter


async def _reach(bridge: Bridge, adapter: RecordingAdapter, key: ConversationKey, kind: QuestionType) -> None:
    """Answer (by clicks, or a sentence for open questions) until a question of ``kind`` is pending."""
    for _ in range(30):
        pending = adapter.last_question(key)
        if pending is not None and pending.question.type is kind:
            return
        if pending is not None and pending.question.type is not QuestionType.OPEN_ENDED:
            await click_answer(bridge, adapter, key)
        else:
            await say(bridge, key, "It was friendly, though the channel list was long and I got lost at first.")
    raise AssertionError(f"no {kind} question came")


def _respondent_lines(emulator: Emulator, interview_id: str) -> list[str]:
    return [e["content"] for e in emulator.transcript(interview_id) if e["role"] == "respondent"]


async def test_no_to_the_exit_confirmation_cancels_it_and_is_never_recorded(
    bridge: Bridge, adapter: RecordingAdapter, store: SQLiteStore, emulator: Emulator
) -> None:
    key = key_of("e1")
    interview_id = await start(bridge, key)
    await _reach(bridge, adapter, key, QuestionType.YES_NO)
    question = adapter.last_question(key)
    assert question is not None
    sent_before = _respondent_lines(emulator, interview_id)
    for cancel in ("no", "Cancel", "continue", "back", "nein", "Zurück!", "non"):
        await say(bridge, key, "exit")
        confirm = adapter.notices_of(key, NoticeKind.CONFIRM_EXIT)[-1]
        assert "“no”" in confirm.text, "the confirmation says how to cancel"
        await say(bridge, key, cancel)
        record = await store.get_interview(interview_id)
        assert record is not None and record.status is RecordStatus.ACTIVE and not record.exit_requested
    # anything else gets a reminder of the two choices, and is not sent either
    await say(bridge, key, "exit")
    outcome = await bridge.handle(UserText(key, "hmm, maybe later", respondent("e1")))
    assert outcome.kind is OutcomeKind.REJECTED and "“yes”" in (outcome.message or "")
    reminder = adapter.notices_of(key, NoticeKind.CONFIRM_EXIT)[-1]
    assert reminder.actions == (Action.CONFIRM_EXIT, Action.CANCEL_EXIT) and "“no”" in reminder.text
    await say(bridge, key, "no")
    assert _respondent_lines(emulator, interview_id) == sent_before, "nothing reached the interviewer"
    state = emulator.interview(interview_id).state
    assert "recommend" not in state.answers
    # the same question is still waiting: the real answer is read and recorded
    assert (await store.pending_question(interview_id)) is not None
    await say(bridge, key, "yes, I would")
    assert state.answers["recommend"].value is True


@pytest.mark.parametrize(
    ("kind", "typed", "question_id", "value"),
    [
        (QuestionType.SINGLE_CHOICE, "the second one", "how_found", "Reddit"),
        (QuestionType.SCALE, "four", "ease", 4),
        (QuestionType.SCALE, "4 out of 5", "ease", 4),
        (QuestionType.MULTIPLE_CHOICE, "both 1 and 3", "channels_used", ["#introductions", "#help-desk"]),
        (
            QuestionType.RANKING,
            "buddy, channel list, events, roles",
            "priorities",
            ["A welcome buddy", "A clearer channel list", "More beginner events", "Better role selection"],
        ),
    ],
)
async def test_natural_typed_answers_are_recorded_as_meant(
    bridge: Bridge,
    adapter: RecordingAdapter,
    emulator: Emulator,
    kind: QuestionType,
    typed: str,
    question_id: str,
    value: object,
) -> None:
    key = key_of(f"n-{question_id}")
    interview_id = await start(bridge, key)
    await _reach(bridge, adapter, key, kind)
    await say(bridge, key, typed)
    recorded = emulator.interview(interview_id).state.answers[question_id]
    assert recorded.value == value and recorded.via == "widget"  # sent as a structured answer
    assert _respondent_lines(emulator, interview_id)[-1] == typed  # in the respondent's own words


@pytest.mark.parametrize(
    ("kind", "typed", "words"),
    [
        (QuestionType.SCALE, "1,3", "more than one number"),
        (QuestionType.SCALE, "8 out of 10", "from 1 to 5"),
        (QuestionType.SCALE, "7", "not on the scale"),
        (QuestionType.SINGLE_CHOICE, "both 1 and 3", "just one"),
        (QuestionType.MULTIPLE_CHOICE, "introductions and the art channel", "the art channel"),
        (QuestionType.RANKING, "3 1 2", "rank 4 options"),
        (QuestionType.RANKING, "buddy, buddy, list, roles", "twice"),
        (QuestionType.YES_NO, "yes and no", "yes or no"),
    ],
)
async def test_ambiguous_answers_are_asked_again_with_a_hint_and_not_sent(
    bridge: Bridge,
    adapter: RecordingAdapter,
    store: SQLiteStore,
    emulator: Emulator,
    kind: QuestionType,
    typed: str,
    words: str,
) -> None:
    key = key_of(f"a-{kind}-{len(typed)}")
    interview_id = await start(bridge, key)
    await _reach(bridge, adapter, key, kind)
    before = _respondent_lines(emulator, interview_id)
    outcome = await bridge.handle(UserText(key, typed, respondent(key.user)))
    assert outcome.kind is OutcomeKind.REJECTED
    assert words in adapter.notices_of(key, NoticeKind.REJECTED)[-1].text
    assert _respondent_lines(emulator, interview_id) == before
    assert (await store.pending_question(interview_id)) is not None, "the question still waits (buttons too)"
