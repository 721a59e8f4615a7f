"""A Slack campaign from the audience to the queued invitees: one path for ``interview-bridge invite`` and for an
admin's ``/interview invite``.

``/interview invite <study> …`` names the audience with Slack's own mentions (the manifest escapes them: a typed
``@designers`` arrives as ``<!subteam^S…|@designers>``, ``#general`` as ``<#C…|general>``, ``@anna`` as
``<@U…|anna>``) or with ids (``usergroup:S…``, ``channel:C…``, ``users:U1,U2``), and email addresses with
``emails:a@example.org,b@example.org``; ``reminders:N`` and ``reminder-after:3d,5d`` as on the command line. A CSV
file cannot travel in a slash command: that stays ``interview-bridge invite --csv``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.admin import admin_actor
from adapters.slack.audience import AudienceRequest, resolve_audience
from adapters.slack.budget import SlackBudget
from adapters.slack.shared import ListenerDeps
from bot.core import (
    DEFAULT_REMINDER_AFTER,
    DEFAULT_REMINDERS,
    MAX_REMINDERS,
    Campaign,
    CampaignReport,
    Catalogue,
    InvitationDesk,
    Study,
    parse_offsets,
    report_lines,
)

__all__ = ["InviteCommand", "invite_usage", "parse_invite", "record_slack_campaign", "run_invite_command"]

#: ``<@U…|name>``, ``<#C…|name>``, ``<!subteam^S…|@name>``, ``<mailto:a@b.org|a@b.org>`` (escaped by Slack).
_ESCAPED = re.compile(r"<(?P<kind>@|#|!subteam\^|mailto:)(?P<id>[^|>]+)(?:\|[^>]*)?>")
_KEYS = {
    "study": "study",
    "usergroup": "usergroups",
    "usergroups": "usergroups",
    "channel": "channels",
    "channels": "channels",
    "user": "users",
    "users": "users",
    "email": "emails",
    "emails": "emails",
}
_MENTIONS = {"@": "users", "#": "channels", "!subteam^": "usergroups", "mailto:": "emails"}


@dataclass(slots=True)
class InviteCommand:
    """``/interview invite`` as typed."""

    study: str | None = None
    named: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in _MENTIONS.values()})
    reminders: int = DEFAULT_REMINDERS
    reminder_after: tuple[float, ...] = DEFAULT_REMINDER_AFTER

    @property
    def audience(self) -> AudienceRequest:
        """The people named, each list in the order typed."""
        named = {kind: tuple(dict.fromkeys(values)) for kind, values in self.named.items()}
        return AudienceRequest(named["usergroups"], named["channels"], named["users"], None, named["emails"])


def invite_usage(tr: Catalogue) -> str:
    """How ``/interview invite`` is typed."""
    return tr.gettext(
        "Usage: `/interview invite <study> [@user-group …] [#channel …] [@person …] "
        "[emails:a@example.org,b@example.org] [reminders:2] [reminder-after:3d,5d]`. Ids work too: "
        "`usergroup:S…`, `channel:C…`, `users:U1,U2`. For a CSV file of emails use `interview-bridge invite --csv`."
    )


def _mention(word: str) -> tuple[str, str] | None:
    """``(kind, id)`` of a whole escaped mention, else None."""
    found = _ESCAPED.fullmatch(word)
    return None if found is None else (_MENTIONS[found.group("kind")], found.group("id"))


def _option(command: InviteCommand, key: str, value: str, tr: Catalogue) -> str | None:
    """Apply ``key:value``; what is wrong, if anything."""
    if key == "reminders":
        if not value.isdigit() or int(value) > MAX_REMINDERS:
            return tr.gettext("reminders: give a number from 0 to {max}.").format(max=MAX_REMINDERS)
        command.reminders = int(value)
        return None
    if key in ("reminder-after", "after"):
        try:
            command.reminder_after = parse_offsets(value, tr)
        except ValueError as error:
            return f"reminder-after: {error}"
        return None
    kind = _KEYS[key]
    for part in filter(None, value.split(",")):
        escaped = _mention(part)
        if kind == "study":
            command.study = part
        else:
            command.named[kind].append(escaped[1] if escaped is not None else part)
    return None


def parse_invite(words: list[str], tr: Catalogue) -> InviteCommand | str:
    """The words after ``invite``, or what to tell the admin."""
    command = InviteCommand()
    for word in words:
        escaped = _mention(word)
        key, colon, value = word.partition(":")
        if escaped is not None:
            command.named[escaped[0]].append(escaped[1])
            continue
        if colon and (key.lower() in _KEYS or key.lower() in ("reminders", "reminder-after", "after")):
            problem = _option(command, key.lower(), value, tr)
            if problem is not None:
                return problem
            continue
        if command.study is None and not colon and not word.startswith(("<", "@", "#")):
            command.study = word
            continue
        if word.startswith(("@", "#")):  # a mention Slack did not escape: the command's escaping is off
            return tr.gettext(
                "Slack passed “{word}” as typed, not as an id: turn on “Escape channels, users, and links” for "
                "/interview (docs/slack-setup.md), or name it by id (`usergroup:S…`, `channel:C…`, `users:U…`)."
            ).format(word=word)
        said = tr.gettext("I don't understand “{word}”.").format(word=word)
        return f"{said} {invite_usage(tr)}"
    return command


async def record_slack_campaign(
    client: AsyncWebClient,
    budget: SlackBudget,
    desk: InvitationDesk,
    team: str,
    study: Study,
    request: AudienceRequest,
    tr: Catalogue,
    *,
    reminders: int = DEFAULT_REMINDERS,
    reminder_after: tuple[float, ...] = DEFAULT_REMINDER_AFTER,
    record: Mapping[str, object] | None = None,
) -> CampaignReport:
    """Resolve the audience within Slack's tiers and queue it (nobody twice; the running bot sends)."""
    audience = await resolve_audience(client, budget, team, request, tr)
    named: dict[str, object] = {
        "usergroups": list(request.usergroups),
        "channels": list(request.channels),
        "users": list(request.users),
    }
    if request.emails:
        named["emails"] = list(request.emails)
    campaign = Campaign(
        campaign_id=request.campaign_id(study.id, team),
        study=study.id,
        platform="slack",
        workspace=team,
        created_at=desk.clock.now(),
        reminders=reminders,
        reminder_after=reminder_after,
        audience={**named, **(record or {})},
    )
    return await desk.record_campaign(campaign, audience.found())


