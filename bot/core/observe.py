"""What the bot reports about itself: an observer port (metrics) and the platforms' connection states (readiness).

The core, the adapters and the API client's budget tell an :class:`Observer` what happened; every method has a
do-nothing default, so an implementation (``bot.ops.metrics``) overrides only what it records. Arguments are
bounded values only — study, platform, reason, outcome — never a user id or an interview id. Interviews starting
and ending are the lifecycle hooks' business (``Bridge.on_started`` / ``on_ended``), not this port's.

:class:`Connections` holds one :class:`Connection` per configured platform link (the Discord gateway, Slack's
Socket Mode or HTTP endpoint). The adapters mark theirs up and down; readiness reads them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["Connection", "Connections", "Observer"]


class Observer:
    """Hooks called as things happen. Each default does nothing; keep implementations quick and non-raising."""

    def turn_finished(self, *, study: str, platform: str, outcome: str, seconds: float) -> None:
        """A turn ended (outcome: ``ok``, ``failed``, ``stopped``); ``seconds`` from taking it to the end."""

    def first_update(self, *, platform: str, seconds: float) -> None:
        """The first text of a reply became visible, ``seconds`` after its turn was taken."""

    def duplicate_dropped(self, *, platform: str) -> None:
        """A platform event already handled was delivered again and dropped."""

    def rate_limited(self, *, api: str, platform: str) -> None:
        """A 429 came back from ``api`` (``interview``, ``discord``, ``slack``) while serving ``platform``."""

    def platform_write_waited(self, *, platform: str, seconds: float) -> None:
        """A write to a platform (an edit, a post) waited ``seconds`` for its rate budget."""

    def api_budget_waited(self, *, seconds: float) -> None:
        """A request to the interview API waited ``seconds`` in the shared request budget."""

    def invitation_changed(self, *, study: str, platform: str, state: str) -> None:
        """An invitation entered ``state`` (sent, opened, accepted, declined, expired, failed...)."""

    def webhook_delivered(self, *, kind: str, outcome: str) -> None:
        """A webhook was delivered or received (``kind``: e.g. ``handoff``, ``koji``; ``outcome``: e.g. ``ok``)."""

    def handoff_changed(self, *, platform: str, outcome: str) -> None:
        """A handoff was refused (``outcome``: its error code, e.g. ``user_unreachable``) or moved on
        (``consent_pending``, ``accepted``, ``declined``, ``expired``, ``cancelled``, ``completed``)."""

    def handoff_callback(self, *, event: str, outcome: str) -> None:
        """A handoff callback was ``delivered``, will be ``retried``, or was given up (``failed``)."""


@dataclass
class Connection:
    """One link to a platform (e.g. ``discord`` gateway): connected or not, and since when."""

    name: str
    connected: bool = False
    detail: str = "not connected yet"
    changed_at: float = field(default_factory=time.monotonic)

    def up(self, detail: str = "connected") -> None:
        """The link works."""
        self.connected, self.detail, self.changed_at = True, detail, time.monotonic()

    def down(self, detail: str) -> None:
        """The link is lost (or closed); ``detail`` says why, with no secrets."""
        self.connected, self.detail, self.changed_at = False, detail, time.monotonic()


class Connections:
    """The platform links a running bot needs; readiness requires every one of them to be connected."""

    def __init__(self) -> None:
        self._links: dict[str, Connection] = {}

    def track(self, name: str) -> Connection:
        """The link called ``name`` (created, not connected, on first use)."""
        link = self._links.get(name)
        if link is None:
            link = self._links[name] = Connection(name)
        return link

    def forget(self, name: str) -> None:
        """Stop requiring ``name`` (an extension unloaded from a host bot)."""
        self._links.pop(name, None)

    def all(self) -> list[Connection]:
        """Every tracked link, by name."""
        return [self._links[name] for name in sorted(self._links)]
