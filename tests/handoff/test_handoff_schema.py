"""schemathesis against the running bot: the handoff API as ``/openapi.json`` describes it, with a bounded
number of examples. No input gives a 500; every answer fits the description (status, headers, body). The
description's example body names a member of the fake Discord, so the 202 path (the consent text posted) and,
through the description's links, reading and cancelling a real handoff are exercised too, not only refusals."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_discord import serving as discord_serving
from handoff_helpers import API_KEY, TOKEN, HandoffWorld, stop

from bot.emulator import EmulatorConfig, run_emulator
from bot.handoff import openapi_document

REPO = Path(__file__).resolve().parents[2]
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "ignored_auth",
    )
)


EXAMPLE = openapi_document()["paths"]["/v1/handoffs"]["post"]["requestBody"]["content"]["application/json"]
MEMBER = EXAMPLE["examples"]["discord"]["value"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HandoffWorld]:
    async with discord_serving() as fake, run_emulator(EmulatorConfig(api_key=API_KEY, rate_limit=10_000)) as emulator:
        fake.add_user(MEMBER["user"], "ada")  # the member the description's example hands over
        fake.add_guild(MEMBER["workspace"], "makers", [MEMBER["user"]])
        yield HandoffWorld(fake, emulator, tmp_path)


def test_the_description_in_the_repo_is_openapi_3_1_with_every_route() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/v1/handoffs", "/v1/handoffs/{handoff_id}"}
    assert set(document["paths"]["/v1/handoffs/{handoff_id}"]) >= {"get", "delete"}


@pytest.mark.timeout(600)
async def test_schemathesis_finds_no_500_and_no_answer_outside_the_description(world: HandoffWorld) -> None:
    bot = await world.start_bot()
    try:
        status, served, _ = await world.call("GET", "/openapi.json")
        assert status == 200 and served == json.loads((REPO / "bot/handoff/openapi.json").read_text())
        run = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("schemathesis")), "run", f"{world.base}/openapi.json",
            "--checks", CHECKS, "--max-examples", "25", "--seed", "4711", "--no-color",
            "--phases", "examples,coverage,fuzzing,stateful", "--generation-database", "none",
            "--header", f"Authorization: Bearer {TOKEN}", "--request-timeout", "20",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=world.folder,
        )  # fmt: skip
        out, _ = await run.communicate()
    finally:
        code, err = await stop(bot)
    report = out.decode()
    assert run.returncode == 0, report[-6000:]
    consent_texts = [m for m in world.dm(MEMBER["user"]) if "I agree" in str(m)]
    assert consent_texts, "a valid request reached the 202 path: the consent text is in the member's DM"
    assert "Traceback" not in err, err[-3000:]
    assert code == 0
