"""What the Slack listeners share: the bridge, the adapter, the people cache and the thread locks."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.slack.adapter import SlackAdapter
from adapters.slack.locks import ConversationLocks
from adapters.slack.people import People
from adapters.slack.plumbing import FailureAnswer
from bot.core import Bridge, Catalogue, InvitationDesk

__all__ = ["ListenerDeps", "stale_text"]


@dataclass
class ListenerDeps:
    """Shared by the DM, click and command listeners of one app."""

    bridge: Bridge
    adapter: SlackAdapter
    people: People
    failures: FailureAnswer  # what a listener that acked first does with its own failure
    locks: ConversationLocks = field(default_factory=ConversationLocks)  # thread decisions, one at a time
    desk: InvitationDesk | None = None  # campaigns (opt-out, opt-in), when the bot sends invitations


def stale_text(tr: Catalogue) -> str:
    """For a click on a question that is answered or gone."""
    return tr.gettext("That question was already answered or is no longer open.")
