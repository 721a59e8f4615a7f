"""Recording a campaign and reporting it: who is queued, who is left out and why, in the words both
``interview-bridge invite`` and Slack's ``/interview invite`` print.

The platform resolves the audience (people found, bots, deactivated accounts, problems); this module leaves out the
people who opted out in the workspace, asked to be forgotten (the erasure log is a do-not-contact record) or already
took the study, queues the rest (nobody twice: the same request
gives the same campaign id, and a person is invited to a study at most once) and words the counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.i18n import Catalogue, catalogue
from bot.core.invitations import Campaign, InvitationStore

__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "MAX_REMINDERS",
    "CampaignReport",
    "FoundPeople",
    "campaign_id",
    "parse_offsets",
    "problem_lines",
    "record_campaign",
    "report_lines",
]

MAX_PROBLEMS_SHOWN = 20
MAX_REMINDERS = 5
_OFFSET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNIT = {"d": 86_400.0, "h": 3600.0, "m": 60.0}


def parse_offsets(text: str, tr: Catalogue | None = None) -> tuple[float, ...]:
    """``3d,5d`` or ``24h,72h`` as seconds; ValueError with what is wrong (in ``tr``'s language)."""
    offsets = []
    for part in text.split(","):
        found = _OFFSET.match(part)
        if found is None:
            said = (tr or catalogue(None)).gettext("{value} is not a delay like 3d, 24h or 90m")
            raise ValueError(said.format(value=repr(part.strip())))
        offsets.append(float(found.group(1)) * _UNIT[found.group(2)])
    return tuple(offsets)


def campaign_id(platform: str, study: str, workspace: str, audience: Mapping[str, Sequence[str] | str | None]) -> str:
    """The same request (study, workspace and audience, in any order) gives the same campaign id."""
    named: dict[str, object] = {"study": study, "team": workspace}
    for kind, value in audience.items():
        if value is None or isinstance(value, str):
            named[kind] = None if value is None else hashlib.sha256(value.encode()).hexdigest()
        else:
            named[kind] = sorted(value)
    return f"{platform}-" + hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FoundPeople:
    """What the platform found: people (each once, in order), who it left out, and problems (already worded)."""

    users: Sequence[str]
    bots: int = 0
    deactivated: int = 0
    problems: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """The counts of one recorded campaign."""

    campaign: Campaign
    found: int  # everyone the audience named, bots and deactivated accounts included
    queued: int  # queued for an invitation now
    already_invited: int  # invited to this study by an earlier campaign (or the same one run before)
    bots: int
    deactivated: int
    opted_out: int
    already_took: int
    problems: tuple[str, ...]
    forgotten: int = 0  # in the erasure log


async def record_campaign(
    store: InvitationStore, campaign: Campaign, people: FoundPeople, now: float, forgotten: Iterable[str] = ()
) -> CampaignReport:
    """Queue everyone found but the opted out, the ``forgotten`` (erased) and those who took the study; the campaign
    is recorded once."""
    opted = await store.opted_out(campaign.platform, campaign.workspace, people.users)
    erased = set(forgotten) - opted
    took = await store.respondents_of_study(campaign.study, campaign.platform) - opted - erased
    invitees = [user for user in people.users if user not in opted and user not in erased and user not in took]
    await store.create_campaign(campaign)
    added = await store.add_invitees(campaign, invitees, now)
    return CampaignReport(
        campaign=campaign,
        found=len(people.users) + people.bots + people.deactivated,
        queued=added,
        already_invited=len(invitees) - added,
        bots=people.bots,
        deactivated=people.deactivated,
        opted_out=sum(1 for user in people.users if user in opted),
        already_took=sum(1 for user in people.users if user in took),
        problems=tuple(people.problems),
        forgotten=sum(1 for user in people.users if user in erased),
    )


def problem_lines(problems: Sequence[str], tr: Catalogue) -> list[str]:
    """The first :data:`MAX_PROBLEMS_SHOWN` problems, then how many more there were."""
    shown = list(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown.append(tr.ngettext("… and {n} more problem", "… and {n} more problems", more).format(n=more))
    return shown


def report_lines(report: CampaignReport, tr: Catalogue) -> list[str]:
    """The counts, one per line with its label, then the problems: what the CLI prints and Slack answers."""
    counts = [
        (tr.gettext("people found:"), report.found),
        (tr.gettext("queued for an invitation now:"), report.queued),
        (tr.gettext("already invited to this study:"), report.already_invited),
        (tr.gettext("skipped, bots:"), report.bots),
        (tr.gettext("skipped, deactivated:"), report.deactivated),
        (tr.gettext("skipped, opted out:"), report.opted_out),
        (tr.gettext("skipped, asked to be forgotten:"), report.forgotten),
        (tr.gettext("skipped, already took the study:"), report.already_took),
    ]
    width = max(len(label) for label, _ in counts) + 1
    campaign = report.campaign
    lines = [
        tr.gettext("campaign {campaign}: study {study} in workspace {workspace}").format(
            campaign=campaign.campaign_id, study=campaign.study, workspace=campaign.workspace
        )
    ]
    lines += [f"  {label:<{width}} {number}" for label, number in counts]
    if report.problems:
        n = len(report.problems)
        said = tr.ngettext("problem ({n}); the rest still goes out:", "problems ({n}); the rest still goes out:", n)
        lines.append(said.format(n=n))
        lines += [f"  {problem}" for problem in problem_lines(report.problems, tr)]
    return lines
