"""Discord's limit on edits to old messages: error 30046, "Maximum number of edits to messages older than 1 hour
reached. Try again later".

Discord does not publish the number; the fake allows ``limit`` edits of messages older than an hour per channel
per hour (a knob, default 3). A message's age comes from its snowflake; ``age(message_id, seconds)`` makes a
message that much older, as if the bot had been away that long.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

HOUR = 3600.0
DISCORD_EPOCH_MS = 1_420_070_400_000
TOO_MANY_OLD_EDITS = (400, 30046, "Maximum number of edits to messages older than 1 hour reached. Try again later")


def created_at(snowflake: str) -> float:
    """Unix seconds a snowflake was made at."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000.0


@dataclass
class OldMessageEdits:
    """Counts edits of messages older than an hour, per channel, in a sliding hour."""

    limit: int = 3
    older_by: dict[str, float] = field(default_factory=dict)  # message id -> seconds added to its age
    _edits: dict[str, deque[float]] = field(default_factory=dict)  # channel id -> times of old-message edits

    def age(self, message_id: str, seconds: float) -> None:
        """Make ``message_id`` ``seconds`` older than its snowflake says."""
        self.older_by[message_id] = self.older_by.get(message_id, 0.0) + seconds

    def allow(self, channel_id: str, message_id: str, now: float | None = None) -> bool:
        """Record an edit; False when it is one edit of an old message too many (answer 30046)."""
        now = time.time() if now is None else now
        if now - created_at(message_id) + self.older_by.get(message_id, 0.0) < HOUR:
            return True
        edits = self._edits.setdefault(channel_id, deque())
        while edits and edits[0] <= now - HOUR:
            edits.popleft()
        if len(edits) >= self.limit:
            return False
        edits.append(now)
        return True
