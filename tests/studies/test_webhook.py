"""The signed webhook at POST /webhooks/koji: the analysis lands once; forged, replayed or unsigned change nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot.api.client import InterviewClient
from bot.api.webhooks import SIGNATURE_HEADER, sign_webhook
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.store import AnalysisStatus
from bot.emulator import EmulatorConfig, run_emulator
from bot.koji_webhook import WEBHOOK_PATH, koji_webhook_handler
from bot.studies_file import parse_studies
from storage.sqlite import SQLiteStore
from tests.core.helpers import key_of
from tests.serving import serving
from tests.waiting import wait_until

from .conftest import BRIEF, CONFIG, TWO_STUDIES, ResultsRecorder
from .steps import finish_interview

SECRET = "whsec_test_0123456789"


async def test_a_signed_webhook_lands_the_analysis_once_and_nothing_else_changes_anything(
    tmp_path: Path, store: SQLiteStore, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    app = web.Application()
    adapter, team = ResultsRecorder(), ResultsRecorder("discord")
    holder: list[Bridge] = []

    async def late(request: web.Request) -> web.StreamResponse:  # the bridge exists once the server's URL is known
        handler: web.StreamResponse = await koji_webhook_handler(holder[0].results, SECRET)(request)
        return handler

    app.router.add_post(WEBHOOK_PATH, late)
    async with serving(app) as base:
        url = base + WEBHOOK_PATH
        config = EmulatorConfig(
            brief=brief, token_rate=5000.0, analysis_delay=0.05, webhook_url=url, webhook_secret=SECRET,
            webhook_backoff=0.05,
        )  # fmt: skip
        async with run_emulator(config) as emulator, InterviewClient(emulator.base_url, emulator.api_key) as client:
            bridge = Bridge(client, store, CONFIG, clock=clock, studies=parse_studies(TWO_STUDIES))
            holder.append(bridge)
            bridge.register(adapter)
            bridge.register(team)
            await bridge.start()
            try:
                interview_id = await finish_interview(bridge, adapter, key_of("w1"), "onboarding", 1)
                await wait_until(lambda: bool(team.posted), asyncio.Event(), 10.0, 0.02)  # no clock moved: the webhook
                record = await store.get_analysis(interview_id)
                assert record is not None and record.status is AnalysisStatus.COMPLETED
                stored = record.analysis
                assert emulator.webhooks is not None
                [ready] = [d for d in emulator.webhooks.deliveries if d.event == "interview.analysis_ready"]
                signature = sign_webhook(SECRET, ready.body)

                async with httpx.AsyncClient() as http:

                    async def post(body: bytes, signature: str | None) -> httpx.Response:
                        headers = {"Content-Type": "application/json"}
                        if signature is not None:
                            headers[SIGNATURE_HEADER] = signature
                        return await http.post(url, content=body, headers=headers)

                    replay = await post(ready.body, signature)
                    assert replay.status_code == 200 and replay.json()["result"] == "duplicate"
                    forged_event = json.loads(ready.body)
                    forged_event["id"] = "evt_forged"
                    forged_event["data"]["analysis"] = {"quality_score": 1, "themes": ["FORGED"]}
                    forged = json.dumps(forged_event).encode()
                    assert (await post(forged, signature)).status_code == 401
                    assert (await post(forged, None)).status_code == 401
                    assert (await post(forged, "sha256=" + "0" * 64)).status_code == 401
                    record = await store.get_analysis(interview_id)
                    assert record is not None and record.analysis == stored
                    assert len(team.posted) == 1, "one card, however often the event came"
                    assert "FORGED" not in caplog.text and '"quality_score"' not in caplog.text, "no body in logs"

                    # a new event, signed as bare hex, about an interview that is not ours: 200 and ignored
                    stranger = json.dumps(
                        {"id": "evt_other", "event": "interview.analysis_ready", "data": {"interview_id": "nope"}}
                    ).encode()
                    answer = await post(stranger, sign_webhook(SECRET, stranger, style="hex"))
                    assert answer.status_code == 200 and answer.json()["result"] == "unknown_interview"
                    # the verification request sent when the URL is saved
                    check = await post(json.dumps({"event": "webhook.verification", "challenge": "c1"}).encode(), None)
                    assert check.status_code == 200 and check.json()["challenge"] == "c1"
            finally:
                await bridge.stop()


async def test_the_bot_http_server_serves_the_webhook_only_with_a_secret(tmp_path: Path) -> None:
    from bot.app import open_bridge, operations_server
    from bot.config import Settings

    body = json.dumps({"id": "evt_1", "event": "interview.analysis_ready", "data": {"interview_id": "x"}}).encode()
    for secret in (None, SECRET):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_path=str(tmp_path / f"bot-{bool(secret)}.db"),
            http_port=0,
            koji_webhook_secret=secret,  # type: ignore[arg-type]
        )
        async with (
            open_bridge(settings) as bridge,
            operations_server(settings, bridge) as server,
            httpx.AsyncClient() as http,
        ):
            unsigned = await http.post(server.url + WEBHOOK_PATH, content=body)
            signed = await http.post(
                server.url + WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: sign_webhook(SECRET, body)}
            )
        if secret is None:
            assert unsigned.status_code == signed.status_code == 404, "not served without KOJI_WEBHOOK_SECRET"
        else:
            assert unsigned.status_code == 401
            assert signed.status_code == 200 and signed.json()["result"] == "unknown_interview"
