"""Pure parts of the Slack adapter: text splitting, Block Kit layouts, clicks back to answers."""

from __future__ import annotations

import json

import pytest

from adapters.slack.blocks import (
    QuestionRef,
    answer_summary,
    answered_blocks,
    question_blocks,
    ranking_blocks,
    replace_question,
)
from adapters.slack.clicks import Chosen, Ignore, Invalid, OpenOther, Redraw, interpret_click
from adapters.slack.notices import notice_blocks
from adapters.slack.text import MESSAGE_LIMIT, cut_point, split_text
from bot.api.models import Question, QuestionType
from bot.core.i18n import catalogue
from bot.core.ports import Action, Notice, NoticeKind, PendingQuestion

EN = catalogue("en")


def pending(qtype: QuestionType, options: int = 0, **extra: object) -> PendingQuestion:
    q = Question(id="q1", type=qtype, text="How was it?", options=tuple(f"Option {i}" for i in range(options)), **extra)  # type: ignore[arg-type]
    return PendingQuestion("iv1", q, "U1")


def elements(blocks: list[dict]) -> list[dict]:
    out: list[dict] = []
    for block in blocks:
        out.extend(block.get("elements", []) if block["type"] == "actions" else [])
        if "accessory" in block:
            out.append(block["accessory"])
    return out


def check_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= 50
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))
    for block in blocks:
        assert len(block.get("block_id", "")) <= 255
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids))
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    for element in elements(blocks):
        if element["type"] == "button":
            assert len(element["text"]["text"]) <= 75
        if element["type"] in ("radio_buttons", "checkboxes"):
            assert len(element["options"]) <= 10
        if element["type"] in ("static_select", "multi_static_select"):
            assert len(element["options"]) <= 100
        for opt in element.get("options", []):
            assert len(opt["text"]["text"]) <= 75 and len(opt["value"]) <= 150


# --- text ---


@pytest.mark.parametrize("length", [0, 10, MESSAGE_LIMIT, MESSAGE_LIMIT + 1, 3 * MESSAGE_LIMIT + 17])
def test_split_never_loses_a_character(length: int) -> None:
    words = ("lorem ipsum dolor\n\nsit amet, consectetur\n" * 1000)[:length]
    parts = split_text(words)
    assert "".join(parts) == words
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)


def test_split_prefers_paragraph_breaks() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    parts = split_text(text, 4000)
    assert parts == ["a" * 3000 + "\n\n", "b" * 3000]


def test_split_hard_cuts_text_without_breaks() -> None:
    text = "x" * 9001
    parts = split_text(text, 4000)
    assert [len(p) for p in parts] == [4000, 4000, 1001]


def test_cut_never_falls_before_text_already_streamed() -> None:
    text = "a" * 1500 + "\n\n" + "b " * 1400
    assert cut_point(text, 3000) == 1502  # the paragraph break
    assert cut_point(text, 3000, at_least=2000) == 3000  # after the last space, since the break is too early
    assert cut_point("a" * 1500 + "\n\n" + "b" * 2000, 3000, at_least=2000) == 3000  # no break after it: hard cut
    assert cut_point("a" * 1500 + "\n\n" + "b" * 2000, 3000) == 1502


# --- layouts per question type and option count ---


def test_yes_no_is_two_buttons() -> None:
    blocks = question_blocks(pending(QuestionType.YES_NO))
    check_limits(blocks)
    assert [e["action_id"] for e in elements(blocks)] == ["ib:yes", "ib:no"]
    assert blocks[0]["text"]["text"] == "*How was it?*"


def test_open_ended_has_no_blocks() -> None:
    assert question_blocks(pending(QuestionType.OPEN_ENDED)) == []


@pytest.mark.parametrize(
    ("low", "high", "kind", "count"), [(1, 5, "button", 5), (0, 10, "button", 11), (0, 100, "static_select", 2)]
)
def test_scale_buttons_then_select(low: int, high: int, kind: str, count: int) -> None:
    blocks = question_blocks(
        pending(QuestionType.SCALE, scale_min=low, scale_max=high, min_label="bad", max_label="great")
    )
    check_limits(blocks)
    els = elements(blocks)
    assert {e["type"] for e in els} == {kind} and len(els) == count
    assert any(b["type"] == "context" and "great" in b["elements"][0]["text"] for b in blocks)


