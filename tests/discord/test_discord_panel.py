"""Discord's opt-in recruiting: ``/interview panel`` posts a persistent invitation in a channel (admins only);
**Take the interview** starts in the member's DM after consent, **Remind me later** is the only way to get a DM
reminder (capped, spaced, none after close), closed DMs make a person undeliverable with nothing half-started, and
the panel's completed count is edited at most once a minute; an instance without the gateway
(``DISCORD_GATEWAY=false``) sends the reminders too. Real discord.py, fake Discord, built-in server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_helpers import ADA, BOB, GUILD, MOD, Stack, custom_ids, discord_stack, labels

from adapters.discord.adapter import dm_key
from bot.core import StudyState, catalogue
from bot.core.invitations import DAY, InvitationState
from bot.core.recruiting import next_working_time
from bot.studies_file import parse_studies
from tests.studies.steps import finish_interview

MANAGE_GUILD = 1 << 5
ROLE = "888"
ADMINS = "999"  # the studies file's admin role (Bob holds it)
STUDIES = """\
admins: {discord_roles: ["999"]}
studies:
  - id: onboarding
    name: Joining Pixel Forge
    description: How your first week on the server went.
    minutes: 5
    consent: Your answers go to the community team.
  - id: pulse
    name: Team pulse
"""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path, studies=parse_studies(STUDIES)) as built:
        built.fake.grant_permissions(GUILD, MOD, MANAGE_GUILD)
        guild = built.fake.world.guilds[GUILD]
        guild["_role_members"][ROLE] = {MOD, BOB}
        guild["_role_names"][ROLE] = "regulars"
        guild["_role_members"][ADMINS] = {BOB}
        guild["_role_names"][ADMINS] = "researchers"
        await built.shut_down()  # the bot learns the guild's roles when it connects
        await built.boot()
        yield built


def _panel(study: str, role: str | None = None) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [{"type": 3, "name": "study", "value": study}]
    if role is not None:
        options.append({"type": 8, "name": "role", "value": role})
    return [{"type": 1, "name": "panel", "options": options}]


def in_channel(stack: Stack) -> list[dict[str, Any]]:
    """What everyone sees in the guild's channel (no private answers)."""
    return stack.fake.messages(stack.fake.guild_channel_of(GUILD), include_ephemeral=False)


async def post_panel(
    stack: Stack, study: str = "onboarding", role: str | None = None, admin: str = MOD
) -> dict[str, Any]:
    """An admin (by default one with Manage Server) posts a panel; returns the panel message."""
    before = len(in_channel(stack))
    posted = await stack.fake.slash_command(admin, "interview", _panel(study, role), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(posted.followups), timeout=10.0)
    assert posted.ephemeral and "Panel posted" in posted.all_texts()[-1], posted.all_texts()
    [panel] = in_channel(stack)[before:]
    return panel


def panels(stack: Stack) -> Any:
    assert stack.bot is not None
    return getattr(stack.bot.get_cog("Interview"), "panels")  # noqa: B009 - each boot has its own classes


async def click(stack: Stack, user: str, panel: dict[str, Any], label: str) -> Any:
    [custom_id] = [c for c, shown in zip(custom_ids(panel), labels(panel), strict=True) if shown == label]
    clicked = await stack.fake.click(user, panel["id"], custom_id)
    await clicked.wait_responded(5.0)
    return clicked


async def answer_of(stack: Stack, clicked: Any) -> str:
    await stack.fake.wait_for(lambda: bool(clicked.followups) or bool(clicked.response_data.get("content")), 10.0)
    assert clicked.ephemeral
    return str(clicked.all_texts()[-1])


