"""Pure parts of the Discord adapter: message splitting and custom ids."""

from __future__ import annotations

import random

import pytest

from adapters.discord import ids
from adapters.discord.text import MESSAGE_LIMIT, split_message, with_note


@pytest.mark.parametrize("length", [0, 1, 1999, 2000, 2001, 4000, 4001, 9999])
def test_split_keeps_every_character(length: int) -> None:
    rng = random.Random(length)
    text = "".join(rng.choice("ab c\n") for _ in range(length))
    chunks = split_message(text)
    assert "".join(chunks) == text
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert len(chunks) >= max(1, -(-length // MESSAGE_LIMIT))


def test_split_prefers_paragraphs_then_words() -> None:
    text = "x" * 1800 + "\n\n" + "y" * 500
    assert split_message(text) == ["x" * 1800 + "\n\n", "y" * 500]
    words = ("word " * 600).strip()
    chunks = split_message(words)
    assert all(c.endswith(" ") for c in chunks[:-1])  # never cut inside a word
    assert "".join(chunks) == words


def test_split_hard_cut_without_spaces() -> None:
    text = "z" * 4500
    assert [len(c) for c in split_message(text)] == [2000, 2000, 500]


def test_note_is_added_without_touching_the_text() -> None:
    text = "q" * 1990
    chunks = with_note(text, "The reply was cut off.")
    assert chunks[0] == text
    assert "The reply was cut off." in chunks[1]
    assert with_note("", "Oops")[0].endswith("*Oops*")


def test_question_ids_round_trip_and_fit() -> None:
    custom_id = ids.question_id("a", "iv_123", "q1", "3")
    assert custom_id == "ib:a:iv_123|q1:3"
    parsed = ids.parse(custom_id)
    assert parsed is not None and parsed.ref is not None
    assert (parsed.kind, parsed.ref.interview_id, parsed.ref.question_id, parsed.args) == ("a", "iv_123", "q1", ("3",))
    # ranking with an empty order so far keeps both arguments
    parsed = ids.parse(ids.question_id("r", "iv", "q", "", "4"))
    assert parsed is not None and parsed.args == ("", "4")


def test_long_ids_use_a_digest_that_still_identifies_the_question() -> None:
    interview_id, question_id = "0" * 36, "question:" + "9" * 60
    custom_id = ids.question_id("ms", interview_id, question_id, ids.encode_mask(set(range(100))))
    assert len(custom_id) <= ids.MAX_CUSTOM_ID
    parsed = ids.parse(custom_id)
    assert parsed is not None and parsed.ref is not None and parsed.ref.digest
    assert parsed.ref.matches(interview_id, question_id)
    assert not parsed.ref.matches(interview_id, "other")


def test_masks_orders_and_other_ids() -> None:
    assert ids.decode_mask(ids.encode_mask({0, 5, 99})) == {0, 5, 99}
    assert ids.decode_mask("zz") == frozenset()
    assert ids.decode_order(ids.encode_order([3, 0, 35])) == (3, 0, 35)
    start = ids.parse(ids.start_id("Beta test: café"))
    assert start is not None and start.kind == "go" and start.args == ("Beta test: café",)
    action = ids.parse(ids.action_id("retry"))
    assert action is not None and (action.kind, action.args) == ("x", ("retry",))
    assert ids.parse("someone-elses-button") is None
    assert ids.parse("ib:zz:whatever") is None
