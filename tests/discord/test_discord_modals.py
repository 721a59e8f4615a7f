"""Discord's modal widgets: the "Other…" modal as a Label (with a TextDisplay for long questions) and a radio
group in the same submit, multiple choice up to 10 options as a checkbox group Discord checks itself, and
selects that cannot show every option saying so. Modals are validated against Discord's OpenAPI description
by the fake (``assert_no_spec_errors``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_helpers import ADA, Stack, answered, discord_stack, first_id, labels

from adapters.discord import components, modals
from bot.api.models import Question, QuestionType
from bot.core.i18n import catalogue


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        yield built


async def reach(stack: Stack, question_id: str) -> dict[str, Any]:
    """Answer the interview up to ``question_id`` (the shared brief's order) and return its message."""
    await stack.fake.user_sends_dm(ADA, "hi")
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you to the server?")
    await stack.fake.user_sends_dm(ADA, "Friends")
    yes_no = await stack.question(ADA, "yn")
    await answered(stack, await stack.click(ADA, yes_no, first_id(yes_no, "ib:a:", ":y")), "Yes")
    scale = await stack.question(ADA, "nps")
    await answered(stack, await stack.click(ADA, scale, first_id(scale, "ib:a:", ":7")), "7 / 10")
    choice = await stack.question(ADA, "src")
    if question_id == "src":
        return choice
    await answered(stack, await stack.click(ADA, choice, first_id(choice, "ib:a:", ":1")), "Reddit")
    pick = await stack.question(ADA, "pick")
    await answered(stack, await stack.click(ADA, pick, first_id(pick, "ib:s:", ":0"), values=["3"]), "c03")
    return await stack.question(ADA, question_id)


def top_types(modal: dict[str, Any]) -> list[int]:
    return [c["type"] for c in modal["components"]]


async def test_the_other_modal_uses_a_label_and_a_radio_group_in_one_submit(stack: Stack) -> None:
    choice = await reach(stack, "src")
    opened = await stack.click(ADA, choice, first_id(choice, "ib:o:"))
    modal = opened.modal
    assert modal is not None
    assert 18 in top_types(modal) and 1 not in top_types(modal)  # no text input straight in an action row
    labelled = [c for c in modal["components"] if c["type"] == 18]
    assert labelled[0]["description"] == "Where did you hear of us?"  # the question, under the first label
    assert [c["component"]["type"] for c in labelled] == [21, 4]  # pick an option, or type one
    assert [o["label"] for o in labelled[0]["component"]["options"]] == ["A friend", "Reddit", "YouTube"]
    picked = await stack.fake.submit_modal(ADA, opened, modal["custom_id"], {"choice": "2"})
    await picked.wait_responded(5.0)
    await answered(stack, picked, "YouTube")
    stack.fake.assert_no_spec_errors()


def test_a_long_question_is_shown_whole_above_the_box() -> None:
    text = "When you think back over the last three months of using the server, where did you first hear of us? " * 2
    question = Question(id="q1", type=QuestionType.SINGLE_CHOICE, text=text, options=("a", "b"), allow_other=True)
    modal = modals.other_modal("iv1", question).to_dict()
    assert len(modal["title"]) <= 45
    [display] = [c for c in modal["components"] if c["type"] == 10]
    assert display["content"] == text.strip()
    labelled = [c for c in modal["components"] if c["type"] == 18]
    assert all(len(c["label"]) <= 45 and len(c.get("description") or "") <= 100 for c in labelled)


async def test_multiple_choice_up_to_ten_options_is_a_checkbox_group_discord_checks(stack: Stack) -> None:
    multi = await reach(stack, "many")
    opened = await stack.click(ADA, multi, first_id(multi, "ib:mo:"))
    modal = opened.modal
    assert modal is not None
    [group] = [c["component"] for c in modal["components"] if c["type"] == 18 and c["component"]["type"] == 22]
    assert (group["min_values"], group["max_values"]) == (1, 2)
    assert [o["label"] for o in group["options"]] == ["Voice", "Forums", "Events", "Threads"]
    with pytest.raises(ValueError, match=r"allowed 1\.\.2"):  # Discord's client refuses a third box
        await stack.fake.submit_modal(ADA, opened, modal["custom_id"], {group["custom_id"]: ["0", "1", "2"]})
    chosen = await stack.fake.submit_modal(ADA, opened, modal["custom_id"], {group["custom_id"]: ["0", "2"]})
    await chosen.wait_responded(5.0)
    await answered(stack, chosen, "Voice, Events")
    stack.fake.assert_no_spec_errors()


@pytest.mark.parametrize("qtype", [QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE])
def test_options_beyond_what_selects_hold_are_announced(qtype: QuestionType, caplog: pytest.LogCaptureFixture) -> None:
    question = Question(id="q1", type=qtype, text="Which?", options=tuple(f"o{i}" for i in range(130)))
    view = components.question_view(catalogue("en"), "iv", question)
    shown = labels({"components": view.to_components() if view else []})
    assert any("100" in label and "130" in label for label in shown), shown
    assert any("130" in r.getMessage() for r in caplog.records)
