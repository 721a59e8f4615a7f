"""Typed replies in Slack behave as the buttons do: a typed "no" to the exit confirmation carries on and is
never recorded as the answer to the question waiting with it; natural answers are read as meant."""

from __future__ import annotations

from test_slack_e2e import ALICE, Harness, harness, start_interview

from bot.core.store import RecordStatus

__all__ = ["harness"]


async def _say(h: Harness, thread: str, text: str) -> None:
    sent = await h.fake.user_sends_dm(ALICE, text, thread_ts=thread)
    assert sent["status"] == 200
    await h.idle()


async def test_typed_no_to_the_exit_confirmation_is_not_an_answer(harness: Harness) -> None:
    h = harness
    thread = await start_interview(h)
    await _say(h, thread, "I run the support team")  # → "Do you like working here?" (yes / no buttons)
    await h.wait_for_action("ib:yes")
    record = await h.store.latest_interview(h.key())
    assert record is not None
    interview = h.emulator.interview(record.interview_id)
    await _say(h, thread, "exit")
    await h.wait_for_action("ib:act:confirm_exit")
    await _say(h, thread, "no")
    await h.fake.wait_for(lambda: any("let's carry on" in m["text"] for m in h.bot_replies(thread=thread)))
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.status is RecordStatus.ACTIVE and not record.exit_requested
    assert "like" not in interview.state.answers, "the 'no' went nowhere"
    assert [e["content"] for e in interview.transcript if e["role"] == "respondent"] == ["I run the support team"]
    answers = interview.state.answers
    natural = (
        ("nope", "like", False, "ib:yes"),
        ("four out of five", "ease", 4, "ib:scale:4"),
        ("the third one", "team", "Engineering", "ib:choice:2"),
    )
    for typed, question, value, button in natural:
        await h.wait_for_action(button)  # as a person would: once the question is shown
        await _say(h, thread, typed)  # the first one answers the question that waited all along
        await h.fake.wait_for(lambda q=question: q in answers)  # type: ignore[misc]
        assert answers[question].value == value and answers[question].via == "widget"
