"""Question layouts as Discord components: limits, persistence, and the state carried in custom ids."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord import components, ids
from bot.api.models import Question, QuestionType
from bot.core.i18n import catalogue

EN = catalogue("en")


def rows(view: discord.ui.View | None) -> list[list[dict[str, Any]]]:
    assert view is not None
    return [row["components"] for row in view.to_components()]


def check_limits(view: discord.ui.View | None) -> None:
    assert view is not None and view.timeout is None and view.is_persistent()
    laid_out = rows(view)
    assert len(laid_out) <= 5
    custom_ids = []
    for row in laid_out:
        assert len(row) <= 5
        if any(c["type"] != 2 for c in row):
            assert len(row) == 1  # a select fills its row
        for c in row:
            assert len(c["custom_id"]) <= 100
            assert ids.parse(c["custom_id"]) is not None
            custom_ids.append(c["custom_id"])
            if c["type"] == 2:
                assert len(c["label"]) <= 80
            else:
                assert len(c["options"]) <= 25
    assert len(custom_ids) == len(set(custom_ids))
    assert laid_out[-1][-1]["custom_id"] == ids.action_id("end")


def q(type_: QuestionType, **kw: Any) -> Question:
    return Question(id="q1", type=type_, text="How?", **kw)


def test_yes_no_is_two_buttons() -> None:
    view = components.question_view(EN, "iv", q(QuestionType.YES_NO))
    check_limits(view)
    assert [c["label"] for c in rows(view)[0]] == ["Yes", "No"]


def test_scale_0_to_10_fits_rows_of_five() -> None:
    view = components.question_view(EN, "iv", q(QuestionType.SCALE, scale_min=0, scale_max=10, max_label="Very"))
    check_limits(view)
    laid = rows(view)
    assert [len(r) for r in laid[:-1]] == [5, 5, 1]
    assert laid[2][0]["label"] == "10 · Very"
    assert ids.parse(laid[0][0]["custom_id"]).args == ("0",)  # type: ignore[union-attr]


def test_single_choice_buttons_then_selects_paged_past_25() -> None:
    few = components.question_view(EN, "iv", q(QuestionType.SINGLE_CHOICE, options=("a", "b", "c"), allow_other=True))
    check_limits(few)
    assert [c["label"] for c in rows(few)[0]] == ["a", "b", "c"]
    assert [c["label"] for c in rows(few)[-1]] == ["Other…", "End interview"]
    many = components.question_view(EN, "iv", q(QuestionType.SINGLE_CHOICE, options=tuple(f"o{i}" for i in range(60))))
    check_limits(many)
    selects = [r[0] for r in rows(many) if r[0]["type"] == 3]
    assert [len(s["options"]) for s in selects] == [25, 25, 10]
    assert selects[2]["options"][0]["value"] == "50"


def test_multiple_choice_keeps_choices_and_limits() -> None:
    question = q(QuestionType.MULTIPLE_CHOICE, options=("a", "b", "c", "d"), min_choices=2, max_choices=3)
    fresh = components.multiple_choice_view(EN, "iv", question, frozenset())
    check_limits(fresh)
    select = rows(fresh)[0][0]
    assert (select["min_values"], select["max_values"]) == (2, 3)
    submit = rows(fresh)[-1][0]
    assert submit["disabled"] is True
    chosen = components.multiple_choice_view(EN, "iv", question, frozenset({0, 2}))
    submit = rows(chosen)[-1][0]
    assert submit["disabled"] is False
    assert ids.decode_mask(ids.parse(submit["custom_id"]).args[0]) == {0, 2}  # type: ignore[union-attr]
    assert [o.get("default", False) for o in rows(chosen)[0][0]["options"]] == [True, False, True, False]


def test_ranking_taps_build_the_order_in_the_ids() -> None:
    question = q(QuestionType.RANKING, options=("apples", "pears", "plums"))
    view = components.ranking_view(EN, "iv", question, ())
    check_limits(view)
    tap = next(c for c in rows(view)[0] if c["label"] == "pears")
    parsed = ids.parse(tap["custom_id"])
    assert parsed is not None and parsed.args == ("", "1")
    after = components.ranking_view(EN, "iv", question, (1,))
    labels = [c["label"] for c in rows(after)[0]]
    assert labels == ["1. pears", "apples", "plums"]
    assert rows(after)[0][0]["disabled"] is True
    done = components.ranking_view(EN, "iv", question, (1, 2))  # the last item places itself
    assert [c["label"] for c in rows(done)[0]] == ["1. pears", "2. plums", "3. apples"]
    submit = next(c for c in rows(done)[-1] if c["label"] == "Submit")
    assert submit.get("disabled", False) is False
    assert ids.decode_order(ids.parse(submit["custom_id"]).args[0]) == (1, 2, 0)  # type: ignore[union-attr]


def test_long_rankings_use_a_select() -> None:
    question = q(QuestionType.RANKING, options=tuple(f"item {i}" for i in range(24)))
    view = components.ranking_view(EN, "iv", question, (5, 7))
    check_limits(view)
    select = rows(view)[0][0]
    assert select["type"] == 3 and len(select["options"]) == 22
    assert "1. item 5" in select["placeholder"]


def test_open_ended_has_no_components_and_answered_view_is_disabled() -> None:
    assert components.question_view(EN, "iv", q(QuestionType.OPEN_ENDED)) is None
    shown = rows(components.answered_view("Yes"))[0][0]
    assert shown["disabled"] is True and shown["label"] == "✓ Yes"
