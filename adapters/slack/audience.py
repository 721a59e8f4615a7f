"""Who a Slack campaign invites: user groups, channel members, user ids, email addresses and a CSV of emails,
resolved through the Web API within its tiers (every call waits its turn in the shared budget, under the campaign's
own key). Used by ``interview-bridge invite`` and ``/interview invite`` alike.

Bots and deactivated accounts are left out here; opt-outs and people who already took the study are the core's
(they live in storage). Problems are collected and worded in the admin's language, never raised: the good part of a
list still goes.
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
from bot.core import Catalogue, FoundPeople, campaign_id

__all__ = ["CAMPAIGN_CONVERSATION", "AudienceRequest", "csv_emails", "resolve_audience"]

#: The budget's key for a campaign's calls: one conversation among many, so running interviews keep their share.
CAMPAIGN_CONVERSATION = "campaign"
PAGE = 200


@dataclass(frozen=True, slots=True)
class AudienceRequest:
    """What the admin named."""

    usergroups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    csv_text: str | None = None  # the CSV file's content (a header row with an ``email`` column)
    emails: tuple[str, ...] = ()  # addresses typed in ``/interview invite``

    def __bool__(self) -> bool:
        return bool(self.usergroups or self.channels or self.users or self.csv_text is not None or self.emails)

    def campaign_id(self, study: str, team: str) -> str:
        """The same audience for the same study and workspace is the same campaign (run twice: nothing twice)."""
        named = {"usergroups": self.usergroups, "channels": self.channels, "users": self.users, "csv": self.csv_text}
        if self.emails:  # only when given, so the ids of earlier campaigns stay what they were
            named["emails"] = tuple(email.lower() for email in self.emails)
        return campaign_id("slack", study, team, named)


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

    def found(self) -> FoundPeople:
        """As the core records it."""
        return FoundPeople(tuple(self.users), self.bots, self.deactivated, tuple(self.problems))


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


def _is_address(email: str) -> bool:
    return email.count("@") == 1 and not email.startswith("@") and not email.endswith("@") and " " not in email


def csv_emails(text: str, tr: Catalogue) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(line, email)`` of each good row, and ``(line, problem)`` of each bad one (line 0: the whole file)."""
    reader = csv.reader(io.StringIO(text))
    problems: list[tuple[int, str]] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [(0, tr.gettext("the CSV is empty"))]
    except csv.Error as error:
        return [], [(0, tr.gettext("the CSV cannot be read ({error})").format(error=error))]
    names = [name.strip().lower() for name in header]
    if "email" not in names:
        return [], [(0, tr.gettext("the CSV has no email column (its first line must name one, e.g. 'email')"))]
    column = names.index("email")
    rows: list[tuple[int, str]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= column or not row[column].strip():
                problems.append((line, tr.gettext("line {line}: no email in this row").format(line=line)))
                continue
            email = row[column].strip()
            if not _is_address(email):
                said = tr.gettext("line {line}: {email} is not an email address")
                problems.append((line, said.format(line=line, email=repr(email))))
                continue
            rows.append((line, email))
    except csv.Error as error:
        said = tr.gettext("line {line}: the CSV cannot be read further ({error})")
        problems.append((reader.line_num, said.format(line=reader.line_num, error=error)))
    return rows, problems


def _member(user: dict[str, Any], audience: Audience) -> None:
    if user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT":
        audience.bots += 1
    elif user.get("deleted"):
        audience.deactivated += 1
    else:
        audience.add(str(user["id"]))


async def _by_email(
    client: AsyncWebClient, budget: SlackBudget, team: str, emails: Iterable[tuple[str, str]], audience: Audience
) -> list[tuple[str, str, str]]:
    """Look up ``(where, email)`` pairs with ``users.lookupByEmail``; ``(where, email, error code)`` of each miss."""
    missed = []
    for where, email in emails:
        try:
            found = await _call(client, budget, team, "users.lookupByEmail", email=email)
        except SlackApiError as error:
            missed.append((where, email, error_code(error)))
            continue
        _member(found["user"], audience)
    return missed


async def resolve_audience(
    client: AsyncWebClient, budget: SlackBudget, team: str, request: AudienceRequest, tr: Catalogue
) -> Audience:
    """Everyone the request names, each once; bots and deactivated accounts counted and left out."""
    audience = Audience()
    named: list[str] = list(request.users)
    for group in request.usergroups:
        try:
            named.extend((await _call(client, budget, team, "usergroups.users.list", usergroup=group))["users"])
        except SlackApiError as error:
            said = tr.gettext("user group {group}: {reason}")
            audience.problems.append(said.format(group=group, reason=_why(error, "usergroup", tr)))
    for channel in request.channels:
        try:
            named.extend(await _paged(client, budget, team, "conversations.members", "members", channel=channel))
        except SlackApiError as error:
            said = tr.gettext("channel {channel}: {reason}")
            audience.problems.append(said.format(channel=channel, reason=_why(error, "channel", tr)))
    directory = await _directory(client, budget, team, named) if named else {}
    for user in dict.fromkeys(named):
        if user in directory:
            _member(directory[user], audience)
        else:
            audience.problems.append(tr.gettext("user {user}: not found in this workspace").format(user=user))
    typed = [email for email in dict.fromkeys(request.emails) if _is_address(email)]
    for email in (email for email in dict.fromkeys(request.emails) if email not in typed):
        audience.problems.append(tr.gettext("{email} is not an email address").format(email=repr(email)))
    for _, email, code in await _by_email(client, budget, team, [("", email) for email in typed], audience):
        audience.problems.append(f"{email}: {_not_found(code, tr)}")
    if request.csv_text is not None:
        rows, problems = csv_emails(request.csv_text, tr)
        for line, email, code in await _by_email(client, budget, team, [(str(n), e) for n, e in rows], audience):
            said = tr.gettext("line {line}: {email}: {reason}")
            problems.append((int(line), said.format(line=line, email=email, reason=_not_found(code, tr))))
        audience.problems += [problem for _, problem in sorted(problems, key=lambda found: found[0])]
    return audience


def _not_found(code: str, tr: Catalogue) -> str:
    """Why an address found nobody."""
    return tr.gettext("nobody in this workspace has this address") if code == "users_not_found" else code


async def _directory(
    client: AsyncWebClient, budget: SlackBudget, team: str, wanted: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The workspace's members by id (users.list, a few paged calls instead of one users.info per person)."""
    wanted_ids = set(wanted)
    members = await _paged(client, budget, team, "users.list", "members")
    return {str(m["id"]): m for m in members if str(m.get("id")) in wanted_ids}


def _why(error: SlackApiError, what: str, tr: Catalogue) -> str:
    code = error_code(error)
    if code in ("no_such_subteam", "channel_not_found"):
        if what == "channel":
            return tr.gettext("no such channel (or the app cannot see it)")
        return tr.gettext("no such user group (or the app cannot see it)")
    if code == "missing_scope":
        needed = str(error.response.get("needed") or "")
        return tr.gettext("the app lacks the scope {scope} to read it (see docs/slack-setup.md)").format(scope=needed)
    return code
