"""The small persistent state an adapter keeps (thread ts, reply anchors, catch-up anchors): a narrow port.

Adapters never see the store. The bridge hands each one an :class:`AdapterState` for a scope of its own
(``bridge.adapter_state("slack.thread")``); values are small JSON objects kept across restarts.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.core.store import Store

__all__ = ["AdapterState", "MemoryState", "ScopedState"]


class AdapterState(Protocol):
    """Get and put small JSON values by key, within one scope."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, if any."""
        ...

    async def put(self, key: str, value: dict[str, Any] | None) -> None:
        """Store ``value`` under ``key`` (None deletes it)."""


class ScopedState:
    """:class:`AdapterState` kept in the bridge's store under ``scope``."""

    def __init__(self, store: Store, scope: str) -> None:
        self._store = store
        self.scope = scope

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, if any."""
        return await self._store.get_state(self.scope, key)

    async def put(self, key: str, value: dict[str, Any] | None) -> None:
        """Store ``value`` under ``key`` (None deletes it)."""
        await self._store.put_state(self.scope, key, value)

    def __repr__(self) -> str:
        return f"ScopedState({self.scope!r})"


class MemoryState:
    """:class:`AdapterState` in memory (an adapter used without a bridge, e.g. in a unit test of its rendering)."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, if any."""
        return self._values.get(key)

    async def put(self, key: str, value: dict[str, Any] | None) -> None:
        """Store ``value`` under ``key`` (None deletes it)."""
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = dict(value)
