"""Slack campaigns against the fake Slack: the audience resolved within its tiers, the counts printed, nothing
queued twice, every invitation sent once with its three buttons, and the buttons' answers stored."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import SlackBudget
from adapters.slack.invitations import SlackInvitations
from adapters.slack.runner import make_client
from bot.campaigns import InviteRequest, campaign_status, invite
from bot.config import Settings
from bot.core import ConversationKey, InvitationDesk, ManualClock, MemoryState
from bot.core.invitations import InvitationState
from bot.core.store import InterviewRecord, RecordStatus
from bot.core.studies import Study, StudyBook, StudyState
from storage.sqlite import SQLiteStore

WINDOW = 1.0  # the fake's tiers per second instead of per minute: the same limits, 60 times faster
SCALED = {  # the budget's limits to match (a little under each tier, bursts of one)
    "conversations.open": 45 * 60.0,
    "users.info": 90 * 60.0,
    "users.list": 18 * 60.0,
    "users.lookupByEmail": 45 * 60.0,
    "usergroups.users.list": 18 * 60.0,
    "conversations.members": 90 * 60.0,
}
TIERED = {"conversations.open": 50, "users.info": 100, "users.list": 20, "users.lookupByEmail": 50}


def scaled_budget() -> SlackBudget:
    return SlackBudget(dict(SCALED), bursts=dict.fromkeys(SCALED, 1.0))


@pytest.fixture
def workspace(fake_slack: FakeSlack, tmp_path: Path) -> Path:
    """450 in user group S1 (5 of them bots), a CSV of 60 emails (10 of them also in S1); returns the CSV path."""
    for n in range(450):
        fake_slack.add_user(f"U{n:04d}", f"person{n}", email=f"p{n}@example.org", is_bot=n < 5, tz="Asia/Tokyo")
    for n in range(450, 500):
        fake_slack.add_user(f"U{n:04d}", f"person{n}", email=f"p{n}@example.org")
    fake_slack.add_usergroup("S1", [f"U{n:04d}" for n in range(450)])
    for method, calls in TIERED.items():
        fake_slack.set_tier_limit(method, calls, window=WINDOW)
    rows = ["name,email"] + [f"person{n},p{n}@example.org" for n in range(440, 500)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def settings_for(fake: FakeSlack, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token=fake.bot_token,
        slack_api_url=fake.api_url,
        database_path=str(tmp_path / "bridge.db"),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await opened.close()


async def run_invite(settings: Settings, request: InviteRequest) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await invite(settings, request, out=out, err=err, budget=scaled_budget())
    return code, out.getvalue(), err.getvalue()


def line(output: str, label: str) -> int:
    found = next(row for row in output.splitlines() if row.strip().startswith(label))
    return int(found.rsplit(maxsplit=1)[-1])


async def test_a_campaign_to_500_people_queues_485_and_sends_each_one_invitation_within_the_tiers(
    fake_slack: FakeSlack, workspace: Path, tmp_path: Path, store: SQLiteStore
) -> None:
    team = fake_slack.team_id
    for n in (100, 101, 102, 103, 104):  # opted out earlier
        await store.opt_out("slack", team, f"U{n:04d}", now=1.0)
    for n in (200, 201, 202, 203, 204):  # already took the study
        record = InterviewRecord(
            key=ConversationKey("slack", team, f"D{n}", f"U{n:04d}"),
            interview_id=f"iv-{n}",
            session_token="secret",
            status=RecordStatus.COMPLETED,
            study="default",
        )
        await store.create_interview(record)
    settings = settings_for(fake_slack, tmp_path)
    request = InviteRequest(study="default", usergroups=("S1",), csv_file=str(workspace))
    code, out, err = await run_invite(settings, request)
    assert (code, err) == (0, ""), out
    assert line(out, "queued for an invitation now") == 485
    assert line(out, "skipped, bots") == 5
    assert line(out, "skipped, opted out") == 5
    assert line(out, "skipped, already took the study") == 5
    code, again, _ = await run_invite(settings, request)  # the same command twice queues nobody twice
    assert code == 0 and line(again, "queued for an invitation now") == 0
    assert line(again, "already invited to this study") == 485

    clock = ManualClock(1_799_049_600.0)
    book = StudyBook((Study(id="default", name="Onboarding", consent="Your answers are kept for 90 days."),))
    desk = InvitationDesk(store, book, clock)
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    sender = SlackInvitations(desk, SlackAdapter(client, lambda _: MemoryState(), budget=scaled_budget()))
    while (await desk.sweep(sender, "slack", limit=100)).invited:
        pass
    invited = [c for c in fake_slack.calls_of("chat.postMessage")]
    assert len(invited) == 485
    assert len({c.args["channel"] for c in invited}) == 485  # each person once
    blocks = (
        json.loads(invited[0].args["blocks"])
        if isinstance(invited[0].args["blocks"], str)
        else invited[0].args["blocks"]
    )
    labels = [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Start now", "Not now", "Don't ask me again"]
    assert any("kept for 90 days" in json.dumps(b) for b in blocks)
    for method in ("conversations.open", "users.info", "users.list", "users.lookupByEmail"):
        assert fake_slack.rate_stats(method).limited == 0, method  # no call beyond its tier
    counts = io.StringIO()
    await campaign_status(settings, "default", True, out=counts)
    states = json.loads(counts.getvalue())["states"]
    assert states[InvitationState.INVITED.value] == 485 and states["queued"] == 0


async def test_a_bad_csv_is_reported_line_by_line_and_the_good_rows_still_go(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for n in range(3):
        fake_slack.add_user(f"U{n}", f"person{n}", email=f"p{n}@example.org")
    rows = ["Email,name", "p0@example.org,a", "not-an-address,b", "", "nobody@example.org,c", "p1@example.org,d"]
    rows += [f"broken{n}" for n in range(25)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = await run_invite(settings_for(fake_slack, tmp_path), InviteRequest("default", csv_file=str(path)))
    assert code == 1
    assert line(out, "queued for an invitation now") == 2
    assert "line 3: 'not-an-address' is not an email address" in out
    assert "line 5: nobody@example.org: nobody in this workspace has this address" in out
    assert "problems (27)" in out and "… and 7 more problems" in out
    shown = [row for row in out.splitlines() if row.strip().startswith("line ")]
    assert len(shown) == 20


async def test_a_missing_user_group_or_channel_is_named_and_the_rest_still_goes(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.add_user("U1", "one")
    fake_slack.add_user("U2", "two", deleted=True)
    fake_slack.add_channel("C1", members=["U1", "U2", "U0ALICE01"])
    request = InviteRequest("default", usergroups=("S404",), channels=("C1", "C404"))
    code, out, _ = await run_invite(settings_for(fake_slack, tmp_path), request)
    assert code == 1
    assert "user group S404: no such user group" in out and "channel C404: no such channel" in out
    assert line(out, "queued for an invitation now") == 2 and line(out, "skipped, deactivated") == 1


async def test_a_csv_without_an_email_column_says_so(fake_slack: FakeSlack, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,mail\na,b@example.org\n", encoding="utf-8")
    code, out, _ = await run_invite(settings_for(fake_slack, tmp_path), InviteRequest("default", csv_file=str(path)))
    assert code == 1 and "no email column" in out and line(out, "queued for an invitation now") == 0


async def test_an_unknown_study_or_no_audience_records_nothing(fake_slack: FakeSlack, tmp_path: Path) -> None:
    code, _, err = await run_invite(settings_for(fake_slack, tmp_path), InviteRequest("nope", users=("U0ALICE01",)))
    assert code == 2 and "no study 'nope'" in err
    code, _, err = await run_invite(settings_for(fake_slack, tmp_path), InviteRequest("default"))
    assert code == 2 and "name an audience" in err


async def test_a_study_an_admin_closed_records_no_campaign(
    fake_slack: FakeSlack, tmp_path: Path, store: SQLiteStore
) -> None:
    book = StudyBook((Study(id="default", name="Onboarding"),))
    await InvitationDesk(store, book, ManualClock()).gate.set_state(book.default, StudyState.CLOSED)
    code, _, err = await run_invite(settings_for(fake_slack, tmp_path), InviteRequest("default", users=("U0ALICE01",)))
    assert code == 2 and "the study 'default' is closed" in err
    assert (await store.invitation_counts("default")).total == 0
