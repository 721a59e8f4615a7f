"""Every endpoint and error of the interview API, client against the built-in server over loopback HTTP."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.api.client import InterviewClient
from bot.api.errors import (
    ApiUnavailable,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServerError,
    Unauthorized,
    Unprocessable,
    error_from_response,
)
from bot.api.models import (
    CompletionReason,
    QuestionEvent,
    Respondent,
    StartedInterview,
    StatusEvent,
    TextDelta,
)
from bot.core.request_budget import RequestBudget
from bot.emulator import Emulator

from .conftest import collect, reply_text


async def test_start_returns_id_token_and_greeting(emu: Emulator, started: StartedInterview) -> None:
    assert started.session_token.startswith("st_live_")
    assert "Ana" in started.initial_message
    record = emu.interview(started.interview_id)
    assert record.respondent == {"external_id": "u-1", "display_name": "Ana", "metadata": {"guild": "g1"}}
    assert emu.transcript(started.interview_id)[0]["content"] == started.initial_message


async def test_send_streams_the_reply_stored_in_the_transcript(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    events = await collect(client.send(started.interview_id, started.session_token, "It was a bit overwhelming"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3  # streamed token by token
    transcript = emu.transcript(started.interview_id)
    assert transcript[-2] == {**transcript[-2], "role": "respondent", "content": "It was a bit overwhelming"}
    assert reply_text(events) == transcript[-1]["content"]
    assert "confusing" in reply_text(events)  # the follow-up reacts to "overwhelming"
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)


async def test_get_returns_status_and_transcript(client: InterviewClient, started: StartedInterview) -> None:
    await collect(client.send(started.interview_id, started.session_token, "hello there"))
    details = await client.get(started.interview_id)
    assert details.status == "active"
    assert [e.role for e in details.transcript] == ["interviewer", "respondent", "interviewer"]
    assert details.metadata == {"guild": "g1"}
    assert details.analysis is None


async def test_complete_is_idempotent_and_analysis_runs(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    await collect(client.send(started.interview_id, started.session_token, "The channel list was confusing"))
    first = await client.complete(
        started.interview_id, started.session_token, CompletionReason.RESPONDENT_LEFT, {"satisfaction": 4}
    )
    assert (first.status, first.analysis_status, first.already_completed) == ("completed", "processing", False)
    assert first.stats is not None and first.stats["respondent_messages"] == 1
    again = await client.complete(started.interview_id, started.session_token)
    assert again.already_completed and again.completed_at == first.completed_at
    assert [r.status for r in emu.requests if r.path.endswith("/complete")] == [200, 409]
    for _ in range(100):
        details = await client.get(started.interview_id)
        if details.analysis_status == "completed":
            break
        await asyncio.sleep(0.02)
    assert details.analysis is not None and details.status == "completed"
    assert 1 <= details.analysis["quality_score"] <= 5
    assert details.analysis["themes"][0]["name"] == "Channel overload"
    assert emu.interview(started.interview_id).feedback == {"satisfaction": 4}


async def test_message_after_the_end_is_a_conflict(client: InterviewClient, started: StartedInterview) -> None:
    await client.complete(started.interview_id, started.session_token)
    with pytest.raises(Conflict) as caught:
        await collect(client.send(started.interview_id, started.session_token, "one more thing"))
    assert caught.value.status == 409


async def test_wrong_api_key_is_unauthorized(emu: Emulator) -> None:
    async with InterviewClient(emu.base_url, "pk_live_wrong", budget=RequestBudget(100, 60.0)) as api:
        with pytest.raises(Unauthorized) as caught:
            await api.start()
    assert caught.value.code == "unauthorized"
    assert "pk_live_wrong" not in str(caught.value)


async def test_wrong_session_token_is_unauthorized(client: InterviewClient, started: StartedInterview) -> None:
    with pytest.raises(Unauthorized):
        await collect(client.send(started.interview_id, "st_live_forged", "hi"))
    with pytest.raises(Unauthorized):
        await client.complete(started.interview_id, "st_live_forged")


async def test_missing_permission_is_forbidden(emu: Emulator, started: StartedInterview) -> None:
    emu.add_api_key("pk_live_readonly", {"interview:read"})
    async with InterviewClient(emu.base_url, "pk_live_readonly", budget=RequestBudget(100, 60.0)) as api:
        with pytest.raises(Forbidden):
            await api.start()
        with pytest.raises(NotFound):  # readable, but only the key's own interviews
            await api.get(started.interview_id)


async def test_unknown_interview_is_not_found(client: InterviewClient) -> None:
    with pytest.raises(NotFound):
        await client.get("int_missing")
    with pytest.raises(NotFound):
        await collect(client.send("int_missing", "st", "hello"))


async def test_start_errors(client: InterviewClient) -> None:
    with pytest.raises(Unprocessable) as caught:
        await client.start(mode="voice")
    assert caught.value.status == 422
    with pytest.raises(BadRequest) as bad:
        await client.start(mode="telepathy")
    assert bad.value.code == "invalid_request"
    with pytest.raises(NotFound):
        await client.start(study="another-study")
    ok = await client.start(Respondent(display_name="Bo"), study="discord-onboarding", locale="en")
    assert ok.interview_id


async def test_empty_message_is_refused(emu: Emulator, client: InterviewClient, started: StartedInterview) -> None:
    with pytest.raises(BadRequest):
        client.send(started.interview_id, started.session_token, "   ")
    async with httpx.AsyncClient() as raw:  # the server refuses it too, with the documented code
        response = await raw.post(
            f"{emu.base_url}/interviews/{started.interview_id}/message",
            json={"content": ""},
            headers={"Authorization": f"Bearer {emu.api_key}", "X-Session-Token": started.session_token},
        )
    error = error_from_response(response.status_code, response.content, response.headers)
    assert isinstance(error, BadRequest) and error.code == "invalid_message"
    assert len(emu.transcript(started.interview_id)) == 1


async def test_server_errors_are_retried_for_get(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.faults.error_rate = 0.5
    async with InterviewClient(
        emu.base_url, emu.api_key, budget=RequestBudget(1000, 60.0), max_retries=12, backoff_base=0.001
    ) as patient:
        for _ in range(5):
            assert (await patient.get(started.interview_id)).interview_id == started.interview_id
    assert any(r.status == 503 for r in emu.requests)
    emu.faults.error_rate = 1.0
    with pytest.raises(ServerError) as caught:
        await client.get(started.interview_id)
    assert caught.value.status == 503


async def test_unreachable_server_is_api_unavailable() -> None:
    async with InterviewClient(
        "http://127.0.0.1:9/api/v1", "pk_live_x", budget=RequestBudget(100, 60.0), max_retries=1, backoff_base=0.01
    ) as api:
        with pytest.raises(ApiUnavailable):
            await api.get("int_1")
        with pytest.raises(ApiUnavailable):
            await collect(api.send("int_1", "st", "hello"))
        assert api.budget.available() == 100  # never-sent requests give their slot back


async def test_cors_is_permissive(emu: Emulator) -> None:
    async with httpx.AsyncClient() as raw:
        preflight = await raw.options(
            f"{emu.base_url}/interviews/start",
            headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
        )
        get = await raw.get(f"{emu.base_url}/interviews/x", headers={"Authorization": f"Bearer {emu.api_key}"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Session-Token" in preflight.headers["Access-Control-Allow-Headers"]
    assert get.headers["Access-Control-Allow-Origin"] == "*"
    assert get.headers["X-RateLimit-Limit"] == "1000"


async def test_base_url_may_end_in_interviews(emu: Emulator) -> None:
    async with InterviewClient(emu.base_url + "/interviews/", emu.api_key, budget=RequestBudget(100, 60.0)) as api:
        started = await api.start()
        assert (await api.get(started.interview_id)).interview_id == started.interview_id


async def test_structured_question_event_and_answer(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.interview(started.interview_id).state.follow_ups_used = 9  # no probing: go straight to question 2
    events = await collect(client.send(started.interview_id, started.session_token, "It was fine, I guess"))
    question = next(e.question for e in events if isinstance(e, QuestionEvent))
    assert question.id == "how_found" and question.allow_other
    assert question.text in reply_text(events)
    await collect(client.send(started.interview_id, started.session_token, "", answer=(question, "Reddit")))
    record = emu.interview(started.interview_id)
    assert record.transcript[-2]["content"] == "Reddit"
    assert record.state.answers["how_found"].value == "Reddit"
    assert record.state.answers["how_found"].via == "widget"


async def test_body_addressed_route_variants(emu: Emulator, started: StartedInterview) -> None:
    headers = {"Authorization": f"Bearer {emu.api_key}", "X-Session-Token": started.session_token}
    root = emu.base_url.removesuffix("/api/v1")
    async with httpx.AsyncClient(headers=headers) as raw:
        message = await raw.post(
            f"{emu.base_url}/interviews/messages",
            json={"interview_id": started.interview_id, "content": "hi", "type": "respondent"},
        )
        complete = await raw.post(f"{root}/api/interview/complete", json={"interview_id": started.interview_id})
        again = await raw.post(f"{emu.base_url}/interviews/complete", json={"interview_id": started.interview_id})
        bad_reason = await raw.post(
            f"{emu.base_url}/interviews/{started.interview_id}/complete", json={"reason": "bored"}
        )
    assert message.status_code == 200 and message.json()["interviewer_response"]["content"]
    assert message.json()["messages_count"] == 3
    assert complete.status_code == 200 and complete.json()["status"] == "completed"
    assert again.status_code == 409 and again.json()["error"] == "already_completed"
    assert again.json()["completed_at"] == complete.json()["completed_at"]
    assert bad_reason.status_code == 400 and bad_reason.json()["error"] == "invalid_request"


async def test_start_is_retried_after_503(emu: Emulator) -> None:
    emu.faults.error_rate = 0.5
    async with InterviewClient(
        emu.base_url, emu.api_key, budget=RequestBudget(1000, 60.0), max_retries=12, backoff_base=0.001
    ) as api:
        for _ in range(4):
            assert (await api.start()).session_token
    assert any(r.status == 503 and r.path.endswith("/start") for r in emu.requests)


async def test_api_key_formats_and_whitespace(emu: Emulator) -> None:
    from bot.api.keys import clean_api_key, looks_like_koji_key

    assert looks_like_koji_key(emu.api_key)  # the built-in server makes newer-style keys: pk_live_ + 32
    assert looks_like_koji_key("koji_sk_live1234abcd") and looks_like_koji_key("koji_live_abcdef123456")
    assert not looks_like_koji_key("pk_live_short") and not looks_like_koji_key("sk-proj-abc")
    async with InterviewClient(emu.base_url, f" {emu.api_key}\n", budget=RequestBudget(100, 60.0)) as api:
        assert (await api.start()).session_token  # a .env line's whitespace is not part of the key
    for bad in ("", "pk_live_with space", "pk_live_ünïcode"):
        with pytest.raises(ValueError) as caught:
            clean_api_key(bad)
        assert bad.strip() == "" or bad not in str(caught.value)


async def test_emulator_raises_no_aiohttp_key_warning(client: InterviewClient, started: StartedInterview) -> None:
    """Request and app storage use typed keys (``web.RequestKey``/``web.AppKey``), so aiohttp stays quiet."""
    import warnings

    from aiohttp import web

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await collect(client.send(started.interview_id, started.session_token, "hello"))
        await client.complete(started.interview_id, started.session_token)
        await client.get(started.interview_id)
    assert [w for w in caught if issubclass(w.category, web.NotAppKeyWarning)] == []
