"""Who is writing: respondent details from ``users.info`` and DM channels from ``conversations.open`` (cached)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.core import RespondentInfo

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger("adapters.slack")


class People:
    """Caches what Slack tells about users, per process."""

    def __init__(self, adapter: SlackAdapter, usergroups: tuple[str, ...] = ()) -> None:
        """``usergroups``: the user groups that decide who may take a study (``who.slack_usergroups``)."""
        self._adapter = adapter
        self._usergroups = usergroups
        self._respondents: dict[tuple[str, str], RespondentInfo] = {}
        self._dms: dict[tuple[str, str], str] = {}

    async def _groups(self, user: str) -> frozenset[str]:
        """Which of the studies' user groups ``user`` is in (``usergroups.users.list``; none if Slack won't say)."""
        found = set()
        for group in self._usergroups:
            try:
                response = await self._adapter.client.usergroups_users_list(usergroup=group)
            except Exception as error:  # usergroups:read missing, group gone: that group admits nobody
                log.info("slack usergroups.users.list unavailable: %s", type(error).__name__)
                continue
            if user in (response.get("users") or []):
                found.add(group)
        return frozenset(found)

    async def respondent(self, team: str, user: str) -> RespondentInfo:
        """The respondent's name, locale and time zone (just the id if Slack will not say)."""
        cached = self._respondents.get((team, user))
        if cached is not None:
            return cached
        info = RespondentInfo(external_id=user, metadata={"slack_team": team} if team else {})
        try:
            response = await self._adapter.client.users_info(user=user, include_locale=True)
            profile: dict[str, Any] = response["user"]
            name = (profile.get("profile") or {}).get("display_name") or profile.get("real_name") or None
            metadata: dict[str, Any] = {"slack_team": team} if team else {}
            if profile.get("tz"):
                metadata["tz"] = profile["tz"]
            groups = await self._groups(user)
            info = RespondentInfo(
                external_id=user, display_name=name, locale=profile.get("locale"), metadata=metadata, groups=groups
            )
        except Exception as error:  # users:read missing, user gone: the id is enough
            log.info("slack users.info unavailable: %s", type(error).__name__)
            return info
        self._respondents[(team, user)] = info
        return info

    async def dm_channel(self, team: str, user: str) -> str:
        """The id of the user's DM with the app (``conversations.open``)."""
        cached = self._dms.get((team, user))
        if cached is not None:
            return cached
        response = await self._adapter.client.conversations_open(users=user)
        channel = str(response["channel"]["id"])
        self._dms[(team, user)] = channel
        return channel
