"""The one reader of typed answers (core, terminal, built-in server): read what is unambiguous, never a part."""

from __future__ import annotations

import pytest

from bot.api.models import Question, QuestionType
from bot.api.typed_answers import Problem, Reading, read_answer
from bot.emulator.brief import load_brief

SAMPLE = {q.id: q.as_question() for q in load_brief().questions}
SCALE = Question(id="q1", type=QuestionType.SCALE, text="How easy?", scale_min=1, scale_max=5)
SINGLE = Question(
    id="q2", type=QuestionType.SINGLE_CHOICE, text="Where?", options=("Reddit", "A friend"), allow_other=True
)
STRICT = Question(id="q3", type=QuestionType.SINGLE_CHOICE, text="Pick", options=("Red", "Blue"))
MULTI = Question(id="q4", type=QuestionType.MULTIPLE_CHOICE, text="Which?", options=("A", "B", "C"))
RANK = Question(id="q5", type=QuestionType.RANKING, text="Rank", options=("Alpha", "Beta", "Gamma"))
YES_NO = Question(id="q6", type=QuestionType.YES_NO, text="Would you?")
TOP_TWO = Question(id="q7", type=QuestionType.RANKING, text="Top 2", options=("Alpha", "Beta", "Gamma"), max_choices=2)
PRIORITIES = ["A welcome buddy", "A clearer channel list", "More beginner events", "Better role selection"]


@pytest.mark.parametrize(
    ("question", "typed", "value"),
    [
        (SCALE, "4", 4),
        (SCALE, "four", 4),
        (SCALE, "4 out of 5", 4),
        (SCALE, "four out of five", 4),
        (SCALE, "I'd say 2/5", 2),
        (SCALE, "٤", 4),
        (SCALE, "3.5", 3.5),
        (STRICT, "2", "Blue"),
        (STRICT, "blue", "Blue"),
        (STRICT, "the second one", "Blue"),
        (STRICT, "the last one", "Blue"),
        (SINGLE, "Other: a podcast", "a podcast"),
        (SINGLE, "a podcast", "a podcast"),
        (MULTI, "A and C", ["A", "C"]),
        (MULTI, "1, 2", ["A", "B"]),
        (MULTI, "both 1 and 3", ["A", "C"]),
        (MULTI, "the first and the third", ["A", "C"]),
        (RANK, "3 1 2", ["Gamma", "Alpha", "Beta"]),
        (RANK, "Beta > Gamma > Alpha", ["Beta", "Gamma", "Alpha"]),
        (TOP_TWO, "gamma then alpha", ["Gamma", "Alpha"]),
        (YES_NO, "Yes, definitely", True),
        (YES_NO, "I'd say yes", True),
        (YES_NO, "nope", False),
        (YES_NO, "probably not", False),
        (SAMPLE["how_found"], "the second one", "Reddit"),
        (SAMPLE["how_found"], "youtube", "YouTube or Twitch"),
        (SAMPLE["how_found"], "YouTube or Twitch", "YouTube or Twitch"),  # "or" inside a name does not split it
        (SAMPLE["how_found"], "one of my friends invited me", "A friend invited me"),
        (SAMPLE["how_found"], "disboard", "A server list like Disboard"),
        (SAMPLE["channels_used"], "intros and help desk", ["#introductions", "#help-desk"]),
        (SAMPLE["channels_used"], "voice and jams", ["Voice hangouts", "Game jam events"]),
        (SAMPLE["channels_used"], "#help-desk, that's it", ["#help-desk"]),
        (SAMPLE["priorities"], "buddy, channel list, events, roles", PRIORITIES),
        (
            SAMPLE["priorities"],
            "welcome buddy first, then the channel list, then beginner events, then roles",
            PRIORITIES,
        ),
        (
            SAMPLE["priorities"],
            "Ranked: 1. A welcome buddy, 2. A clearer channel list, 3. More beginner events, 4. Better role selection",
            PRIORITIES,
        ),
        (SAMPLE["priorities"], "2,1,4,3", PRIORITIES),
    ],
)
def test_unambiguous_replies_are_read(question: Question, typed: str, value: object) -> None:
    assert read_answer(question, typed) == Reading(value)


@pytest.mark.parametrize(
    ("question", "typed", "problem"),
    [
        (SCALE, "1,3", Problem.SEVERAL_NUMBERS),  # never recorded as 1
        (SCALE, "3 or 4", Problem.SEVERAL_NUMBERS),
        (SCALE, "3-4", Problem.SEVERAL_NUMBERS),
        (SCALE, "8 out of 10", Problem.OTHER_SCALE),
        (SCALE, "7", Problem.OUT_OF_RANGE),
        (STRICT, "both 1 and 2", Problem.ONE_ONLY),
        (STRICT, "3", Problem.OUT_OF_RANGE),
        (SINGLE, "reddit or a friend", Problem.ONE_ONLY),
        (MULTI, "1, 2, 5", Problem.OUT_OF_RANGE),
        (SAMPLE["channels_used"], "introductions and the art channel", Problem.UNCLEAR_PART),
        (RANK, "3 1", Problem.RANK_ALL),
        (RANK, "alpha, alpha, beta", Problem.REPEATED),
        (SAMPLE["priorities"], "3 1 2", Problem.RANK_ALL),  # the README's old example
        (YES_NO, "yes and no", Problem.YES_AND_NO),
    ],
)
def test_ambiguous_replies_come_back_with_a_problem_and_no_value(
    question: Question, typed: str, problem: Problem
) -> None:
    reading = read_answer(question, typed)
    assert reading.problem is problem and reading.value is None


@pytest.mark.parametrize(
    ("question", "typed"),
    [(SCALE, "no idea"), (STRICT, "green"), (YES_NO, "perhaps"), (YES_NO, "I'm not sure"), (MULTI, "hmm")],
)
def test_replies_that_name_nothing_are_not_answers(question: Question, typed: str) -> None:
    assert read_answer(question, typed) == Reading()
