"""``interview-bridge invite`` and ``interview-bridge campaign status``: record a Slack campaign, show progress.

``invite`` resolves the audience through Slack's Web API (within its tiers), leaves out bots, deactivated
accounts, people who opted out in the workspace, people who asked to be forgotten (the erasure log: an erasure is
also a do-not-contact record) and people who already took the study, and records the rest in the database. The
running bot sends the invitations. Running the same command twice queues nobody twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.app import store_for, study_book
from bot.config import Settings
from bot.core.invitations import DEFAULT_REMINDER_AFTER, DEFAULT_REMINDERS, Campaign, InvitationState
from bot.core.pseudonyms import Pseudonyms
from bot.core.recruiting import RecruitingStore

if TYPE_CHECKING:
    from adapters.slack.budget import SlackBudget

__all__ = ["InviteRequest", "campaign_status", "invite", "parse_offsets"]

_OFFSET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNIT = {"d": 86_400.0, "h": 3600.0, "m": 60.0}


def parse_offsets(text: str) -> tuple[float, ...]:
    """``3d,5d`` or ``24h,72h`` as seconds; ValueError with what is wrong."""
    offsets = []
    for part in text.split(","):
        found = _OFFSET.match(part)
        if found is None:
            raise ValueError(f"{part.strip()!r} is not a delay like 3d, 24h or 90m")
        offsets.append(float(found.group(1)) * _UNIT[found.group(2)])
    return tuple(offsets)


@dataclass(frozen=True, slots=True)
class InviteRequest:
    """The command line of ``invite``."""

    study: str
    usergroups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    csv_file: str | None = None
    reminders: int = DEFAULT_REMINDERS
    reminder_after: tuple[float, ...] = DEFAULT_REMINDER_AFTER


def _campaign_id(request: InviteRequest, team: str, csv_text: str | None) -> str:
    """The same command (same study, workspace and audience) gives the same campaign id."""
    named = {
        "study": request.study,
        "team": team,
        "usergroups": sorted(request.usergroups),
        "channels": sorted(request.channels),
        "users": sorted(request.users),
        "csv": hashlib.sha256(csv_text.encode()).hexdigest() if csv_text is not None else None,
    }
    return "slack-" + hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:16]


async def invite(
    settings: Settings,
    request: InviteRequest,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    budget: SlackBudget | None = None,
) -> int:
    """Record the campaign and print its counts: 0 done, 1 done with problems listed, 2 nothing recorded.

    ``budget``: the Web API budget the lookups wait in (default: Slack's tiers, :class:`SlackBudget`)."""
    from adapters.slack.audience import AudienceRequest, resolve_audience, summary_of_problems
    from adapters.slack.budget import SlackBudget
    from adapters.slack.runner import make_client

    budget = budget or SlackBudget()

    try:
        book = study_book(settings)
    except ValueError as error:
        print(f"interview-bridge invite: {error}", file=err)
        return 2
    study = book.get(request.study)
    if study is None:
        known = ", ".join(s.id for s in book.studies)
        print(f"interview-bridge invite: no study {request.study!r}; studies: {known}", file=err)
        return 2
    if study.closed_by_clock(time.time()):
        print(f"interview-bridge invite: the study {study.id!r} is closed (closes_at has passed)", file=err)
        return 2
    if settings.slack_bot_token is None:
        print("interview-bridge invite: SLACK_BOT_TOKEN is not set (campaigns are sent on Slack)", file=err)
        return 2
    if not (request.usergroups or request.channels or request.users or request.csv_file):
        print("interview-bridge invite: name an audience: --usergroup, --channel, --users or --csv", file=err)
        return 2
    csv_text = None
    if request.csv_file is not None:
        try:
            csv_text = await asyncio.to_thread(Path(request.csv_file).read_text, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            print(f"interview-bridge invite: cannot read {request.csv_file}: {error}", file=err)
            return 2
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    try:
        team = str((await client.auth_test())["team_id"])
        wanted = AudienceRequest(request.usergroups, request.channels, request.users, csv_text)
        audience = await resolve_audience(client, budget, team, wanted)
    finally:
        await budget.close()
    store = store_for(settings)
    await store.open()
    try:
        recruiting: RecruitingStore = store
        opted = await recruiting.opted_out("slack", team, audience.users)
        forgotten = await Pseudonyms(store).erased_among("slack", team, audience.users) - opted
        took = await recruiting.respondents_of_study(study.id, "slack")
        invitees = [u for u in audience.users if u not in opted and u not in forgotten and u not in took]
        now = time.time()
        campaign = Campaign(
            campaign_id=_campaign_id(request, team, csv_text),
            study=study.id,
            platform="slack",
            workspace=team,
            created_at=now,
            reminders=request.reminders,
            reminder_after=request.reminder_after,
            audience={
                "usergroups": list(request.usergroups),
                "channels": list(request.channels),
                "users": list(request.users),
                "csv": request.csv_file,
            },
        )
        await recruiting.create_campaign(campaign)
        added = await recruiting.add_invitees(campaign, invitees, now)
    finally:
        await store.close()
    lines = [
        f"campaign {campaign.campaign_id}: study {study.id} in Slack workspace {team}",
        f"  people found:                     {len(audience.users) + audience.bots + audience.deactivated}",
        f"  queued for an invitation now:     {added}",
        f"  already invited to this study:    {len(invitees) - added}",
        f"  skipped, bots:                    {audience.bots}",
        f"  skipped, deactivated:             {audience.deactivated}",
        f"  skipped, opted out:               {len([u for u in audience.users if u in opted])}",
        f"  skipped, asked to be forgotten:   {len(forgotten)}",
        f"  skipped, already took the study:  {len(took.intersection(audience.users) - opted - forgotten)}",
    ]
    if audience.problems:
        lines.append(f"problems ({len(audience.problems)}); the rest still goes out:")
        lines += [f"  {problem}" for problem in summary_of_problems(audience.problems)]
    lines.append("The running bot (interview-bridge run) sends the invitations.")
    out.write("\n".join(lines) + "\n")
    return 1 if audience.problems else 0


async def campaign_status(settings: Settings, study_id: str, as_json: bool, out: TextIO = sys.stdout) -> int:
    """Per-state counts of a study's invitees and the response rate."""
    store = store_for(settings)
    await store.open()
    try:
        recruiting: RecruitingStore = store
        await recruiting.settle_invitations(study_id, time.time())
        counts = await recruiting.invitation_counts(study_id)
    finally:
        await store.close()
    if as_json:
        out.write(json.dumps(counts.as_dict(), indent=2) + "\n")
        return 0
    lines = [f"study {study_id}: {counts.total} invited"]
    lines += [f"  {state.value:<14} {counts.by_state.get(state, 0)}" for state in InvitationState]
    lines.append(f"  volunteers     {counts.volunteers}")
    lines.append(f"  response rate  {counts.response_rate:.0%}")
    out.write("\n".join(lines) + "\n")
    return 0
