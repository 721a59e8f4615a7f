"""Catching up on DMs the gateway never delivered: written while the bot was down or between two sessions.

Discord replays missed events only when a session RESUMEs; after a restart or an invalidated session (a fresh
IDENTIFY) they are gone. So for every conversation the adapter remembers the id of the newest Discord message
it handled (the "anchor"), and at each READY it reads the DM's history after that anchor. The core drops what
it already handled (event ids), so reading a message twice never sends it twice.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.core import AdapterState, ConversationKey

log = logging.getLogger(__name__)

#: State scope of each conversation's anchor: ``{"after": <message or interaction snowflake>}``.
SEEN_SCOPE = "discord.seen"
#: Messages read per history request (Discord's maximum is 100) and pages at most per conversation.
PAGE = 100
MAX_PAGES = 5


async def remember_seen(seen: AdapterState, key: ConversationKey, snowflake: int) -> None:
    """Move the conversation's anchor (in ``seen``, scope :data:`SEEN_SCOPE`) forward to ``snowflake``."""
    state = await seen.get(key.as_str()) or {}
    if int(state.get("after", 0)) < snowflake:
        await seen.put(key.as_str(), {"after": snowflake})


async def missed_messages(
    http: discord.http.HTTPClient, seen: AdapterState, key: ConversationKey
) -> list[dict[str, Any]]:
    """The member's messages in the DM after the anchor, oldest first ([] without an anchor: nothing to guess)."""
    state = await seen.get(key.as_str())
    if not state:
        return []
    after = int(state["after"])
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        page: list[dict[str, Any]] = [dict(m) for m in await http.logs_from(int(key.channel), PAGE, after=after)]
        if not page:
            break
        page.sort(key=lambda m: int(m["id"]))
        found += [m for m in page if str(m["author"]["id"]) == key.user and not m["author"].get("bot")]
        after = int(page[-1]["id"])
        if len(page) < PAGE:
            break
    return found
