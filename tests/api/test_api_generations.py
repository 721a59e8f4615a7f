"""Both doc generations and every reply shape the client must read, produced by the built-in server."""

from __future__ import annotations

import pytest

from bot.api.client import InterviewClient
from bot.api.errors import Unauthorized
from bot.api.models import ErrorEvent, QuestionEvent, StartedInterview, StatusEvent
from bot.core.request_budget import RequestBudget
from bot.emulator import Emulator, EmulatorConfig, run_emulator

from .conftest import collect, reply_text


async def _advance_to_question(emu: Emulator, client: InterviewClient, started: StartedInterview) -> list[object]:
    emu.interview(started.interview_id).state.follow_ups_used = 9  # skip probing: the reply carries question 2
    return list(await collect(client.send(started.interview_id, started.session_token, "It was fine overall")))


@pytest.mark.parametrize("style", ["named", "typed", "raw"])
async def test_every_sse_style_gives_the_same_reply(
    emu: Emulator, client: InterviewClient, started: StartedInterview, style: str
) -> None:
    emu.faults.sse_style = style  # type: ignore[assignment]
    events = await _advance_to_question(emu, client, started)
    assert reply_text(events) == emu.transcript(started.interview_id)[-1]["content"]  # type: ignore[arg-type]
    assert any(isinstance(e, QuestionEvent) and e.question.id == "how_found" for e in events)
    assert isinstance(events[-1], StatusEvent) and events[-1].turn_count == 1


async def test_final_event_without_blank_line_is_kept(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.faults.final_blank_line = False
    events = await _advance_to_question(emu, client, started)
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)
    assert not any(r.method == "GET" for r in emu.requests)  # it came from the stream, not from a GET


async def test_missing_status_is_synthesized_from_get(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    emu.faults.send_status = False
    events = await collect(client.send(started.interview_id, started.session_token, "hello"))
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)
    assert any(r.method == "GET" for r in emu.requests)


async def test_error_event_in_the_stream(emu: Emulator, client: InterviewClient, started: StartedInterview) -> None:
    emu.faults.error_event_after_chars = 10
    events = await collect(client.send(started.interview_id, started.session_token, "hello"))
    assert ErrorEvent("generation_failed", "The interviewer could not finish this reply.") in events
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)


async def test_overview_json_reply(emu: Emulator, client: InterviewClient, started: StartedInterview) -> None:
    emu.faults.message_reply = "json"
    events = await _advance_to_question(emu, client, started)
    assert reply_text(events) == emu.transcript(started.interview_id)[-1]["content"]  # type: ignore[arg-type]
    assert any(isinstance(e, QuestionEvent) for e in events)
    assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)


async def test_message_field_fallback(emu: Emulator, client: InterviewClient, started: StartedInterview) -> None:
    emu.faults.body_field = "message"  # the overview page's {"message": ...}
    events = await collect(client.send(started.interview_id, started.session_token, "first"))
    assert reply_text(events)
    await collect(client.send(started.interview_id, started.session_token, "second"))
    posts = [r.status for r in emu.requests if r.path.endswith("/message")]
    assert posts == [400, 200, 200]  # learned once, then remembered
    assert [e["content"] for e in emu.transcript(started.interview_id) if e["role"] == "respondent"] == [
        "first",
        "second",
    ]


async def test_old_generation_end_to_end() -> None:
    config = EmulatorConfig(token_rate=0, generation="old", rate_limit=1000, analysis_delay=0.01)
    async with (
        run_emulator(config) as emu,
        InterviewClient(emu.base_url, emu.api_key, budget=RequestBudget(1000, 60.0), backoff_base=0.01) as client,
    ):
        started = await client.start()
        assert "there" in started.initial_message
        events = await _advance_to_question(emu, client, started)
        assert reply_text(events) == emu.transcript(started.interview_id)[-1]["content"]  # type: ignore[arg-type]
        assert any(isinstance(e, QuestionEvent) for e in events)
        assert events[-1] == StatusEvent(status="active", is_complete=False, turn_count=1)
        paths = [(r.path.rsplit("/", 1)[-1], r.status) for r in emu.requests if r.method == "POST"]
        assert paths == [("start", 201), ("message", 404), ("messages", 200)]
        details = await client.get(started.interview_id)  # roles come as assistant/user
        assert [e.role for e in details.transcript] == ["interviewer", "respondent", "interviewer"]
        emu.faults.force_429 = 1  # the older 429 carries Retry-After
        result = await client.complete(started.interview_id, started.session_token)
        assert result.status == "completed"
        assert [r.status for r in emu.requests][-2:] == [429, 200]


