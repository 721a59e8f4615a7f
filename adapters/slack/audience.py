"""Who a Slack campaign invites: user groups, channel members, user ids and a CSV of emails, resolved through
the Web API within its tiers (every call waits its turn in the shared budget, under the campaign's own key).

Bots and deactivated accounts are left out here; opt-outs and people who already took the study are the
caller's (they live in storage). Problems are collected, never raised: the good part of a list still goes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.budget import SlackBudget
from adapters.slack.calls import error_code

__all__ = ["CAMPAIGN_CONVERSATION", "MAX_PROBLEMS_SHOWN", "Audience", "AudienceRequest", "resolve_audience"]

#: The budget's key for a campaign's calls: one conversation among many, so running interviews keep their share.
CAMPAIGN_CONVERSATION = "campaign"
MAX_PROBLEMS_SHOWN = 20
PAGE = 200


@dataclass(frozen=True, slots=True)
class AudienceRequest:
    """What the admin named."""

    usergroups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    csv_text: str | None = None  # the CSV file's content (a header row with an ``email`` column)


@dataclass(slots=True)
class Audience:
    """The people found, and what was left out and why."""

    users: list[str] = field(default_factory=list)  # humans with active accounts, each once, in order found
    bots: int = 0
    deactivated: int = 0
    problems: list[str] = field(default_factory=list)  # plain sentences for the admin, in order
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, user: str) -> None:
        if user not in self._seen:
            self._seen.add(user)
            self.users.append(user)


async def _call(client: AsyncWebClient, budget: SlackBudget, team: str, method: str, **kwargs: Any) -> Any:
    await budget.acquire(team, method, CAMPAIGN_CONVERSATION)
    return await client.api_call(method, params=kwargs)


async def _paged(client: AsyncWebClient, budget: SlackBudget, team: str, method: str, key: str, **kw: Any) -> list[Any]:
    found: list[Any] = []
    cursor = ""
    while True:
        page = await _call(client, budget, team, method, limit=PAGE, **({"cursor": cursor} if cursor else {}), **kw)
        found.extend(page.get(key) or [])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return found


def csv_emails(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(line, email)`` of each good row, and ``(line, problem)`` of each bad one (line 0: the whole file)."""
    reader = csv.reader(io.StringIO(text))
    problems: list[tuple[int, str]] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [(0, "the CSV is empty")]
    except csv.Error as error:
        return [], [(0, f"the CSV cannot be read ({error})")]
    names = [name.strip().lower() for name in header]
    if "email" not in names:
        return [], [(0, "the CSV has no email column (its first line must name one, e.g. 'email')")]
    column = names.index("email")
    rows: list[tuple[int, str]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= column or not row[column].strip():
                problems.append((line, f"line {line}: no email in this row"))
                continue
            email = row[column].strip()
            if email.count("@") != 1 or email.startswith("@") or email.endswith("@") or " " in email:
                problems.append((line, f"line {line}: {email!r} is not an email address"))
                continue
            rows.append((line, email))
    except csv.Error as error:
        problems.append((reader.line_num, f"line {reader.line_num}: the CSV cannot be read further ({error})"))
    return rows, problems


def _member(user: dict[str, Any], audience: Audience) -> None:
    if user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT":
        audience.bots += 1
    elif user.get("deleted"):
        audience.deactivated += 1
    else:
        audience.add(str(user["id"]))


async def resolve_audience(
    client: AsyncWebClient, budget: SlackBudget, team: str, request: AudienceRequest
) -> Audience:
    """Everyone the request names, each once; bots and deactivated accounts counted and left out."""
    audience = Audience()
    named: list[str] = list(request.users)
    for group in request.usergroups:
        try:
            named.extend((await _call(client, budget, team, "usergroups.users.list", usergroup=group))["users"])
        except SlackApiError as error:
            audience.problems.append(f"user group {group}: {_why(error_code(error), 'user group')}")
    for channel in request.channels:
        try:
            named.extend(await _paged(client, budget, team, "conversations.members", "members", channel=channel))
        except SlackApiError as error:
            audience.problems.append(f"channel {channel}: {_why(error_code(error), 'channel')}")
    directory = await _directory(client, budget, team, named) if named else {}
    for user in dict.fromkeys(named):
        if user in directory:
            _member(directory[user], audience)
        else:
            audience.problems.append(f"user {user}: not found in this workspace")
    if request.csv_text is not None:
        rows, problems = csv_emails(request.csv_text)
        for line, email in rows:
            try:
                found = await _call(client, budget, team, "users.lookupByEmail", email=email)
            except SlackApiError as error:
                code = error_code(error)
                reason = "nobody in this workspace has this address" if code == "users_not_found" else code
                problems.append((line, f"line {line}: {email}: {reason}"))
                continue
            _member(found["user"], audience)
        audience.problems += [problem for _, problem in sorted(problems, key=lambda found: found[0])]
    return audience


async def _directory(
    client: AsyncWebClient, budget: SlackBudget, team: str, wanted: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The workspace's members by id (users.list, a few paged calls instead of one users.info per person)."""
    wanted_ids = set(wanted)
    members = await _paged(client, budget, team, "users.list", "members")
    return {str(m["id"]): m for m in members if str(m.get("id")) in wanted_ids}


def _why(code: str, what: str) -> str:
    if code in ("no_such_subteam", "channel_not_found"):
        return f"no such {what} (or the app cannot see it)"
    if code == "missing_scope":
        return "the app lacks the scope to read it (see docs/slack-setup.md)"
    return code


def summary_of_problems(problems: list[str]) -> list[str]:
    """The first :data:`MAX_PROBLEMS_SHOWN` problems, then how many more there were."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
    return shown
