"""Opening a person's DM with the app unasked, for a handoff from another bot (``bot.core.DirectMessages``)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ConversationKey, RespondentInfo, RespondentUnreachable

__all__ = ["DirectOpening"]

#: Slack's answers for a person the app cannot write to (not in the workspace, deactivated, a bot).
UNREACHABLE_ERRORS = frozenset(
    {"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible", "messages_tab_disabled"}
)


class DirectOpening:
    """Mixed into the Slack adapter: ``open_direct(team id, user id)``; sends nothing."""

    platform: str

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client (the adapter's)."""
        raise NotImplementedError

    async def open_direct(self, workspace: str, user: str) -> tuple[ConversationKey, RespondentInfo]:
        """The DM key (``users.info`` then ``conversations.open``) and what Slack says of the person."""
        try:
            found = await self.client.users_info(user=user, include_locale=True)
            person = found["user"]
            if workspace and person.get("team_id") not in (None, workspace):
                raise RespondentUnreachable("the user belongs to another workspace")
            if person.get("deleted") or person.get("is_bot"):
                raise RespondentUnreachable("the user is deactivated or a bot")
            opened = await self.client.conversations_open(users=user)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in UNREACHABLE_ERRORS:
                raise RespondentUnreachable(f"slack error {code}") from None
            raise
        profile = person.get("profile") or {}
        respondent = RespondentInfo(
            external_id=user,
            display_name=profile.get("display_name") or person.get("real_name") or None,
            locale=person.get("locale"),
            metadata={"slack_team": workspace} if workspace else {},
            groups=frozenset({workspace} if workspace else set()),
        )
        return ConversationKey(self.platform, workspace, str(opened["channel"]["id"]), user), respondent
