"""Prometheus metrics: an :class:`~bot.core.observe.Observer` that counts, served at ``/metrics``.

Names follow Prometheus' conventions (``interview_bridge_`` prefix, ``_total`` counters, ``_seconds``
durations). Labels are bounded: study, platform, reason, outcome, API, state — never a user or an interview id.
A label that sees more than :data:`MAX_LABEL_VALUES` distinct values puts the rest under ``other``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.core.bridge import Bridge
from bot.core.endings import EndReason
from bot.core.keys import ConversationKey
from bot.core.observe import Connections, Observer
from bot.core.request_budget import RequestBudget

__all__ = ["CONTENT_TYPE_LATEST", "MAX_LABEL_VALUES", "Metrics"]

PREFIX = "interview_bridge"
MAX_LABEL_VALUES = 50

#: Turns stream for seconds: buckets up to two minutes.
TURN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0)
#: First visible update, budget and write waits: mostly sub-second, sometimes a queue of a minute.
WAIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class _Bounded:
    """Keeps one label's values to a bounded set: the first ``limit`` seen, then ``other``."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        value = value or "none"
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return "other"
        self._seen.add(value)
        return value


class Metrics(Observer):
    """Every metric of the bot in its own registry (so tests and several bridges never collide)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._study = _Bounded()
        self._value = _Bounded(200)  # reasons, outcomes, states, kinds: small sets by design
        self._connections: Connections | None = None
        self._budgets: list[RequestBudget] = []
        r = self.registry
        self.interviews_started = Counter(
            f"{PREFIX}_interviews_started_total", "Interviews started.", ["study", "platform"], registry=r
        )
        self.interviews_completed = Counter(
            f"{PREFIX}_interviews_completed_total",
            "Interviews ended, by how they ended (natural, respondent_left, timeout, manual, gone).",
            ["study", "platform", "reason"],
            registry=r,
        )
        self.turns = Counter(
            f"{PREFIX}_turns_total", "Turns (a message and its reply), by outcome.", ["study", "platform", "outcome"],
            registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            f"{PREFIX}_turn_seconds", "From taking a turn to its reply shown whole.", ["platform"],
            buckets=TURN_BUCKETS, registry=r,
        )  # fmt: skip
        self.first_update_seconds = Histogram(
            f"{PREFIX}_first_update_seconds", "From taking a turn to its first text handed over.", ["platform"],
            buckets=WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.api_budget_queue = Gauge(
            f"{PREFIX}_api_budget_queued_requests", "Requests waiting in the interview API's shared budget.",
            registry=r,
        )  # fmt: skip
        self.api_budget_wait_seconds = Histogram(
            f"{PREFIX}_api_budget_wait_seconds", "How long requests waited in the interview API's budget.",
            buckets=WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.rate_limits = Counter(
            f"{PREFIX}_rate_limited_total", "429 answers received, by API (interview, discord, slack) and platform.",
            ["api", "platform"], registry=r,
        )  # fmt: skip
        self.platform_write_wait_seconds = Histogram(
            f"{PREFIX}_platform_write_wait_seconds", "How long writes to a platform waited for its rate budget.",
            ["platform"], buckets=WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.duplicates_dropped = Counter(
            f"{PREFIX}_duplicate_events_dropped_total", "Platform events delivered again and dropped.", ["platform"],
            registry=r,
        )  # fmt: skip
        self.invitations = Counter(
            f"{PREFIX}_invitations_total", "Invitations entering each state.", ["study", "platform", "state"],
            registry=r,
        )  # fmt: skip
        self.webhook_deliveries = Counter(
            f"{PREFIX}_webhook_deliveries_total", "Webhooks delivered or received, by kind and outcome.",
            ["kind", "outcome"], registry=r,
        )  # fmt: skip
        self.handoffs = Counter(
            f"{PREFIX}_handoffs_total",
            "Handoffs from other bots, by outcome: refused (its error code) or moved on (consent_pending, accepted, "
            "declined, expired, cancelled, completed).",
            ["platform", "outcome"], registry=r,
        )  # fmt: skip
        self.handoff_callbacks = Counter(
            f"{PREFIX}_handoff_callbacks_total",
            "Handoff callbacks sent, by event and outcome (delivered, retried, failed: given up).",
            ["event", "outcome"], registry=r,
        )  # fmt: skip
        self.platform_connected = Gauge(
            f"{PREFIX}_platform_connected", "1 while the platform link is connected, else 0.", ["link"], registry=r
        )

    # --- wiring ---

    def watch_budget(self, budget: RequestBudget) -> None:
        """Count ``budget``'s waits and 429s, and add its queue length to the gauge (read at each scrape)."""
        budget.listeners.append(_BudgetCounter(self))
        self._budgets.append(budget)
        self.api_budget_queue.set_function(lambda: sum(watched.waiting() for watched in self._budgets))

    def watch_connections(self, connections: Connections) -> None:
        """Report each platform link's state at each scrape."""
        self._connections = connections

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        if self._connections is not None:
            for link in self._connections.all():
                self.platform_connected.labels(self._value(link.name)).set(1 if link.connected else 0)
        return generate_latest(self.registry)

    def watch_lifecycle(self, bridge: Bridge) -> None:
        """Count interviews starting and ending through the bridge's lifecycle hooks."""

        async def study_of(key: ConversationKey, interview_id: str) -> str:
            for interview in await bridge.interviews_of(key.platform, key.user):
                if interview.interview_id == interview_id:
                    return interview.study or "default"
            return "default"

        @bridge.on_started
        async def started(key: ConversationKey, interview_id: str) -> None:
            self.interview_started(study=await study_of(key, interview_id), platform=key.platform)

        @bridge.on_ended
        async def ended(key: ConversationKey, interview_id: str, reason: EndReason) -> None:
            self.interview_ended(study=await study_of(key, interview_id), platform=key.platform, reason=reason.value)

    def interview_started(self, *, study: str, platform: str) -> None:
        """An interview started."""
        self.interviews_started.labels(self._study(study), self._value(platform)).inc()

    def interview_ended(self, *, study: str, platform: str, reason: str) -> None:
        """An interview ended, by its :class:`~bot.core.endings.EndReason`."""
        self.interviews_completed.labels(self._study(study), self._value(platform), self._value(reason)).inc()

    # --- the Observer port ---

    def turn_finished(self, *, study: str, platform: str, outcome: str, seconds: float) -> None:
        self.turns.labels(self._study(study), self._value(platform), self._value(outcome)).inc()
        if outcome == "ok":
            self.turn_seconds.labels(self._value(platform)).observe(seconds)

    def first_update(self, *, platform: str, seconds: float) -> None:
        self.first_update_seconds.labels(self._value(platform)).observe(seconds)

    def duplicate_dropped(self, *, platform: str) -> None:
        self.duplicates_dropped.labels(self._value(platform)).inc()

    def rate_limited(self, *, api: str, platform: str) -> None:
        self.rate_limits.labels(self._value(api), self._value(platform)).inc()

    def platform_write_waited(self, *, platform: str, seconds: float) -> None:
        self.platform_write_wait_seconds.labels(self._value(platform)).observe(seconds)

    def api_budget_waited(self, *, seconds: float) -> None:
        self.api_budget_wait_seconds.observe(seconds)

    def invitation_changed(self, *, study: str, platform: str, state: str) -> None:
        self.invitations.labels(self._study(study), self._value(platform), self._value(state)).inc()

    def webhook_delivered(self, *, kind: str, outcome: str) -> None:
        self.webhook_deliveries.labels(self._value(kind), self._value(outcome)).inc()

    def handoff_changed(self, *, platform: str, outcome: str) -> None:
        self.handoffs.labels(self._value(platform), self._value(outcome)).inc()

    def handoff_callback(self, *, event: str, outcome: str) -> None:
        self.handoff_callbacks.labels(self._value(event), self._value(outcome)).inc()


class _BudgetCounter:
    """The API budget's listener: waits and 429s into the metrics (the budget is shared by every platform)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def waited(self, seconds: float) -> None:
        self._metrics.api_budget_waited(seconds=seconds)

    def rate_limited(self) -> None:
        self._metrics.rate_limited(api="interview", platform="shared")
