"""Readiness: the store answers, and every platform link the bot needs is connected."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.observe import Connections
from bot.core.store import Store

log = logging.getLogger("bot.ops")

#: A check answers ``None`` when ready, else a short reason (no secrets) why not.
Check = Callable[[], Awaitable[str | None]]

#: An id no interview has: reading it proves the store answers without touching real data.
PROBE_ID = "readiness-probe"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of every check: ``problems`` maps each check that failed to its reason."""

    checks: dict[str, str | None]

    @property
    def ready(self) -> bool:
        """True when no check failed."""
        return all(reason is None for reason in self.checks.values())

    def as_json(self) -> dict[str, object]:
        """The body of ``/readyz``: ``ready``, ``not_ready`` (names) and each check's state."""
        return {
            "ready": self.ready,
            "not_ready": [name for name, reason in self.checks.items() if reason is not None],
            "checks": {name: reason or "ok" for name, reason in self.checks.items()},
        }


class Readiness:
    """Named checks run together, each bounded by ``timeout`` seconds."""

    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._checks: dict[str, Check] = {}
        self._connections: list[Connections] = []

    def add_check(self, name: str, check: Check) -> None:
        """Require ``check`` (replaces an earlier check of that name)."""
        self._checks[name] = check

    def add_store(self, store: Store, name: str = "store") -> None:
        """Require the store to answer a read."""

        async def store_answers() -> str | None:
            await store.get_interview(PROBE_ID)
            return None

        self.add_check(name, store_answers)

    def add_connections(self, connections: Connections) -> None:
        """Require every link in ``connections`` (as tracked at the time of each check) to be connected."""
        self._connections.append(connections)

    async def verdict(self) -> Verdict:
        """Run every check now."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(name, self._checks[name]) for name in names))
        checks: dict[str, str | None] = dict(zip(names, results, strict=True))
        for connections in self._connections:
            for link in connections.all():
                checks[link.name] = None if link.connected else link.detail or "not connected"
        return Verdict(checks)

    async def _run(self, name: str, check: Check) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await check()
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as error:  # a failing check is an answer, not a crash of the endpoint
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            return f"failed: {type(error).__name__}"
