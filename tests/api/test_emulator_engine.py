"""The built-in interviewer's own words: honest after misses, follow-ups that fit what was said."""

from __future__ import annotations

import pytest

from bot.emulator.brief import load_brief
from bot.emulator.engine import EngineState, InterviewEngine

ENGINE = InterviewEngine(load_brief())
FIRST_ANSWER = "It was a calm first hour in the server, I liked the layout and found my way quickly."


def _at_scale_question() -> EngineState:
    state = EngineState()
    ENGINE.opening(state, "Ada")
    ENGINE.respond(state, FIRST_ANSWER)
    ENGINE.respond(state, "reddit")
    ENGINE.respond(state, "I was looking for game jams to join.")
    assert ENGINE.current(state) is not None and ENGINE.current(state).id == "ease"  # type: ignore[union-attr]
    return state


@pytest.mark.parametrize(
    ("first_impression", "good_to_hear"),
    [
        ("the welcome channel was loud", False),
        ("people were not friendly at all", False),
        ("nobody greeted me, it felt cold", False),
        ("everyone was really friendly and greeted me right away", True),
    ],
)
def test_follow_ups_fit_what_was_said(first_impression: str, good_to_hear: bool) -> None:
    state = EngineState()
    ENGINE.opening(state, "Ada")
    reply = ENGINE.respond(state, first_impression)
    assert reply.text.startswith("That's good to hear") is good_to_hear, reply.text


def test_two_misses_say_plainly_that_the_words_were_kept_as_a_comment() -> None:
    state = _at_scale_question()
    first = ENGINE.respond(state, "no idea really")
    assert "didn't quite catch" in first.text and ENGINE.current(state).id == "ease"  # type: ignore[union-attr]
    second = ENGINE.respond(state, "hard to say")
    assert "Got it" not in second.text and not any(
        second.text.startswith(a) for a in ENGINE.brief.interviewer.acknowledgements
    )
    assert "comment" in second.text
    recorded = state.answers["ease"]
    assert recorded.value is None and recorded.via == "comment" and recorded.text == "hard to say"


def test_an_ambiguous_reply_is_asked_again_with_a_hint() -> None:
    state = _at_scale_question()
    reply = ENGINE.respond(state, "1,3")
    assert "more than one number" in reply.text and "1 to 5" in reply.text
    assert "ease" not in state.answers
    ENGINE.respond(state, "four out of five")
    assert state.answers["ease"].value == 4
