"""An erasure is also a do-not-contact record: campaigns leave forgotten people out, whatever queued them.

``interview-bridge forget`` deletes the person's opt-out row with everything else (the database must name them
nowhere), so the erasure log's salted hash is what keeps later campaigns away from them: ``invite`` counts them
as skipped, and the sending sweep never sends an invitation queued for them by any other path.
"""

from __future__ import annotations

from pathlib import Path

from fake_slack import FakeSlack
from test_slack_campaigns import line, run_invite, scaled_budget, settings_for

from adapters.slack.adapter import SlackAdapter
from adapters.slack.invitations import SlackInvitations
from adapters.slack.runner import make_client
from bot.app import forget_person
from bot.campaigns import InviteRequest
from bot.core import ConversationKey, InvitationDesk, ManualClock, MemoryState
from bot.core.invitations import Campaign, InvitationState
from bot.core.store import InterviewRecord, RecordStatus
from bot.core.studies import Study, StudyBook
from storage.sqlite import SQLiteStore

PEOPLE = ("U0KEEN0001", "U0GONE0002", "U0NOPE0003", "U0KEEN0004")


async def test_invite_and_the_sweep_leave_forgotten_people_alone(fake_slack: FakeSlack, tmp_path: Path) -> None:
    team = fake_slack.team_id
    for user in PEOPLE:
        fake_slack.add_user(user, user.lower())
    settings = settings_for(fake_slack, tmp_path)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        gone = InterviewRecord(
            key=ConversationKey("slack", team, "D0GONE", "U0GONE0002"),
            interview_id="iv-gone",
            session_token="secret",
            status=RecordStatus.COMPLETED,
            study="pulse",
        )
        await store.create_interview(gone)
        await store.opt_out("slack", team, "U0GONE0002", now=1.0)
        await store.opt_out("slack", team, "U0NOPE0003", now=1.0)
    erasure = await forget_person(settings, "slack", team, "U0GONE0002")
    assert erasure is not None and erasure.removed["invitation_opt_outs"] == 1, "the opt-out row goes with the rest"

    code, out, err = await run_invite(settings, InviteRequest(study="default", users=PEOPLE))
    assert (code, err) == (0, ""), out
    assert line(out, "skipped, asked to be forgotten") == 1
    assert line(out, "skipped, opted out") == 1
    assert line(out, "queued for an invitation now") == 2
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        assert await store.get_invitation("default", "slack", team, "U0GONE0002") is None
        # another path (an older tool, a hand-made campaign) queues the forgotten person anyway
        late = Campaign("by-hand", "default", "slack", team, created_at=1.0)
        await store.create_campaign(late)
        assert await store.add_invitees(late, ["U0GONE0002"], 1.0) == 1

        book = StudyBook((Study(id="default", name="Onboarding"),))
        desk = InvitationDesk(store, book, ManualClock(1_799_049_600.0))
        client = make_client(fake_slack.bot_token, fake_slack.api_url)
        sender = SlackInvitations(desk, SlackAdapter(client, lambda _: MemoryState(), budget=scaled_budget()))
        report = await desk.sweep(sender, "slack", limit=100)
        assert (report.invited, report.forgotten) == (2, 1)
        invitation = await store.get_invitation("default", "slack", team, "U0GONE0002")
        assert invitation is not None and invitation.state is InvitationState.OPTED_OUT and invitation.next_at is None
    sent_to = {c.args["channel"] for c in fake_slack.calls_of("chat.postMessage")}
    assert fake_slack.dm_channel_of("U0GONE0002") not in sent_to
    assert fake_slack.dm_channel_of("U0KEEN0001") in sent_to and fake_slack.dm_channel_of("U0KEEN0004") in sent_to


async def test_a_forgotten_person_who_opts_in_again_is_invited_until_a_new_erasure(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    team = fake_slack.team_id
    for user in PEOPLE:
        fake_slack.add_user(user, user.lower())
    settings = settings_for(fake_slack, tmp_path)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.opt_out("slack", team, "U0GONE0002", now=1.0)
    assert await forget_person(settings, "slack", team, "U0GONE0002") is not None
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        desk = InvitationDesk(store, StudyBook((Study(id="default", name="Onboarding"),)), ManualClock())
        assert await desk.opt_in("slack", team, "U0GONE0002"), "/interview opt-in answers 'Done'"
        assert not await desk.opt_in("slack", team, "U0KEEN0001"), "nothing held this one back"
    code, out, _ = await run_invite(settings, InviteRequest(study="default", users=("U0GONE0002",)))
    assert code == 0 and line(out, "queued for an invitation now") == 1
    assert line(out, "skipped, asked to be forgotten") == 0

    async with SQLiteStore(tmp_path / "bridge.db") as store:  # they took part; then asked to be forgotten again
        await store.create_interview(
            InterviewRecord(
                key=ConversationKey("slack", team, "D0GONE", "U0GONE0002"),
                interview_id="iv-again",
                session_token="secret",
                status=RecordStatus.COMPLETED,
                study="other",
            )
        )
    assert await forget_person(settings, "slack", team, "U0GONE0002") is not None
    code, out, _ = await run_invite(settings, InviteRequest(study="default", users=("U0GONE0002",)))
    assert line(out, "skipped, asked to be forgotten") == 1, out
