"""Results on Slack: the summary card in the results channel, `/interview results|export|admin` for admins, charts
and the CSV uploaded through files.getUploadURLExternal + files.completeUploadExternal (as files_upload_v2 does)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from fake_slack import FakeSlack

from adapters.slack.adapter import conversation_key
from bot.app import forget_person
from bot.config import Settings
from bot.core.events import ForgetMe
from bot.studies_file import parse_studies
from tests.slack.test_slack_e2e import ALICE, Harness, open_harness
from tests.studies.steps import finish_interview
from tests.waiting import wait_until

ADMIN, LEAD, BOB = "U0ADMIN01", "U0LEAD001", "U0BOB0001"
STUDIES = """\
admins: {slack_users: [U0ADMIN01], slack_usergroups: [S0LEADS]}
studies:
  - id: onboarding
    name: Joining the team
    results: {slack_channel: C0RESULTS}
  - id: pulse
    name: Team pulse
    anonymous: true
    min_responses: 3
    results: {slack_channel: C0PULSE}
"""


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    for user, name in ((ADMIN, "Ada Admin"), (LEAD, "Lee Lead"), (BOB, "Bob")):
        fake_slack.add_user(user, name)
    fake_slack.add_channel("C0RESULTS")
    fake_slack.add_channel("C0PULSE")
    fake_slack.add_usergroup("S0LEADS", [LEAD])
    async with open_harness(fake_slack, serve_http, tmp_path, studies=parse_studies(STUDIES)) as h:
        yield h


def _key(h: Harness, user: str) -> object:
    return conversation_key(h.fake.team_id, h.fake.dm_channel_of(user), user)


async def _analysed(h: Harness, study: str, users: list[str]) -> None:
    for n, user in enumerate(users, start=1):
        interview_id = await finish_interview(h.bridge, None, _key(h, user), study, n)  # type: ignore[arg-type]
        done = lambda i=interview_id: h.emulator.interview(i).analysis_status == "completed"  # noqa: E731
        await wait_until(done, asyncio.Event(), 10.0, 0.02)
        h.clock.advance(15)
        assert await h.bridge.results.poll_due() == 1


async def test_a_natural_end_posts_a_block_kit_card_naming_the_respondent(harness: Harness) -> None:
    h = harness
    await _analysed(h, "onboarding", [ALICE])
    [card] = h.fake.messages("C0RESULTS", None)
    header = card["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"] == f"Joining the team: interview with Member {ALICE}"
    fields = [f["text"] for block in card["blocks"] if block["type"] == "section" for f in block.get("fields", [])]
    assert "*Ended*\ncompleted" in fields and any(f.startswith("*Quality*") for f in fields)
    assert any(f.startswith("*How easy is onboarding?*") for f in fields), "the structured answers"


async def test_an_anonymous_study_stays_silent_below_its_threshold_then_shows_aggregates_only(harness: Harness) -> None:
    h = harness
    await _analysed(h, "pulse", [ALICE, BOB])
    assert h.fake.messages("C0PULSE", None) == []
    await _analysed(h, "pulse", [ADMIN])
    [card] = h.fake.messages("C0PULSE", None)
    shown = str(card)
    assert "Team pulse: 3 interviews analysed" in shown and "Aggregates only" in shown
    for name in ("Alice", "Bob", "Ada", ALICE, BOB, ADMIN):
        assert name not in shown


async def test_results_for_admins_upload_one_png_per_structured_question(harness: Harness) -> None:
    h = harness
    await _analysed(h, "onboarding", [ALICE, BOB])
    refused = await h.fake.slash_command(BOB, "/interview", "results onboarding", channel_id="C0RESULTS")
    assert refused["status"] == 200
    await h.fake.wait_for(
        lambda: any("Only the study's admins" in str(e) for e in h.fake.workspace().ephemerals.get(BOB, []))
    )
    before = len(h.fake.shared_files("C0RESULTS"))
    assert before == 0
    await h.fake.slash_command(LEAD, "/interview", "results onb", channel_id="C0RESULTS")  # a member of S0LEADS
    # six structured questions in the Slack brief: yes/no, scale, two single choices, multiple choice, ranking
    await h.fake.wait_for(lambda: len(h.fake.shared_files("C0RESULTS")) == 6, timeout=20.0)
    charts = h.fake.shared_files("C0RESULTS")
    assert all(f.filename.endswith(".png") and f.content and f.content[:4] == b"\x89PNG" for f in charts)
    assert all(len(f.content or b"") == f.length for f in charts), "the announced length is what was uploaded"
    digest = [m for m in h.fake.messages("C0RESULTS", None) if "2 interviews analysed" in str(m.get("blocks"))]
    assert digest and "Started" in str(digest[0]["blocks"])
    calls = [c.method for c in h.fake.calls]
    assert calls.count("files.getUploadURLExternal") == 6 and "files.completeUploadExternal" in calls
    assert "files.upload" not in calls


async def test_export_hands_the_admin_a_csv_in_their_dm_and_admin_pauses(harness: Harness) -> None:
    h = harness
    await _analysed(h, "onboarding", [ALICE, BOB])
    await h.fake.slash_command(ADMIN, "/interview", "export onboarding")
    dm = h.fake.dm_channel_of(ADMIN)
    await h.fake.wait_for(lambda: bool(h.fake.shared_files(dm)), timeout=20.0)
    [export] = h.fake.shared_files(dm)
    rows = list(csv.DictReader(io.StringIO((export.content or b"").decode())))
    assert len(rows) == 2 and "Do you like working here?" in rows[0]
    assert all(ALICE not in str(row) and BOB not in str(row) for row in rows)
    assert not h.fake.shared_files("C0RESULTS"), "only the admin gets it"
    await h.fake.slash_command(ADMIN, "/interview", "admin pulse pause")
    await h.fake.wait_for(
        lambda: any("is paused" in str(e) for e in h.fake.workspace().ephemerals.get(ADMIN, [])), timeout=10.0
    )
    pulse = h.bridge.studies.get("pulse")
    assert pulse is not None and (await h.bridge.gate.state(pulse))[0].value == "paused"


async def test_forget_me_deletes_the_card_that_names_the_respondent_and_says_so(harness: Harness) -> None:
    h = harness
    await _analysed(h, "onboarding", [ALICE, BOB])
    assert len(h.fake.messages("C0RESULTS", None)) == 2
    done = await h.bridge.handle(ForgetMe(_key(h, ALICE), confirmed=True, actor=ALICE))  # type: ignore[arg-type]
    assert "The summary card of your interview that the team had been shown was deleted too." in (done.message or "")
    [left] = h.fake.messages("C0RESULTS", None)
    assert ALICE not in str(left) and BOB in left["blocks"][0]["text"]["text"], "only Alice's card goes"
    [deleted] = h.fake.calls_of("chat.delete")
    assert deleted.args["channel"] == "C0RESULTS"


async def test_a_card_slack_would_not_delete_at_once_is_deleted_by_the_next_sweep(harness: Harness) -> None:
    h = harness
    await _analysed(h, "onboarding", [ALICE])
    h.fake.force_error("chat.delete", "fatal_error")
    done = await h.bridge.handle(ForgetMe(_key(h, ALICE), confirmed=True, actor=ALICE))  # type: ignore[arg-type]
    assert "1 summary card the team had been shown could not be deleted just now" in (done.message or "")
    assert len(h.fake.messages("C0RESULTS", None)) == 1 and await h.bridge.privacy.cards.waiting() == 1
    assert await h.bridge.privacy.cards.retry() == 1
    assert h.fake.messages("C0RESULTS", None) == [] and await h.bridge.privacy.cards.waiting() == 0


async def test_the_operators_forget_leaves_the_card_to_the_running_bot(harness: Harness, tmp_path: Path) -> None:
    """``interview-bridge forget`` connects to no platform: the running bot deletes the card at its next sweep."""
    h = harness
    await _analysed(h, "onboarding", [ALICE])
    settings = Settings(_env_file=None, database_path=str(tmp_path / "bridge.db"))  # type: ignore[call-arg]
    erasure = await forget_person(settings, "slack", h.fake.team_id, ALICE)
    assert erasure is not None and (erasure.cards.deleted, erasure.cards.waiting) == (0, 1)
    assert len(h.fake.messages("C0RESULTS", None)) == 1
    assert await h.bridge.privacy.cards.retry() == 1
    assert h.fake.messages("C0RESULTS", None) == []
