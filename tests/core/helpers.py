"""Shared steps of the core tests."""

from __future__ import annotations

from bot.api.models import AnswerValue, Question, QuestionType
from bot.core.bridge import Bridge
from bot.core.events import Answer, ConsentReply, Outcome, RespondentInfo, Start, UserText
from bot.core.keys import ConversationKey

from .recording import RecordingAdapter


def key_of(user: str, platform: str = "test") -> ConversationKey:
    return ConversationKey(platform, "w1", f"dm-{user}", user)


def respondent(user: str) -> RespondentInfo:
    return RespondentInfo(external_id=user, display_name=f"Member {user}", locale="en")


async def start_consented(
    bridge: Bridge, key: ConversationKey, who: RespondentInfo | None = None, study: str | None = None
) -> Outcome:
    """Ask to start, then answer the consent text with "I agree" (the start call happens then)."""
    asked = await bridge.handle(Start(key, who or respondent(key.user), study))
    if not asked.ok or asked.interview_id:  # refused, or no consent text came (already running)
        return asked
    return await bridge.handle(ConsentReply(key, agreed=True, actor=key.user))


async def agree(bridge: Bridge, key: ConversationKey) -> Outcome:
    """Click "I agree" under the consent text shown in ``key``'s conversation."""
    return await bridge.handle(ConsentReply(key, agreed=True, actor=key.user))


async def start(bridge: Bridge, key: ConversationKey) -> str:
    outcome = await start_consented(bridge, key)
    assert outcome.ok, outcome
    assert outcome.interview_id
    return outcome.interview_id


async def say(bridge: Bridge, key: ConversationKey, text: str, event_id: str | None = None) -> None:
    outcome = await bridge.handle(UserText(key, text, respondent(key.user), event_id=event_id))
    assert outcome.ok, outcome
    await bridge.wait_until_idle(key)


def answer_for(question: Question) -> AnswerValue:
    """A plausible answer to each question type."""
    if question.type is QuestionType.SCALE:
        return question.scale_max - 1
    if question.type is QuestionType.YES_NO:
        return True
    if question.type is QuestionType.SINGLE_CHOICE:
        return question.options[0]
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return list(question.options[: max(1, question.min_choices)])
    if question.type is QuestionType.RANKING:
        return list(reversed(question.options))
    return "It was friendly, though I found the channel list overwhelming at first."


async def click_answer(bridge: Bridge, adapter: RecordingAdapter, key: ConversationKey) -> Question:
    pending = adapter.last_question(key)
    assert pending is not None
    outcome = await bridge.handle(
        Answer(key, key.user, pending.interview_id, pending.question.id, answer_for(pending.question))
    )
    assert outcome.ok, outcome
    await bridge.wait_until_idle(key)
    return pending.question
