"""A whole interview from the sample brief: six question types, follow-ups, a natural end, the analysis."""

from __future__ import annotations

import asyncio

import pytest

from bot.api.client import InterviewClient
from bot.api.models import AnswerValue, Question, QuestionEvent, QuestionType, StartedInterview, StatusEvent
from bot.emulator import Emulator, EmulatorConfig
from bot.emulator.brief import load_brief
from bot.emulator.engine import EngineState, InterviewEngine

from .conftest import collect, reply_text

ANSWERS: dict[QuestionType, AnswerValue] = {
    QuestionType.SINGLE_CHOICE: "A game jam",
    QuestionType.SCALE: 2,
    QuestionType.MULTIPLE_CHOICE: ["#help-desk", "Voice hangouts"],
    QuestionType.RANKING: [
        "A welcome buddy",
        "A clearer channel list",
        "Better role selection",
        "More beginner events",
    ],
    QuestionType.YES_NO: False,
}


async def test_whole_interview_ends_naturally_with_structured_answers(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    pending: Question | None = started.question
    seen_types: set[str] = set()
    statuses: list[str] = []
    last: StatusEvent | None = None
    for _ in range(40):
        if pending is not None:
            seen_types.add(pending.type.value)
            events = await collect(
                client.send(started.interview_id, started.session_token, "", answer=(pending, ANSWERS[pending.type]))
            )
        else:
            events = await collect(
                client.send(
                    started.interview_id,
                    started.session_token,
                    "Honestly the channel list felt overwhelming and I got a bit lost "
                    "looking for where to post my first game.",
                )
            )
        pending = next((e.question for e in events if isinstance(e, QuestionEvent)), None)
        last = events[-1] if isinstance(events[-1], StatusEvent) else None
        assert last is not None
        statuses.append(last.status)
        if last.is_complete:
            break
    assert last is not None and last.status == "completed" and last.is_complete
    assert statuses[0] == "active" and "completing" in statuses  # winding down on the last question
    assert "thank you" in reply_text(events).lower()
    assert seen_types == {"single_choice", "scale", "multiple_choice", "ranking", "yes_no"}
    transcript = emu.transcript(started.interview_id)
    asked = [e["content"] for e in transcript if e["role"] == "interviewer"]
    assert any("A 2 — thanks for being honest" in text for text in asked)  # reacts to the low rating
    assert any("A welcome buddy" in text and "first" in text for text in asked)  # reacts to the ranking
    result = await client.complete(started.interview_id, started.session_token, reason="natural")  # type: ignore[arg-type]
    assert result.status == "completed"
    for _ in range(100):
        details = await client.get(started.interview_id)
        if details.analysis_status == "completed":
            break
        await asyncio.sleep(0.02)
    assert details.analysis is not None
    answers = {a["questionId"]: a for a in details.analysis["structured_answers"]}
    assert answers["ease"]["structuredValue"] == 2 and answers["ease"]["questionType"] == "scale"
    assert answers["recommend"]["structuredValue"] is False
    assert answers["priorities"]["structuredValue"][0] == "A welcome buddy"
    assert answers["how_found"]["followUpInsights"]
    assert set(answers["ease"]) == {
        "questionId",
        "questionText",
        "questionType",
        "structuredValue",
        "qualitativeAnswer",
        "confidence",
        "followUpInsights",
    }
    assert details.analysis["insights"] and 1 <= details.analysis["quality_score"] <= 5


def _engine_at(question_id: str) -> tuple[InterviewEngine, EngineState]:
    brief = load_brief()
    engine = InterviewEngine(brief)
    state = EngineState(name="Ana")
    state.index = [q.id for q in brief.questions].index(question_id)
    return engine, state


@pytest.mark.parametrize(("typed", "expected"), [("4", 4), ("four out of five", 4), ("1", 1)])
def test_typed_scale_answers_are_understood(typed: str, expected: int) -> None:
    engine, state = _engine_at("ease")
    engine.respond(state, typed)
    assert state.answers["ease"].value == expected and state.answers["ease"].via == "text"


def test_follow_ups_react_and_stop_at_the_maximum() -> None:
    engine, state = _engine_at("first_impression")
    first = engine.respond(state, "The verification bot and the rules took forever")
    assert "verification" in first.text
    second = engine.respond(state, "ok")  # short: probe for more
    assert "tell me a bit more" in second.text
    third = engine.respond(state, "I just wanted to share my game")  # max_follow_ups = 2: move on
    assert third.question is not None and third.question.id == "how_found"


def test_unclear_typed_answer_is_asked_again_once() -> None:
    engine, state = _engine_at("recommend")
    again = engine.respond(state, "hmm, hard to say")
    assert again.question is not None and again.question.id == "recommend"
    assert again.text.startswith("Sorry")
    onward = engine.respond(state, "still not sure")  # kept as a comment, the interview moves on
    assert state.answers["recommend"].via == "comment"
    assert onward.question is None and "Last one" in onward.text


async def test_replies_stream_at_the_configured_rate() -> None:
    from bot.core.request_budget import RequestBudget
    from bot.emulator import run_emulator

    async with (
        run_emulator(EmulatorConfig(token_rate=200)) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(100, 60.0)) as api,
    ):
        started = await api.start()
        events = await collect(api.send(started.interview_id, started.session_token, "ok"))
    assert len([e for e in events if not isinstance(e, StatusEvent)]) > 5


def test_brief_questions_are_api_questions_with_rules(tmp_path: object) -> None:
    from pathlib import Path

    brief = load_brief()
    for question in brief.questions:
        plain = question.as_question()
        assert type(plain) is Question  # the wire form carries no brief-only fields
        assert plain.model_dump() == question.model_dump(include=set(Question.model_fields))
    bad = Path(str(tmp_path)) / "bad.yaml"
    bad.write_text("questions:\n  - {id: q, type: scale, text: Rate it, scale_maxx: 7}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="scale_maxx"):  # a typo in a brief is refused, not ignored
        load_brief(bad)