@pytest.mark.parametrize(
    ("n", "kind"),
    [
        (2, "button"),
        (5, "button"),
        (6, "radio_buttons"),
        (10, "radio_buttons"),
        (11, "static_select"),
        (100, "static_select"),
        (250, "static_select"),
    ],
)
def test_single_choice_by_option_count(n: int, kind: str) -> None:
    blocks = question_blocks(pending(QuestionType.SINGLE_CHOICE, n))
    check_limits(blocks)
    els = elements(blocks)
    assert {e["type"] for e in els} == {kind}
    offered = [o["value"] for e in els for o in e.get("options", [])] or [e["value"] for e in els]
    assert offered == [str(i) for i in range(n)]


def test_single_choice_other_adds_a_button() -> None:
    blocks = question_blocks(pending(QuestionType.SINGLE_CHOICE, 3, allow_other=True))
    assert elements(blocks)[-1]["action_id"] == "ib:other"


@pytest.mark.parametrize(("n", "kind"), [(3, "checkboxes"), (10, "checkboxes"), (11, "multi_static_select")])
def test_multiple_choice_with_submit(n: int, kind: str) -> None:
    blocks = question_blocks(pending(QuestionType.MULTIPLE_CHOICE, n, max_choices=3))
    check_limits(blocks)
    els = elements(blocks)
    assert els[0]["type"] == kind and els[-1]["action_id"] == "ib:submit"
    assert any("Pick 1–3" in b["elements"][0]["text"] for b in blocks if b["type"] == "context")


def test_long_labels_are_cut_but_values_stay_indexes() -> None:
    q = Question(id="q1", type=QuestionType.SINGLE_CHOICE, text="?", options=("x" * 300, "y"))
    blocks = question_blocks(PendingQuestion("iv1", q, "U1"))
    check_limits(blocks)
    assert elements(blocks)[0]["value"] == "0"


def test_notice_buttons() -> None:
    blocks = notice_blocks(Notice(NoticeKind.CONFIRM_EXIT, "End?", (Action.CONFIRM_EXIT, Action.CANCEL_EXIT)))
    assert [e["action_id"] for e in elements(blocks)] == ["ib:act:confirm_exit", "ib:act:cancel_exit"]


def test_question_ref_round_trip() -> None:
    ref = QuestionRef("iv-1", "q-2")
    assert QuestionRef.parse(ref.block_id("a")) == QuestionRef("iv-1", "q-2", "a")
    assert QuestionRef.parse("ibq|iv|q|rank:1,0") == QuestionRef("iv", "q", "rank:1,0")
    assert QuestionRef.parse("something_else") is None


# --- clicks ---


def click(blocks: list[dict], action_id: str, **extra: object) -> tuple[QuestionRef, dict]:
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                ref = QuestionRef.parse(block["block_id"])
                assert ref is not None
                return ref, {
                    "action_id": action_id,
                    "block_id": block["block_id"],
                    "value": element.get("value"),
                    **extra,
                }
    raise AssertionError(f"no {action_id}")


def test_clicks_give_typed_values() -> None:
    yn = pending(QuestionType.YES_NO)
    ref, action = click(question_blocks(yn), "ib:no")
    assert interpret_click(EN, yn.question, ref, action, {}) == Chosen(False)
    scale = pending(QuestionType.SCALE, scale_min=1, scale_max=5)
    ref, action = click(question_blocks(scale), "ib:scale:4")
    assert interpret_click(EN, scale.question, ref, action, {}) == Chosen(4)
    single = pending(QuestionType.SINGLE_CHOICE, 3, allow_other=True)
    ref, action = click(question_blocks(single), "ib:choice:2")
    assert interpret_click(EN, single.question, ref, action, {}) == Chosen("Option 2")
    ref, action = click(question_blocks(single), "ib:other")
    assert interpret_click(EN, single.question, ref, action, {}) == OpenOther()
    radio = pending(QuestionType.SINGLE_CHOICE, 7)
    ref, action = click(question_blocks(radio), "ib:radio", selected_option={"value": "6"})
    assert interpret_click(EN, radio.question, ref, action, {}) == Chosen("Option 6")