async def test_an_admin_posts_the_panel_and_others_are_refused_privately(stack: Stack) -> None:
    refused = await stack.fake.slash_command(ADA, "interview", _panel("onboarding"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(refused.followups), timeout=10.0)
    assert refused.ephemeral and "Only the study's admins" in refused.all_texts()[-1]
    assert in_channel(stack) == []
    panel = await post_panel(stack)
    assert labels(panel) == ["Take the interview", "Remind me later"]
    [embed] = panel["embeds"]
    assert embed["title"] == "Joining Pixel Forge" and embed["description"] == "How your first week on the server went."
    assert {f["name"]: f["value"] for f in embed["fields"]} == {"How long": "About 5 minutes", "Completed so far": "0"}
    by_role = await post_panel(stack, "pulse", admin=BOB)  # the admin role of the studies file may too
    assert by_role["embeds"][0]["title"] == "Team pulse"
    assert {f["name"]: f["value"] for f in by_role["embeds"][0]["fields"]}["How long"] == "A few minutes"
    stack.fake.assert_no_spec_errors()


async def test_take_the_interview_asks_consent_in_the_dm_and_runs_the_interview(stack: Stack) -> None:
    panel = await post_panel(stack)
    clicked = await click(stack, ADA, panel, "Take the interview")
    assert "Your interview has started in our DMs" in await answer_of(stack, clicked)
    await stack.said(ADA, "Your answers go to the community team.")
    assert await stack.store.interviews_of_user("discord", ADA) == []  # nothing reached the API before I agree
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")
    [record] = await stack.store.interviews_of_user("discord", ADA)
    assert record.study == "onboarding"
    again = await click(stack, ADA, panel, "Take the interview")  # already in an interview: a clear private word
    assert "already" in (await answer_of(stack, again)).lower()
    stack.fake.assert_no_spec_errors()


async def test_a_role_limited_panel_refuses_others_privately(stack: Stack) -> None:
    panel = await post_panel(stack, role=ROLE)
    for label in ("Take the interview", "Remind me later"):
        refused = await click(stack, ADA, panel, label)
        assert f"members with the <@&{ROLE}> role" in await answer_of(stack, refused)
    assert stack.fake.dm_channel_of(ADA) is None, "no DM was opened"
    assert await stack.store.get_invitation("onboarding", "discord", "", ADA) is None
    taken = await click(stack, MOD, panel, "Take the interview")
    assert "started in our DMs" in await answer_of(stack, taken)
    await stack.consent(MOD)


async def test_closed_dms_make_the_member_undeliverable_with_nothing_half_started(stack: Stack) -> None:
    panel = await post_panel(stack)
    clicked = await click(stack, BOB, panel, "Take the interview")
    assert "Privacy Settings" in await answer_of(stack, clicked)
    invitation = await settled(stack, BOB, InvitationState.UNDELIVERABLE)
    assert invitation.next_at is None and not invitation.opted_in
    assert await stack.store.interviews_of_user("discord", BOB) == []
    assert stack.emulator is not None and stack.emulator.book.interviews == {}, "no API call"
    assert (await admin_fields(stack))["Invitations"] == "undeliverable: 1"


async def admin_fields(stack: Stack) -> dict[str, str]:
    """What ``/interview admin onboarding`` shows an admin."""
    study = [{"type": 1, "name": "admin", "options": [{"type": 3, "name": "study", "value": "onb"}]}]
    counts = await stack.fake.slash_command(MOD, "interview", study, guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(counts.followups), timeout=10.0)
    return {f["name"]: f["value"] for f in counts.followups[0]["embeds"][0]["fields"]}


async def settled(stack: Stack, user: str, state: InvitationState) -> Any:
    """The member's invitation to onboarding once it is in ``state`` (it is stored right after the answer)."""
    for _ in range(100):
        invitation = await stack.store.get_invitation("onboarding", "discord", "", user)
        if invitation is not None and invitation.state is state:
            return invitation
        await asyncio.sleep(0.05)
    raise AssertionError(f"the invitation of {user} never became {state}: {invitation}")


async def sweep_days(stack: Stack, days: float) -> None:
    """Sweep the due reminders every hour for ``days`` days on the core's clock, as the running bot does."""
    for _ in range(int(days * 24)):
        await panels(stack).volunteers.desk.sweep(panels(stack).reminders, "discord")
        stack.clock.advance(3600.0)


def reminders_to(stack: Stack, user: str) -> list[dict[str, Any]]:
    return [m for m in stack.dm(user) if m["content"].startswith("A reminder:")]


async def test_remind_me_later_gets_the_capped_reminders_and_nobody_else_any(stack: Stack) -> None:
    panel = await post_panel(stack)
    later = await click(stack, ADA, panel, "Remind me later")
    assert "2 times at most" in await answer_of(stack, later)
    assert stack.dm(ADA) == [], "nothing is sent at once"
    shown = await admin_fields(stack)
    assert shown["Invitations"] == "invited: 1" and shown["Asked to be reminded"] == "1"
    await click(stack, MOD, panel, "Take the interview")  # MOD takes it, never asked to be reminded
    await answer_of(stack, await click(stack, BOB, panel, "Remind me later"))  # BOB's DMs are closed
    await sweep_days(stack, 12)
    sent = reminders_to(stack, ADA)
    assert len(sent) == 2, [m["content"] for m in stack.dm(ADA)]
    assert "Joining Pixel Forge" in sent[0]["content"] and labels(sent[0]) == ["Take the interview"]
    assert reminders_to(stack, MOD) == [] and reminders_to(stack, BOB) == []
    bounced = await stack.store.get_invitation("onboarding", "discord", "", BOB)
    assert bounced is not None and bounced.state is InvitationState.UNDELIVERABLE and bounced.next_at is None
    invitation = await stack.store.get_invitation("onboarding", "discord", "", ADA)
    assert invitation is not None and invitation.reminders_sent == 2 and invitation.next_at is None
    taken = await stack.click(ADA, sent[-1], custom_ids(sent[-1])[0])  # the reminder's button starts it in the DM
    await stack.consent(ADA)
    assert taken.ephemeral
    stack.fake.assert_no_spec_errors()


async def test_no_reminder_after_the_study_closes_nor_to_someone_in_an_interview(stack: Stack) -> None:
    panel = await post_panel(stack)
    for user in (ADA, MOD):
        await answer_of(stack, await click(stack, user, panel, "Remind me later"))
    await click(stack, MOD, panel, "Take the interview")
    await stack.agree(MOD)  # in an interview now
    await stack.said(MOD, "What brought you")
    await sweep_days(stack, 5)
    assert len(reminders_to(stack, ADA)) == 1 and reminders_to(stack, MOD) == []
    onboarding = stack.core.studies.get("onboarding")
    assert onboarding is not None
    await stack.core.desk.set_state(onboarding, StudyState.CLOSED, catalogue("en"))
    await sweep_days(stack, 10)
    assert len(reminders_to(stack, ADA)) == 1, "none after the study closed"
    assert reminders_to(stack, MOD) == []
    for label in ("Remind me later", "Take the interview"):
        closed = await click(stack, ADA, panel, label)
        assert "closed" in await answer_of(stack, closed)


async def test_the_completed_count_is_edited_at_most_once_a_minute(stack: Stack) -> None:
    await panels(stack).stop()  # the running bot refreshes every few seconds: here the test does, on its clock
    panel = await post_panel(stack)
    for n, user in enumerate((ADA, MOD), start=1):
        channel, _ = stack.fake.world.open_dm(user)
        await finish_interview(stack.core, None, dm_key(int(channel.id), int(user)), "onboarding", n)
        assert await panels(stack).refresh() == 0, "not a minute since the last edit"
        stack.clock.advance(30.0)
        assert await panels(stack).refresh() == 0
        stack.clock.advance(31.0)
        assert await panels(stack).refresh() == 1
        assert completed_shown(stack, panel) == str(n)
    stack.clock.advance(600.0)
    assert await panels(stack).refresh() == 0, "the number did not change: no edit"
    shown = stack.fake.message(panel["id"])
    assert shown is not None and shown["edits"] == 2
    again = await click(stack, ADA, panel, "Take the interview")
    assert "already taken part" in await answer_of(stack, again)
    await stack.fake.delete_message(panel["id"])  # a moderator deletes the panel: it is forgotten
    stack.fake.set_dms_open(BOB, True)
    channel, _ = stack.fake.world.open_dm(BOB)
    await finish_interview(stack.core, None, dm_key(int(channel.id), int(BOB)), "onboarding", 3)
    stack.clock.advance(600.0)
    assert await panels(stack).refresh() == 0
    assert await panels(stack).state.get("index") == {"panels": []}
    stack.fake.assert_no_spec_errors()


async def test_the_panel_works_after_the_bot_restarts(stack: Stack) -> None:
    panel = await post_panel(stack)
    channel, _ = stack.fake.world.open_dm(MOD)
    await finish_interview(stack.core, None, dm_key(int(channel.id), int(MOD)), "onboarding", 1)
    stack.clock.advance(DAY)
    await stack.shut_down()
    await stack.boot()
    # the restarted bot remembers the panel and its count is brought up to date by its own background work
    await stack.fake.wait_for(lambda: completed_shown(stack, panel) == "1", timeout=10.0)
    clicked = await click(stack, ADA, panel, "Take the interview")
    assert "started in our DMs" in await answer_of(stack, clicked)
    await stack.agree(ADA)
    await stack.said(ADA, "What brought you")


def completed_shown(stack: Stack, panel: dict[str, Any]) -> str:
    shown = stack.fake.message(panel["id"])
    assert shown is not None
    return str({f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}["Completed so far"])


async def due_at_working_hours(stack: Stack, user: str) -> Any:
    """Move the clock until the member's next reminder is due within working hours; their invitation then."""
    invitation = await stack.store.get_invitation("onboarding", "discord", "", user)
    assert invitation is not None and invitation.next_at is not None
    while stack.clock.now() < invitation.next_at or next_working_time(stack.clock.now(), None) > stack.clock.now():
        stack.clock.advance(3600.0)
    return invitation


@pytest.mark.parametrize("went_out", [True, False])
async def test_a_reminder_interrupted_by_a_crash_goes_exactly_once(stack: Stack, went_out: bool) -> None:
    panel = await post_panel(stack)
    await answer_of(stack, await click(stack, ADA, panel, "Remind me later"))
    invitation = await due_at_working_hours(stack, ADA)
    now = stack.clock.now()  # an instance claims reminder 1, perhaps posts it, and dies before confirming
    assert await stack.store.claim_message(invitation.id, invitation.updated_at, 1, now + 120.0, now)
    onboarding = stack.core.studies.get("onboarding")
    if went_out:
        assert await panels(stack).reminders.send_invitation(invitation, onboarding, reminder=1) == "sent"
    stack.clock.advance(600.0)  # the claim lapsed: the next sweep looks in the DM before sending
    await panels(stack).volunteers.desk.sweep(panels(stack).reminders, "discord")
    assert len(reminders_to(stack, ADA)) == 1
    after = await stack.store.get_invitation("onboarding", "discord", "", ADA)
    assert after is not None and after.reminders_sent == 1 and after.state is InvitationState.REMINDED


async def test_remind_me_later_under_the_consent_text_in_the_dm(stack: Stack) -> None:
    start = [{"type": 1, "name": "start", "options": [{"type": 3, "name": "study", "value": "onboarding"}]}]
    await stack.fake.slash_command(ADA, "interview", start, guild_id=GUILD)
    consent = await stack.consent(ADA)
    assert labels(consent) == ["I agree", "No thanks", "Remind me later"]
    later = await stack.click(ADA, consent, custom_ids(consent)[2])
    assert "2 times at most" in await answer_of(stack, later)
    await sweep_days(stack, 12)
    assert len(reminders_to(stack, ADA)) == 2
    assert await stack.store.interviews_of_user("discord", ADA) == [], "nothing started"
    stack.fake.assert_no_spec_errors()


async def test_a_channel_the_bot_cannot_post_in_gets_a_clear_answer_and_no_panel(stack: Stack) -> None:
    stack.fake.force_error("POST", r"^/channels/\d+/messages$", 403, 50013, "Missing Permissions")
    posted = await stack.fake.slash_command(MOD, "interview", _panel("onboarding"), guild_id=GUILD)
    await stack.fake.wait_for(lambda: bool(posted.followups), timeout=10.0)
    assert posted.ephemeral and "Send Messages and Embed Links" in posted.all_texts()[-1]
    assert in_channel(stack) == []
    assert await panels(stack).state.get("index") is None


async def test_an_instance_without_the_gateway_sends_the_reminders(stack: Stack) -> None:
    panel = await post_panel(stack)
    await answer_of(stack, await click(stack, ADA, panel, "Remind me later"))
    await stack.shut_down()  # the gateway's instance is gone
    identified = stack.fake.gateway.stats.identifies
    await stack.boot_over_rest()  # DISCORD_GATEWAY=false: logged in over REST only
    await sweep_days(stack, 12)
    sent = reminders_to(stack, ADA)
    assert len(sent) == 2, [m["content"] for m in stack.dm(ADA)]  # capped and spaced as from the gateway's instance
    assert stack.fake.gateway.stats.identifies == identified, "it never opened the gateway"
    assert [(link.name, link.connected) for link in stack.core.connections.all()] == [("discord-rest", True)]
    await stack.shut_down()
    await stack.boot()  # the click reaches the instance with the gateway, which starts the interview
    await stack.click(ADA, sent[-1], custom_ids(sent[-1])[0])
    await stack.consent(ADA)
    stack.fake.assert_no_spec_errors()
