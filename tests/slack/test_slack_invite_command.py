"""``/interview invite`` on the fake Slack through the Bolt app: admins only, the same audiences as the CLI (Slack's
escaped mentions or ids, and email addresses), answered ephemerally with the counts the CLI prints (the same lines,
the same campaign), nothing queued or sent twice when run twice, and answered in the admin's language."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import test_slack_e2e as e2e
import yaml
from aiohttp import web
from fake_slack import FakeSlack
from test_slack_e2e import ALICE, Harness

from adapters.slack.campaign import InviteCommand, parse_invite
from bot.campaigns import InviteRequest, invite
from bot.config import Settings
from bot.core import ConversationKey, InvitationState, catalogue
from bot.core.store import InterviewRecord, RecordStatus
from bot.studies_file import parse_studies

STUDIES = "admins: {slack_users: [U0ALICE01, U0JONAS01]}\nstudies:\n  - {id: survey, name: Survey}\n"
BOB = "U0BOB0001"
MANIFEST = Path(__file__).parents[2] / "deploy" / "slack-manifest.yaml"


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    """Alice and Jonas (German) are admins; S1 holds 6 people (one a bot, one deactivated), C1 three (two of them also
    in S1); Dora opted out, Emil took the study already."""
    fake = fake_slack
    fake.add_user("U0JONAS01", "jonas", locale="de-DE")
    fake.add_user(BOB, "bob", email="bob@example.org")
    people = [f"U0P{n:06d}" for n in range(6)]
    for n, user in enumerate(people):
        fake.add_user(user, f"p{n}", is_bot=n == 0, deleted=n == 1)
    fake.add_user("U0DORA001", "dora")
    fake.add_user("U0EMIL001", "emil")
    fake.add_usergroup("S1", [*people, "U0DORA001", "U0EMIL001"])
    fake.add_channel("C1", members=[people[4], people[5], "U0CHAN001"])
    fake.add_user("U0CHAN001", "chan")
    async with e2e.open_harness(fake, serve_http, tmp_path, studies=parse_studies(STUDIES)) as h:
        await h.store.opt_out("slack", fake.team_id, "U0DORA001", now=1.0)
        took = InterviewRecord(
            key=ConversationKey("slack", fake.team_id, "D0EMIL", "U0EMIL001"),
            interview_id="iv-emil",
            session_token="secret",
            status=RecordStatus.COMPLETED,
            study="survey",
        )
        await h.store.create_interview(took)
        yield h


async def command(h: Harness, text: str, user: str = ALICE) -> str:
    """Run ``/interview <text>`` as ``user``; the last ephemeral answer it got."""
    before = len(h.fake.ephemerals(user))
    answer = await h.fake.slash_command(user, "/interview", text)
    assert answer["status"] == 200 and answer["ack_seconds"] < 3.0

    def answered() -> list[Any]:
        said = h.fake.ephemerals(user)[before:]
        return [e for e in said if not str(e["text"]).endswith("…")]  # past "Looking up the people …"

    await h.fake.wait_for(answered, timeout=10.0)
    return str(answered()[-1]["text"])


def count(text: str, label: str) -> int:
    row = next(row for row in text.splitlines() if row.strip().startswith(label))
    return int(row.rsplit(maxsplit=1)[-1])


async def test_an_admin_invites_a_group_a_channel_people_and_addresses_once(harness: Harness) -> None:
    h = harness
    text = "invite survey <!subteam^S1|@everyone> <#C1|general> <@U0ALICE01|alice> emails:bob@example.org,nobody@x.org"
    said = await command(h, text)
    assert count(said, "people found") == 11  # everyone named, each once
    assert count(said, "queued for an invitation now") == 7  # p2…p5, chan, alice and bob
    assert count(said, "skipped, bots") == 1 and count(said, "skipped, deactivated") == 1
    assert count(said, "skipped, opted out") == 1 and count(said, "skipped, already took the study") == 1
    assert "nobody@x.org: nobody in this workspace has this address" in said
    again = await command(h, text)  # the same command twice: nobody is queued twice
    assert count(again, "queued for an invitation now") == 0 and count(again, "already invited to this study") == 7
    desk = h.invitations.desk
    assert (await desk.sweep(h.invitations, "slack")).invited == 7
    assert (await desk.sweep(h.invitations, "slack")).invited == 0
    for user in (BOB, "U0CHAN001", "U0P000002"):  # each one invitation
        dm = h.fake.bot_messages(h.fake.dm_channel_of(user))
        assert [b["block_id"] for m in dm for b in m["blocks"] or [] if b["type"] == "actions"] == ["ib_invite"]
    assert h.fake.bot_messages(h.fake.dm_channel_of("U0DORA001")) == []  # opted out
    counts = (await h.store.invitation_counts("survey")).by_state
    assert counts == {InvitationState.INVITED: 7}


async def test_a_missing_group_or_channel_is_named_and_the_rest_still_goes(harness: Harness) -> None:
    h = harness
    h.fake.granted_scopes = set(yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"])
    h.fake.add_channel("C0SECRET", members=[BOB], private=True)  # a private channel needs groups:read
    said = await command(h, "invite survey usergroup:S404 channel:C404,C1,C0SECRET")
    assert "user group S404: no such user group" in said and "channel C404: no such channel" in said
    assert "channel C0SECRET: the app lacks the scope groups:read to read it" in said
    assert count(said, "queued for an invitation now") == 3


async def test_only_admins_may_invite(harness: Harness) -> None:
    h = harness
    said = await command(h, "invite survey usergroup:S1", user=BOB)
    assert said == "Only the study's admins can do that."
    assert (await h.store.invitation_counts("survey")).total == 0
    assert not h.fake.calls_of("usergroups.users.list")


async def test_a_typo_gets_the_usage_and_records_nothing(harness: Harness) -> None:
    h = harness
    said = await command(h, "invite survey S1")
    assert "I don't understand “S1”" in said and "/interview invite <study>" in said
    said = await command(h, "invite survey reminders:9 usergroup:S1")
    assert "reminders: give a number from 0 to 5." in said
    said = await command(h, "invite survey")
    assert said.startswith("Usage: `/interview invite")
    assert (await h.store.invitation_counts("survey")).total == 0


async def test_a_closed_study_invites_nobody(harness: Harness) -> None:
    h = harness
    await command(h, "admin survey close")
    said = await command(h, "invite survey usergroup:S1")
    assert "“Survey” is closed" in said
    assert (await h.store.invitation_counts("survey")).total == 0


async def test_the_answer_is_in_the_admins_language(harness: Harness) -> None:
    said = await command(harness, "invite survey users:U0BOB0001", user="U0JONAS01")
    assert "jetzt zur Einladung vorgemerkt" in said, said


async def test_the_slash_command_and_the_cli_print_the_same_campaign(
    harness: Harness, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    h = harness
    studies = tmp_path / "studies.yaml"
    studies.write_text(STUDIES, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token=fake_slack.bot_token,
        slack_api_url=fake_slack.api_url,
        database_path=str(tmp_path / "bridge.db"),
        studies_file=str(studies),
    )
    out = io.StringIO()
    request = InviteRequest("survey", usergroups=("S1",), channels=("C1",))
    assert await invite(settings, request, out=out, err=io.StringIO()) == 0
    said = await command(h, "invite survey usergroup:S1 channel:C1")
    block = said.split("```")[1].strip().splitlines()
    printed = out.getvalue().splitlines()[: len(block)]
    assert block[0] == printed[0]  # the same campaign (its id, study and workspace)
    labels = [re.sub(r"\s+\d+$", "", row) for row in block]
    assert labels == [re.sub(r"\s+\d+$", "", row) for row in printed]  # the same lines, in the same order
    assert count(printed_text := "\n".join(printed), "queued for an invitation now") == 5
    assert count(said, "queued for an invitation now") == 0 and count(said, "already invited to this study") == 5
    assert count(said, "skipped, bots") == count(printed_text, "skipped, bots") == 1


def test_the_command_reads_slacks_escaped_mentions_and_plain_ids() -> None:
    tr = catalogue("en")
    typed = (
        "onboarding <!subteam^S0DESIGN|@design> <!subteam^S0OPS> <#C0GENERAL|general> <@U0ANNA|anna> "
        "emails:<mailto:ben@example.org|ben@example.org>,cem@example.org <mailto:dana@example.org|dana@example.org> "
        "usergroup:S0DESIGN,S0MORE channel:C0RANDOM users:U0BEN,<@U0CEM|cem> reminders:1 reminder-after:24h"
    )
    command = parse_invite(typed.split(), tr)
    assert isinstance(command, InviteCommand)
    assert command.study == "onboarding" and command.reminders == 1 and command.reminder_after == (86_400.0,)
    audience = command.audience
    assert audience.usergroups == ("S0DESIGN", "S0OPS", "S0MORE")  # each once
    assert audience.channels == ("C0GENERAL", "C0RANDOM")
    assert audience.users == ("U0ANNA", "U0BEN", "U0CEM")
    assert audience.emails == ("ben@example.org", "cem@example.org", "dana@example.org")
    unescaped = parse_invite(["onboarding", "@design"], tr)  # an app whose /interview does not escape mentions
    assert isinstance(unescaped, str) and "Escape channels, users, and links" in unescaped
    assert (
        parse_invite(["onboarding", "reminder-after:soon"], tr)
        == "reminder-after: 'soon' is not a delay like 3d, 24h or 90m"
    )
