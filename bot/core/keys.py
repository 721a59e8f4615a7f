"""The conversation key: where a respondent talks to the bot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """(platform, workspace or guild, channel or thread, user): maps to at most one active interview.

    ``workspace`` is ``""`` where the platform has none (a Discord DM, the terminal).
    """

    platform: str
    workspace: str
    channel: str
    user: str

    def as_str(self) -> str:
        """A stable, readable form for storage and logs: ``platform:workspace:channel:user``."""
        return ":".join((self.platform, self.workspace, self.channel, self.user))

    @classmethod
    def parse(cls, text: str) -> ConversationKey:
        """The inverse of :meth:`as_str`."""
        platform, workspace, channel, user = text.split(":", 3)
        return cls(platform, workspace, channel, user)
