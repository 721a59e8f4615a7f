"""The handoff API of a real ``interview-bridge run`` process, against the fake Discord and the built-in server.

A handoff posts the study's consent text in the member's DM; nothing reaches the interview service before they
click I agree, which starts the interview with the context as the respondent's metadata. The callback receiver
hears ``accepted``, ``completed`` and ``analysed``, signed and in order, even when the bot is killed with SIGKILL
between the completion and its callback. No thanks is ``declined`` (and a later handoff is refused at once).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_discord import serving as discord_serving
from handoff_helpers import ADA, API_KEY, GUILD, TOKEN, HandoffWorld, receiving, stop, until

from bot.emulator import EmulatorConfig, run_emulator

BOB = "1003"
CURL_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "handoff_curl.sh"
CONTEXT = {"plan": "team", "came_from": "support-bot", "tickets": 3}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HandoffWorld]:
    config = EmulatorConfig(api_key=API_KEY, token_rate=40.0, rate_limit=1000)
    async with discord_serving() as fake, run_emulator(config) as emulator:
        fake.add_user(ADA, "ada")
        fake.add_user(BOB, "bob", dms_open=False)
        fake.add_guild(GUILD, "makers", [ADA, BOB])
        yield HandoffWorld(fake, emulator, tmp_path)


@pytest.mark.timeout(300)
async def test_a_handoff_over_http_reaches_the_dm_and_every_callback_arrives_signed_in_order_across_kill_9(
    world: HandoffWorld,
) -> None:
    async with receiving() as receiver:
        receiver.refuse = {"completed"}  # the chatbot is down when the interview ends
        bot = await world.start_bot()
        try:
            status, answer, _ = await world.hand_over(ADA, context=CONTEXT, callback_url=receiver.url)
            assert status == 202, answer
            assert answer["status"] == "consent_pending" and answer["handoff_id"] and answer["interview_id"] is None
            handoff_id = answer["handoff_id"]
            await world.consent(ADA)  # the study's consent text is in Ada's DM ...
            assert sent_to_api(world) == [], "... and nothing reached the interview service"
            await world.answer_consent(ADA, "agree")
            interview_id = (await world.status_becomes(handoff_id, "accepted"))["interview_id"]
            await world.reply_done(1)  # the interviewer's opening is in Ada's DM
            respondent = world.emulator.interview(interview_id).respondent
            assert {k: respondent["metadata"][k] for k in CONTEXT} == CONTEXT
            await until(receiver, lambda: [e["event"] for e in receiver.delivered()] == ["accepted"])

            status, view, _ = await world.call("GET", f"/v1/handoffs/{handoff_id}")
            assert status == 200 and view["status"] == "accepted" and view["interview_id"] == interview_id

            status, view, _ = await world.call("DELETE", f"/v1/handoffs/{handoff_id}")
            assert status == 200 and view["status"] in ("completed", "analysed") and view["end_reason"] == "manual"
            assert "Thank you for your time" in world.dm()[-1]["content"]  # the courteous end
            await until(
                receiver, lambda: any(r.event["event"] == "completed" for r in receiver.received)
            )  # refused once
            metrics = await scrape(world)
            assert 'interview_bridge_handoffs_total{outcome="consent_pending",platform="discord"} 1.0' in metrics
            assert 'interview_bridge_handoffs_total{outcome="accepted",platform="discord"} 1.0' in metrics
            assert 'interview_bridge_handoff_callbacks_total{event="accepted",outcome="delivered"} 1.0' in metrics
            await scraped(world, 'interview_bridge_handoff_callbacks_total{event="completed",outcome="retried"}')
        finally:
            os.kill(bot.pid, signal.SIGKILL)
            await bot.wait()

        receiver.refuse = set()
        restarted = await world.start_bot()
        try:
            await until(
                receiver, lambda: [e["event"] for e in receiver.delivered()] == ["accepted", "completed", "analysed"]
            )
        finally:
            code, err = await stop(restarted)
        assert code == 0, err[-2000:]

    assert all(r.signed_right for r in receiver.received), "every callback carries the right signature"
    accepted, completed, analysed = receiver.delivered()
    assert {e["handoff_id"] for e in (accepted, completed, analysed)} == {handoff_id}
    assert {e["interview_id"] for e in (accepted, completed, analysed)} == {interview_id}
    assert completed["end_reason"] == "manual" and completed["turns"] == 0 and completed["duration_seconds"] >= 0
    assert analysed["analysis_status"] == "completed"
    assert {"quality", "themes", "structured_answers"} <= set(analysed)


async def test_refusals_are_clear_and_leave_nothing_behind(world: HandoffWorld) -> None:
    bot = await world.start_bot()
    try:
        status, answer, _ = await world.hand_over(ADA, context={"note": "x" * 5000})
        assert status == 400 and answer["error"] == "invalid_request" and "4096" in answer["message"]
        status, answer, _ = await world.hand_over(ADA, context={"nested": {"no": 1}})
        assert status == 400 and answer["error"] == "invalid_request"

        wrong = "wrong-token-5f4e3d2c1b0a"
        status, answer, _ = await world.call("POST", "/v1/handoffs", {"platform": "discord"}, token=wrong)
        assert status == 401 and answer["error"] == "unauthorized"
        status, answer, _ = await world.call("GET", "/v1/handoffs/anything", token="")
        assert status == 401

        status, answer, _ = await world.hand_over(BOB)  # DMs closed
        assert status == 422 and answer["error"] == "user_unreachable", answer
        assert not world.fake.dm_channel_of(BOB) or not world.fake.bot_messages(world.fake.dm_channel_of(BOB) or "")
        world.fake.set_dms_open(BOB, True)
        await world.fake.user_sends_dm(BOB, "yes")  # later, unprompted: not an answer to a text never shown
        await world.consent(BOB)  # the consent text comes first, as for anyone
        assert sent_to_api(world) == []
        status, answer, _ = await world.hand_over("1999")  # not in the guild
        assert status == 422 and answer["error"] == "user_unreachable"
        assert len(world.emulator.book.interviews) == 0, "nothing was started at the interview service"

        key = {"Idempotency-Key": "support-ticket-4711"}
        first = await world.hand_over(ADA, context=CONTEXT, headers=key)
        again = await world.hand_over(ADA, context=CONTEXT, headers=key)
        assert first[0] == again[0] == 202 and first[1] == again[1], "the same key gives the same handoff"
        assert first[1]["status"] == "consent_pending"
        status, answer, _ = await world.hand_over(ADA, context={"plan": "other"}, headers=key)
        assert status == 422 and answer["error"] == "idempotency_key_reused", answer
        assert first[1]["handoff_id"] in answer["message"]
        await world.consent(ADA)
        assert len(world.dm(ADA)) == 1, "one consent text for the request and its retry"
        await world.answer_consent(ADA, "agree")
        await world.status_becomes(first[1]["handoff_id"], "accepted")
        assert len(world.emulator.book.interviews) == 1, "one interview"
        status, answer, _ = await world.hand_over(ADA, context=CONTEXT, headers=key)
        assert (status, answer["status"]) == (202, "accepted") and answer["handoff_id"] == first[1]["handoff_id"]

        status, answer, _ = await world.hand_over(ADA)
        assert status == 409 and answer["error"] == "already_in_interview"
        assert answer["interview_id"] == next(iter(world.emulator.book.interviews))
        status, answer, _ = await world.hand_over(ADA, study="no-such-study")
        assert status == 400 and answer["error"] == "invalid_request"
        status, answer, _ = await world.call("GET", "/v1/handoffs/ho_unknown")
        assert status == 404 and answer["error"] == "not_found"
    finally:
        code, err = await stop(bot)
    assert code == 0, err[-2000:]
    assert TOKEN not in err and wrong not in err, "no token reaches the logs"
    assert "unauthorized" not in err.lower(), "a refused token leaves no trace in the logs"


async def test_no_thanks_is_declined_and_a_later_handoff_to_that_study_is_refused_at_once(world: HandoffWorld) -> None:
    async with receiving() as receiver:
        bot = await world.start_bot()
        try:
            status, answer, _ = await world.hand_over(ADA, callback_url=receiver.url)
            assert (status, answer["status"]) == (202, "consent_pending")
            await world.answer_consent(ADA, "decline")
            view = await world.status_becomes(answer["handoff_id"], "declined")
            assert view["interview_id"] is None and view["expires_at"] is None
            await until(receiver, lambda: [e["event"] for e in receiver.delivered()] == ["declined"])

            status, again, _ = await world.hand_over(ADA, callback_url=receiver.url)
            assert status == 403 and again["error"] == "declined", again
            status, view, _ = await world.call("DELETE", f"/v1/handoffs/{answer['handoff_id']}")
            assert status == 200 and view["status"] == "declined", "a declined handoff stays declined"
            status, _, _ = await world.hand_over("1999")  # not in the guild
            metrics = await scrape(world)
            assert (
                'interview_bridge_handoffs_total{outcome="declined",platform="discord"} 2.0' in metrics
            )  # then at once
            assert 'interview_bridge_handoffs_total{outcome="user_unreachable",platform="discord"} 1.0' in metrics
            assert 'interview_bridge_handoff_callbacks_total{event="declined",outcome="delivered"} 1.0' in metrics
        finally:
            code, err = await stop(bot)
    assert code == 0, err[-2000:]
    assert sent_to_api(world) == [], "No thanks starts nothing at the interview service"
    assert receiver.delivered()[0] == {"handoff_id": answer["handoff_id"], "event": "declined", "interview_id": None}
    assert all(r.signed_right for r in receiver.received)


async def test_a_handoff_still_waiting_for_consent_is_cancelled_by_delete(world: HandoffWorld) -> None:
    bot = await world.start_bot()
    try:
        status, answer, _ = await world.hand_over(ADA)
        assert (status, answer["status"]) == (202, "consent_pending")
        status, view, _ = await world.call("DELETE", f"/v1/handoffs/{answer['handoff_id']}")
        assert (status, view["status"], view["interview_id"]) == (200, "cancelled", None)
    finally:
        code, err = await stop(bot)
    assert code == 0, err[-2000:]
    assert sent_to_api(world) == []


async def test_the_curl_example_runs_against_the_bot(world: HandoffWorld) -> None:
    script = CURL_EXAMPLE
    bot = await world.start_bot()
    try:
        env = {"PATH": os.environ["PATH"], "BRIDGE_URL": world.base, "HANDOFF_TOKEN": TOKEN}
        env.update(WORKSPACE=GUILD, USER_ID=ADA, PLATFORM="discord", STUDY="default", IDEMPOTENCY_KEY="curl-1")
        run = await asyncio.create_subprocess_exec(
            "sh", str(script), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        await world.answer_consent(ADA, "agree")  # the person reads the consent text and agrees
        out, err = await run.communicate()
    finally:
        code, bot_err = await stop(bot)
    assert run.returncode == 0, out.decode() + err.decode()
    steps = out.decode().split("\n")
    statuses = [line for line in steps if line.strip().isdigit()]
    assert statuses == ["202", "202", "200", "200"], out.decode()
    assert out.decode().count('"handoff_id"') == 4 and len(world.emulator.book.interviews) == 1
    assert '"end_reason": "manual"' in out.decode() or '"end_reason":"manual"' in out.decode()
    assert '"status": "accepted"' in out.decode() or '"status":"accepted"' in out.decode()
    assert code == 0, bot_err[-2000:]


async def scrape(world: HandoffWorld) -> str:
    """The bot's ``/metrics`` (Prometheus' text format)."""
    status, text, _ = await world.call("GET", "/metrics")
    assert status == 200
    return str(text)


async def scraped(world: HandoffWorld, fragment: str) -> None:
    """Wait until ``/metrics`` shows ``fragment``."""
    for _ in range(100):
        if fragment in await scrape(world):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{fragment} not in /metrics")


def sent_to_api(world: HandoffWorld) -> list[str]:
    """The requests that changed something at the built-in server (a start, a message, a completion)."""
    return [f"{r.method} {r.path}" for r in world.emulator.requests if r.method != "GET"]


async def test_more_handoffs_a_minute_than_allowed_get_429_with_retry_after(world: HandoffWorld) -> None:
    world.extra_env["HANDOFF_RATE_LIMIT"] = "1"
    bot = await world.start_bot()
    try:
        status, _, _ = await world.hand_over(ADA)
        assert status == 202
        status, answer, headers = await world.hand_over("1004")
        assert status == 429 and answer["error"] == "rate_limited"
        assert 1 <= int(headers["Retry-After"]) <= 60
    finally:
        code, err = await stop(bot)
    assert code == 0, err[-2000:]
