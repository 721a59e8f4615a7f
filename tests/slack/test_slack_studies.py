"""Choosing a study on Slack: a select in a plain DM, `/interview start <study>` (by id or its start), refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from fake_slack import FakeSlack

from adapters.slack.blocks import STUDY_SELECT_ACTION
from bot.core.events import Exit
from bot.core.store import RecordStatus
from bot.studies_file import parse_studies
from tests.slack.test_slack_e2e import ALICE, Harness, action_ids, agree, block_text, open_harness

STUDIES = """\
studies:
  - id: onboarding
    name: Joining the team
  - id: pulse
    name: Team pulse
  - id: archive
    name: Last year's survey
    closes_at: "2020-01-31T00:00:00Z"
"""


def said(h: Harness, fragment: str) -> bool:
    """Whether a bot message in Alice's DM (any thread) contains ``fragment``."""
    channel = h.fake.dm_channel_of(ALICE)
    return any(fragment in block_text(m) for m in h.fake.messages(channel, None) + _replies(h) if m["bot"])


def _replies(h: Harness) -> list[dict[str, object]]:
    channel = h.fake.dm_channel_of(ALICE)
    return [r for m in h.fake.messages(channel, None) for r in h.fake.messages(channel, str(m["ts"]))]


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    async with open_harness(fake_slack, serve_http, tmp_path, studies=parse_studies(STUDIES)) as h:
        yield h


async def test_a_plain_dm_gets_a_select_and_the_pick_starts_that_study(harness: Harness) -> None:
    h = harness
    sent = await h.fake.user_sends_dm(ALICE, "hi")
    await h.fake.wait_for(lambda: any(STUDY_SELECT_ACTION in action_ids(m) for m in h.bot_replies(thread=sent["ts"])))
    [choice] = [m for m in h.bot_replies(thread=sent["ts"]) if STUDY_SELECT_ACTION in action_ids(m)]
    assert "Several studies are open" in block_text(choice)
    [select] = [e for b in choice["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == ["onboarding", "pulse"], "the closed study is not offered"
    status = await h.click(choice, STUDY_SELECT_ACTION, selected=["pulse"])
    assert status == 200
    await agree(h)
    await h.fake.wait_for(lambda: said(h, "Thanks for joining"))
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.study == "pulse" and record.status is RecordStatus.ACTIVE
    await h.fake.wait_for(lambda: STUDY_SELECT_ACTION not in action_ids(h.message(choice["ts"])))  # closed once used


async def test_slash_start_by_id_or_its_start_once_per_person_and_closed_says_when(harness: Harness) -> None:
    h = harness
    await h.fake.slash_command(ALICE, "/interview", "start onb")
    await agree(h)
    await h.fake.wait_for(lambda: said(h, "Thanks for joining"))
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.study == "onboarding"
    await h.bridge.handle(Exit(h.key(), confirmed=True))
    again = await h.fake.slash_command(ALICE, "/interview", "start onboarding")
    assert again["status"] == 200
    await h.fake.wait_for(lambda: said(h, "already taken part in “Joining the team”"))
    await h.fake.slash_command(ALICE, "/interview", "start archive")
    await h.fake.wait_for(lambda: said(h, "“Last year's survey” closed on 2020-01-31 00:00 UTC"))
    records = await h.store.interviews_of_user("slack", ALICE)
    assert [r.study for r in records] == ["onboarding"]


async def test_a_study_for_a_user_group_admits_its_members_only(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> None:
    studies = "studies:\n  - id: pulse\n    name: Team pulse\n    who: {slack_usergroups: [S0TEAM]}\n"
    fake_slack.add_user("U0OUTSIDE", "Olli")
    fake_slack.add_usergroup("S0TEAM", [ALICE])
    async with open_harness(fake_slack, serve_http, tmp_path, studies=parse_studies(studies)) as h:
        await h.fake.slash_command("U0OUTSIDE", "/interview", "start pulse")
        outsider = h.fake.dm_channel_of("U0OUTSIDE")
        await h.fake.wait_for(
            lambda: any("isn't open to you" in block_text(m) for m in h.fake.messages(outsider, None)), timeout=10.0
        )
        await h.fake.slash_command(ALICE, "/interview", "start pulse")
        await agree(h)
        await h.fake.wait_for(lambda: said(h, "Thanks for joining"), timeout=10.0)
        assert [r.study for r in await h.store.interviews_of_user("slack", ALICE)] == ["pulse"]
        assert await h.store.interviews_of_user("slack", "U0OUTSIDE") == []
