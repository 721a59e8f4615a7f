"""``interview-bridge invite`` and ``interview-bridge campaign status``: record a Slack campaign, show progress.

``invite`` resolves the audience through Slack's Web API (within its tiers), leaves out bots, deactivated
accounts, people who opted out in the workspace and people who already took the study, and records the rest in
the database. The running bot sends the invitations. Running the same command twice queues nobody twice.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.app import store_for, study_book
from bot.config import Settings
from bot.core import InvitationDesk, SystemClock, catalogue, parse_offsets, report_lines
from bot.core.invitations import DEFAULT_REMINDER_AFTER, DEFAULT_REMINDERS, InvitationState
from bot.core.recruiting import RecruitingStore

if TYPE_CHECKING:
    from adapters.slack.budget import SlackBudget

__all__ = ["InviteRequest", "campaign_status", "invite", "parse_offsets"]


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


async def invite(
    settings: Settings,
    request: InviteRequest,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    budget: SlackBudget | None = None,
) -> int:
    """Record the campaign and print its counts: 0 done, 1 done with problems listed, 2 nothing recorded.

    ``budget``: the Web API budget the lookups wait in (default: Slack's tiers, :class:`SlackBudget`). The audience is
    resolved and recorded as ``/interview invite`` does it (:func:`adapters.slack.campaign.record_slack_campaign`)."""
    from adapters.slack.audience import AudienceRequest
    from adapters.slack.budget import SlackBudget
    from adapters.slack.campaign import record_slack_campaign
    from adapters.slack.runner import make_client

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
    store = store_for(settings)
    await store.open()
    budget = budget or SlackBudget()
    try:
        desk = InvitationDesk(store, book, SystemClock())
        if await desk.is_closed(study):
            print(f"interview-bridge invite: the study {study.id!r} is closed", file=err)
            return 2
        client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        team = str((await client.auth_test())["team_id"])
        wanted = AudienceRequest(request.usergroups, request.channels, request.users, csv_text)
        report = await record_slack_campaign(
            client,
            budget,
            desk,
            team,
            study,
            wanted,
            catalogue(None),
            reminders=request.reminders,
            reminder_after=request.reminder_after,
            record={"csv": request.csv_file},
        )
    finally:
        await budget.close()
        await store.close()
    lines = report_lines(report, catalogue(None))
    lines.append("The running bot (interview-bridge run) sends the invitations.")
    out.write("\n".join(lines) + "\n")
    return 1 if report.problems else 0


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
    for state in InvitationState:
        times = f"  ({counts.times()})" if state is InvitationState.REMINDED and counts.reminded_times else ""
        lines.append(f"  {state.value:<14} {counts.by_state.get(state, 0)}{times}")
    lines.append(f"  response rate  {counts.response_rate:.0%}")
    out.write("\n".join(lines) + "\n")
    return 0