def test_multiple_choice_submit_reads_state_and_checks_counts() -> None:
    multi = pending(QuestionType.MULTIPLE_CHOICE, 4, max_choices=2)
    blocks = question_blocks(multi)
    ref, toggle = click(blocks, "ib:multi")
    assert interpret_click(EN, multi.question, ref, toggle, {}) == Ignore()
    ref, submit = click(blocks, "ib:submit")
    state = {"values": {ref.block_id("a"): {"ib:multi": {"selected_options": [{"value": "3"}, {"value": "1"}]}}}}
    assert interpret_click(EN, multi.question, ref, submit, state) == Chosen(["Option 1", "Option 3"])
    three = {"values": {"b": {"ib:multi": {"selected_options": [{"value": v} for v in "012"]}}}}
    assert isinstance(interpret_click(EN, multi.question, ref, submit, three), Invalid)
    assert isinstance(interpret_click(EN, multi.question, ref, submit, {}), Invalid)


def test_ranking_click_by_click_then_submit() -> None:
    rank = pending(QuestionType.RANKING, 3)
    q = rank.question
    blocks = question_blocks(rank)
    ref, action = click(blocks, "ib:rank:2")
    step = interpret_click(EN, q, ref, action, {})
    assert isinstance(step, Redraw)
    ref, action = click(step.blocks, "ib:rank:0")
    step = interpret_click(EN, q, ref, action, {})
    assert isinstance(step, Redraw)  # one left: it follows, Submit appears
    ref, action = click(step.blocks, "ib:rank_submit")
    assert interpret_click(EN, q, ref, action, {}) == Chosen(["Option 2", "Option 0", "Option 1"])
    ref, action = click(step.blocks, "ib:rank_reset")
    reset = interpret_click(EN, q, ref, action, {})
    assert isinstance(reset, Redraw) and reset.blocks == ranking_blocks(EN, ref, q, [])


def test_ranking_submit_of_incomplete_order_is_refused() -> None:
    q = pending(QuestionType.RANKING, 3).question
    ref = QuestionRef("iv1", "q1", "rank:1")
    assert isinstance(interpret_click(EN, q, ref, {"action_id": "ib:rank_submit"}, {}), Invalid)


def test_answer_summary_and_replacement() -> None:
    q = pending(QuestionType.RANKING, 2).question
    assert answer_summary(EN, q, ["Option 1", "Option 0"]) == "You ranked: 1. *Option 1*, 2. *Option 0*"
    assert answer_summary(EN, pending(QuestionType.YES_NO).question, True) == "You chose *Yes*"
    blocks = [
        {"type": "section", "block_id": "x", "text": {"type": "mrkdwn", "text": "reply"}},
        *question_blocks(pending(QuestionType.SCALE)),
    ]
    ref = QuestionRef("iv1", "q1")
    done = replace_question(blocks, ref, answered_blocks(ref, "You chose *3*"))
    assert [b["type"] for b in done] == ["section", "section", "context"]
    assert "You chose *3*" in json.dumps(done)


def test_selects_give_values_too() -> None:
    many = pending(QuestionType.SINGLE_CHOICE, 150)
    blocks = question_blocks(many)
    ref, action = click(blocks, "ib:select:1", selected_option={"value": "120"})
    assert interpret_click(EN, many.question, ref, action, {}) == Chosen("Option 120")
    wide = pending(QuestionType.SCALE, scale_min=0, scale_max=100)
    ref, action = click(question_blocks(wide), "ib:scale_select:0", selected_option={"value": "42"})
    assert interpret_click(EN, wide.question, ref, action, {}) == Chosen(42)
    ref, action = click(question_blocks(wide), "ib:scale_select:0", selected_option={"value": "420"})
    assert isinstance(interpret_click(EN, wide.question, ref, action, {}), Invalid)
    multi = pending(QuestionType.MULTIPLE_CHOICE, 30)
    ref, submit = click(question_blocks(multi), "ib:submit")
    state = {"values": {"x": {"ib:multi": {"selected_options": [{"value": "29"}, {"value": "999"}]}}}}
    assert interpret_click(EN, multi.question, ref, submit, state) == Chosen(["Option 29"])


def test_a_click_on_another_questions_widget_is_refused() -> None:
    yes_no = pending(QuestionType.YES_NO)
    ref, action = click(question_blocks(pending(QuestionType.SCALE)), "ib:scale:2")
    assert isinstance(interpret_click(EN, yes_no.question, ref, action, {}), Invalid)
