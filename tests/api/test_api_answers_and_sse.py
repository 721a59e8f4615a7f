"""Structured answers (validate, text form) and the defensive reading of reply events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx_sse import ServerSentEvent

from bot.api.answers import answer_text, validate_answer
from bot.api.errors import AlreadyCompleted, NotFound, RateLimited, error_from_response, retry_after_seconds
from bot.api.models import (
    AnswerValue,
    ErrorEvent,
    InterviewDetails,
    Question,
    QuestionEvent,
    QuestionType,
    StatusEvent,
    TextDelta,
)
from bot.api.sse import Done, aiter_sse, interpret, parse_json_reply

SCALE = Question(id="q1", type=QuestionType.SCALE, text="How easy?", scale_min=1, scale_max=5)
SINGLE = Question(
    id="q2", type=QuestionType.SINGLE_CHOICE, text="Where?", options=("Reddit", "A friend"), allow_other=True
)
STRICT = Question(id="q3", type=QuestionType.SINGLE_CHOICE, text="Pick", options=("Red", "Blue"))
MULTI = Question(id="q4", type=QuestionType.MULTIPLE_CHOICE, text="Which?", options=("A", "B", "C"))
RANK = Question(id="q5", type=QuestionType.RANKING, text="Rank", options=("Alpha", "Beta", "Gamma"))
YES_NO = Question(id="q6", type=QuestionType.YES_NO, text="Would you?")


def test_answer_text_forms() -> None:
    assert answer_text(SCALE, 4) == "4 / 5"
    assert answer_text(RANK, ["Beta", "Alpha", "Gamma"]) == "Ranked: 1. Beta, 2. Alpha, 3. Gamma"
    assert answer_text(YES_NO, True) == "Yes"
    assert answer_text(MULTI, ["A", "C"]) == "A, C"
    assert answer_text(SINGLE, "Discord search") == "Other: Discord search"
    assert answer_text(SINGLE, "Reddit") == "Reddit"


def test_validate_coerces_and_refuses() -> None:
    assert validate_answer(SCALE, "3") == 3
    assert validate_answer(SINGLE, "reddit") == "Reddit"
    assert validate_answer(SINGLE, "Other: a podcast") == "a podcast"
    assert validate_answer(YES_NO, "Yes") is True
    assert validate_answer(MULTI, ["a", "c", "a"]) == ["A", "C"]
    cases: list[tuple[Question, AnswerValue, str]] = [
        (SCALE, 9, "outside"),
        (SCALE, True, "number"),
        (STRICT, "Green", "not one of"),
        (RANK, ["Alpha", "Alpha", "Beta"], "twice"),
        (RANK, ["Alpha"], "rank all"),
        (YES_NO, "maybe", "yes or no"),
        (MULTI, [], "choose"),
    ]
    for question, bad, words in cases:
        with pytest.raises(ValueError, match=words):
            validate_answer(question, bad)


async def _chunks(*parts: str) -> AsyncIterator[str]:
    for part in parts:
        yield part


async def test_last_event_without_blank_line_is_not_lost() -> None:
    stream = _chunks('event: delta\ndata: {"text": "Hi"}\n\n', "event: sta", 'tus\ndata: {"status": "completed"}')
    events = [e async for e in aiter_sse(stream)]
    assert [e.event for e in events] == ["delta", "status"]
    assert interpret(events[1]) == [StatusEvent(status="completed", is_complete=True)]


@pytest.mark.parametrize(
    ("event", "data", "expected"),
    [
        ("delta", '{"text": " world"}', [TextDelta(" world")]),
        ("message", '{"type": "text", "content": "Hi"}', [TextDelta("Hi")]),
        ("message", '{"type": "delta", "delta": "Hi"}', [TextDelta("Hi")]),
        ("message", "plain words", [TextDelta("plain words")]),
        ("message", "4", [TextDelta("4")]),
        ("message", "[DONE]", [Done()]),
        ("done", "[DONE]", [Done()]),
        ("error", '{"error": "overloaded", "message": "try later"}', [ErrorEvent("overloaded", "try later")]),
        ("status", '{"status": "completing", "turn_count": 7}', [StatusEvent("completing", False, 7)]),
        ("ping", "{}", []),
        ("message", '{"weird": 1}', []),
    ],
)
def test_interpret_event_shapes(event: str, data: str, expected: list[object]) -> None:
    assert interpret(ServerSentEvent(event=event, data=data)) == expected


def test_question_event_shapes() -> None:
    for data in (
        '{"question": {"id": "q", "type": "yes_no", "text": "Ok?"}}',
        '{"type": "question", "question": {"id": "q", "type": "yes_no", "text": "Ok?"}}',
    ):
        name = "question" if data.startswith('{"question"') else "message"
        [event] = interpret(ServerSentEvent(event=name, data=data))
        assert isinstance(event, QuestionEvent) and event.question.type is QuestionType.YES_NO


def test_both_json_reply_shapes() -> None:
    old = parse_json_reply(
        {
            "message_id": "m1",
            "interviewer_response": {"content": "Next?", "message_id": "m2"},
            "interview_status": "in_progress",
            "messages_count": 4,
        }
    )
    assert old == [TextDelta("Next?"), StatusEvent("active", False, None)]
    new = parse_json_reply({"message": {"role": "assistant", "content": "Bye"}, "turn_count": 3, "is_complete": True})
    assert new == [TextDelta("Bye"), StatusEvent("completed", True, 3)]


def test_details_accept_other_spellings() -> None:
    details = InterviewDetails.model_validate(
        {
            "id": "i1",
            "status": "in_progress",
            "messages": [{"sender": "assistant", "text": "Hi", "timestamp": "t"}, {"role": "user", "content": "Yo"}],
        }
    )
    assert details.interview_id == "i1" and details.status == "active"
    assert [(e.role, e.content) for e in details.transcript] == [("interviewer", "Hi"), ("respondent", "Yo")]


def test_error_mapping() -> None:
    limited = error_from_response(429, b'{"error": "rate_limited", "message": "slow down"}', {"Retry-After": "7"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 7 and limited.message == "slow down"
    done = error_from_response(409, b'{"error": "already_completed", "interview_id": "i"}', {})
    assert isinstance(done, AlreadyCompleted) and done.body["interview_id"] == "i"
    old = error_from_response(404, b'{"error": "Interview not found"}', {})
    assert old.code == "not_found" and old.message == "Interview not found"
    assert retry_after_seconds({"X-RateLimit-Reset": "1000000030"}, now=1_000_000_000) == 30
    # a reset far ahead (the client's clock runs behind) never pauses the budget for more than the window
    assert retry_after_seconds({"X-RateLimit-Reset": "1000003600"}, now=1_000_000_000) == 60
    assert retry_after_seconds({"X-RateLimit-Reset": "1700000000"}, now=1_700_000_010) == 0  # already past
    assert retry_after_seconds({"Retry-After": "Sun, 09 Sep 2001 01:50:00 GMT"}, now=1_000_000_000) == 200
    assert retry_after_seconds({"Retry-After": "7", "X-RateLimit-Reset": "1000000030"}, now=1_000_000_000) == 7
    described = error_from_response(409, b'{"error": "Interview was already completed"}', {})
    assert isinstance(described, AlreadyCompleted)  # the overview's {"error": "<description>"} form
    missing = error_from_response(404, b"404: Not Found", {})
    assert isinstance(missing, NotFound) and missing.route_missing
    assert not old.route_missing  # a JSON error body: the interview is missing, not the route