async def run_invite_command(words: list[str], body: dict[str, Any], respond: AsyncRespond, deps: ListenerDeps) -> None:
    """``/interview invite …`` (``words`` after ``invite``): for admins only; answered ephemerally with the counts."""
    team, user = str(body.get("team_id") or ""), str(body.get("user_id") or "")
    actor = await admin_actor(deps.adapter, deps.bridge, deps.people, team, user)
    studies = deps.bridge.desk
    tr = studies.translations(actor)
    if not studies.may_administer(actor):
        await respond(text=tr.gettext("Only the study's admins can do that."), response_type="ephemeral")
        return
    invitations = deps.desk
    if invitations is None:
        said = tr.gettext("This bot does not send invitations here (`interview-bridge run` does).")
        await respond(text=said, response_type="ephemeral")
        return
    command = parse_invite(words, tr)
    if isinstance(command, str):
        await respond(text=command, response_type="ephemeral")
        return
    study = studies.find(command.study, tr)
    if isinstance(study, str):
        await respond(text=study, response_type="ephemeral")
        return
    if await invitations.is_closed(study):
        said = tr.gettext("“{study}” is closed: nobody is invited to it any more.").format(study=study.name)
        await respond(text=said, response_type="ephemeral")
        return
    if not command.audience:
        await respond(text=invite_usage(tr), response_type="ephemeral")
        return
    said = tr.gettext("Looking up the people to invite to “{study}”…").format(study=study.name)
    await respond(text=said, response_type="ephemeral")
    report = await record_slack_campaign(
        deps.adapter.client,
        deps.adapter.calls.budget,
        invitations,
        team,
        study,
        command.audience,
        tr,
        reminders=command.reminders,
        reminder_after=command.reminder_after,
        record={"by": user},
    )
    after = tr.gettext(
        "The invitations go out now, within Slack's limits. `/interview admin {study}` shows the answers."
    )
    text = "```\n" + "\n".join(report_lines(report, tr)) + "\n```\n" + after.format(study=study.id)
    await respond(text=text, response_type="ephemeral")
