"""A message is never sent twice: broken replies are recovered from GET /interviews/:id."""

from __future__ import annotations

import pytest

from bot.api.client import InterviewClient
from bot.api.errors import InterviewApiError, StreamBroken
from bot.api.models import QuestionEvent, StartedInterview, StatusEvent, TextDelta, TextReplace
from bot.core.request_budget import RequestBudget
from bot.emulator import Emulator

from .conftest import collect, reply_text


def _respondent_messages(emu: Emulator, interview_id: str) -> list[str]:
    return [e["content"] for e in emu.transcript(interview_id) if e["role"] == "respondent"]


def _message_posts(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.method == "POST" and r.path.endswith("/message"))


@pytest.mark.parametrize("cut_after", [0, 25])
async def test_cut_stream_is_recovered_without_a_duplicate(
    emu: Emulator, client: InterviewClient, started: StartedInterview, cut_after: int
) -> None:
    emu.faults.cut_stream_after_chars = cut_after
    emu.interview(started.interview_id).state.follow_ups_used = 9  # the reply presents question 2
    events = await collect(client.send(started.interview_id, started.session_token, "It went quite well"))
    stored = emu.transcript(started.interview_id)[-1]
    assert reply_text(events) == stored["content"]
    assert sum(1 for e in events if isinstance(e, TextDelta)) >= 1
    assert [e.question.id for e in events if isinstance(e, QuestionEvent)] == ["how_found"]
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)
    assert _respondent_messages(emu, started.interview_id) == ["It went quite well"]
    assert _message_posts(emu) == 1
    emu.faults.cut_stream_after_chars = None  # the conversation goes on normally afterwards
    await collect(client.send(started.interview_id, started.session_token, "Reddit"))
    assert _respondent_messages(emu, started.interview_id) == ["It went quite well", "Reddit"]


async def test_connection_dropped_after_acceptance_is_recovered(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.faults.drop_after_accept = 1
    events = await collect(client.send(started.interview_id, started.session_token, "Lots of channels"))
    assert reply_text(events) == emu.transcript(started.interview_id)[-1]["content"]
    assert _respondent_messages(emu, started.interview_id) == ["Lots of channels"]
    assert _message_posts(emu) == 1


async def test_recovered_text_that_does_not_match_replaces(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.faults.cut_stream_after_chars = 12
    stream = client.send(started.interview_id, started.session_token, "so many channels")
    first = await anext(stream)
    assert isinstance(first, TextDelta)
    emu.interview(started.interview_id).transcript[-1]["content"] = "A different reply."  # server rewrote it
    rest = [event async for event in stream]
    assert TextReplace("A different reply.") in rest
    assert isinstance(rest[-1], StatusEvent)


async def test_recover_turn_tells_accepted_from_not(client: InterviewClient, started: StartedInterview) -> None:
    assert await client.recover_turn(started.interview_id, "never sent") is None
    events = await collect(client.send(started.interview_id, started.session_token, "yes"))
    turn = await client.recover_turn(started.interview_id, "yes", turns_before=0)
    assert turn is not None and turn.text == reply_text(events) and turn.status == "active"
    assert await client.recover_turn(started.interview_id, "yes", turns_before=1) is None  # a 2nd "yes" not sent


async def test_server_error_before_acceptance_is_not_retried(emu: Emulator, started: StartedInterview) -> None:
    async with InterviewClient(
        emu.base_url, emu.api_key, budget=RequestBudget(1000, 60.0), max_retries=1, backoff_base=0.001
    ) as client:
        emu.faults.error_rate = 1.0
        with pytest.raises(InterviewApiError) as caught:
            await collect(client.send(started.interview_id, started.session_token, "hello"))
        assert not isinstance(caught.value, StreamBroken) or caught.value.accepted is not True
        assert _message_posts(emu) == 1
        emu.faults.error_rate = 0.0
        assert await client.recover_turn(started.interview_id, "hello") is None  # safe to send again
        await collect(client.send(started.interview_id, started.session_token, "hello"))
        assert _respondent_messages(emu, started.interview_id) == ["hello"]