async def test_old_generation_retry_after_header() -> None:
    async with run_emulator(EmulatorConfig(generation="old")) as emu:
        emu.faults.force_429 = 1
        import httpx

        async with httpx.AsyncClient() as raw:
            response = await raw.get(f"{emu.base_url}/interviews/x", headers={"Authorization": f"Bearer {emu.api_key}"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.json()["error"] == "rate_limited"


async def test_guide_routes_and_described_errors(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    """A server with only the guide's body-addressed routes and ``{"error": "<description>"}`` bodies."""
    emu.faults.missing_routes = ("/{id}/message", "/{id}/messages", "/{id}/complete", "/complete")
    emu.faults.error_style = "described"
    events = await _advance_to_question(emu, client, started)
    assert reply_text(events) == emu.transcript(started.interview_id)[-1]["content"]  # type: ignore[arg-type]
    assert isinstance(events[-1], StatusEvent) and events[-1].turn_count == 1
    await collect(client.send(started.interview_id, started.session_token, "Reddit"))  # the route is remembered
    with pytest.raises(Unauthorized) as forged:
        await collect(client.send(started.interview_id, "st_live_forged", "hi"))
    assert forged.value.message == "Missing or invalid session token."
    first = await client.complete(started.interview_id, started.session_token)
    again = await client.complete(started.interview_id, started.session_token)
    assert not first.already_completed and again.already_completed
    assert again.completed_at == first.completed_at
    posts = [(r.path.removeprefix("/api/v1/interviews"), r.status) for r in emu.requests if r.method == "POST"]
    assert posts[1:] == [
        (f"/{started.interview_id}/message", 404),
        (f"/{started.interview_id}/messages", 404),
        ("/messages", 200),
        ("/messages", 200),
        ("/messages", 401),
        (f"/{started.interview_id}/complete", 404),
        ("/complete", 404),
        ("/api/interview/complete", 200),
        ("/api/interview/complete", 409),
    ]
    assert [e["content"] for e in emu.transcript(started.interview_id) if e["role"] == "respondent"] == [
        "It was fine overall",
        "Reddit",
    ]


async def test_start_accepts_every_documented_body(emu: Emulator) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {emu.api_key}"}
    bodies = [
        {
            "respondent": {"external_id": "u1", "display_name": "Jane", "metadata": {"segment": "a"}},
            "mode": "text",
            "locale": "en",
        },  # the newer docs
        {
            "projectSlug": "discord-onboarding",
            "respondentMetadata": {"name": "Jane", "email": "j@example.com", "externalId": "u1"},
        },  # the guide
        {
            "project_id": "discord-onboarding",
            "guide_id": "g1",
            "respondent_name": "Jane",
            "respondent_email": "j@example.com",
            "metadata": {"segment": "a"},
            "language": "en",
            "mode": "text",
        },  # older
    ]
    async with httpx.AsyncClient(headers=headers) as raw:
        replies = [await raw.post(f"{emu.base_url}/interviews/start", json=body) for body in bodies]
    assert [r.status_code for r in replies] == [201, 201, 201]
    records = [emu.interview(r.json()["interview_id"]) for r in replies]
    assert all("Jane" in r.json()["initial_message"] for r in replies)
    assert records[0].respondent == {"external_id": "u1", "display_name": "Jane", "metadata": {"segment": "a"}}
    assert records[1].respondent == {
        "external_id": "u1",
        "display_name": "Jane",
        "metadata": {"email": "j@example.com"},
    }
    assert records[2].respondent == {"display_name": "Jane", "metadata": {"segment": "a", "email": "j@example.com"}}


async def test_newer_generation_429_has_reset_but_no_retry_after(emu: Emulator) -> None:
    import httpx

    emu.faults.force_429 = 1
    async with httpx.AsyncClient() as raw:
        response = await raw.get(f"{emu.base_url}/interviews/x", headers={"Authorization": f"Bearer {emu.api_key}"})
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert "Retry-After" not in response.headers
    assert int(response.headers["X-RateLimit-Reset"]) > 1_000_000_000  # unix seconds


async def test_route_fallback_is_remembered_only_when_a_route_answers(
    emu: Emulator, client: InterviewClient, started: StartedInterview
) -> None:
    """A plain 404 on every message route (e.g. a proxy's) must not leave the client on an older route."""
    from bot.api.errors import NotFound

    emu.faults.missing_routes = ("/{id}/message", "/{id}/messages", "/messages")
    with pytest.raises(NotFound) as caught:
        await collect(client.send(started.interview_id, started.session_token, "hello"))
    assert caught.value.route_missing
    emu.faults.missing_routes = ()
    await collect(client.send(started.interview_id, started.session_token, "hello"))
    paths = [r.path.rsplit("/", 1)[-1] for r in emu.requests if r.method == "POST"][1:]
    assert paths == ["message", "messages", "messages", "message"]  # back on the newer route at once
