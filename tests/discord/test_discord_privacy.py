"""Issue 11 on the fake Discord: consent before anything is sent, /interview my-data, /interview forget-me."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_helpers import ADA, BOB, MOD, Stack, custom_ids, discord_stack

from adapters.discord import ids


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        yield built


WORDS = "My friends Quintessa and Bartholomew brought me here"


async def _interview(stack: Stack, user: str) -> None:
    assert stack.emulator is not None
    before = len(stack.emulator.requests)
    await stack.fake.user_sends_dm(user, "hi")
    consent = await stack.consent(user)
    assert len(stack.emulator.requests) == before, "nothing is sent before I agree"
    assert ids.action_id("decline") in custom_ids(consent)
    await stack.agree(user)
    await stack.said(user, "What brought you to the server?")
    await stack.fake.user_sends_dm(user, WORDS if user == ADA else "The events")
    await stack.question(user, "yn")


async def test_my_data_is_a_private_json_file_of_the_members_own_transcript(stack: Stack) -> None:
    await _interview(stack, ADA)
    await _interview(stack, MOD)
    asked = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "my-data", "options": []}])
    await stack.fake.wait_for(lambda: bool(asked.followups), timeout=10.0)
    assert asked.ephemeral
    [upload] = [r for r in stack.fake.requests if r.files and "/webhooks/" in r.path]
    document = json.loads(upload.file_contents[0])
    said = [line["text"] for i in document["interviews"] for line in i["transcript"] if line["role"] == "respondent"]
    assert said == [WORDS]
    assert "The events" not in upload.file_contents[0].decode() and MOD not in upload.file_contents[0].decode()
    stack.fake.assert_no_spec_errors()


async def test_forget_me_confirms_in_the_dm_then_erases_and_says_what_stays_at_the_service(stack: Stack) -> None:
    await _interview(stack, ADA)
    asked = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "forget-me", "options": []}])
    await stack.fake.wait_for(lambda: bool(asked.followups), timeout=10.0)
    assert asked.ephemeral and "confirm" in asked.all_texts()[-1]
    erase = ids.action_id("forget")
    await stack.fake.wait_for(lambda: any(erase in custom_ids(m) for m in stack.dm(ADA)), timeout=10.0)
    await stack.click(ADA, next(m for m in stack.dm(ADA) if erase in custom_ids(m)), erase)
    await stack.said(ADA, "keeps its own copy")
    assert await stack.store.interviews_of_user("discord", ADA) == []
    again = await stack.fake.slash_command(ADA, "interview", [{"type": 1, "name": "forget-me", "options": []}])
    await stack.fake.wait_for(lambda: bool(again.followups), timeout=10.0)
    assert "already erased" in again.all_texts()[-1]
    nothing = await stack.fake.slash_command(BOB, "interview", [{"type": 1, "name": "my-data", "options": []}])
    await stack.fake.wait_for(lambda: bool(nothing.followups), timeout=10.0)
    stack.fake.assert_no_spec_errors()


async def test_a_dm_saying_delete_my_data_asks_then_erases(stack: Stack) -> None:
    await _interview(stack, ADA)
    await stack.fake.user_sends_dm(ADA, "Delete my data")
    erase = ids.action_id("forget")
    await stack.fake.wait_for(lambda: any(erase in custom_ids(m) for m in stack.dm(ADA)), timeout=10.0)
    assert await stack.store.interviews_of_user("discord", ADA), "nothing is erased before the confirmation"
    await stack.fake.user_sends_dm(ADA, "yes")  # typed, like the button
    await stack.said(ADA, "Done: this bot erased everything it stored about you")
    assert await stack.store.interviews_of_user("discord", ADA) == []
    stack.fake.assert_no_spec_errors()
