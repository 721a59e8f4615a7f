"""Results cards that name a respondent: where each was posted, so that erasing the person deletes them too.

A named study's summary card names its respondent in the team's results channel. When it is posted, the
message's place (platform, channel, message id) is kept under the interview (scope :data:`CARDS_SCOPE`); an
erasure deletes each card through its platform's adapter. A card that cannot be deleted at once (the platform's
adapter does not run in this process — ``interview-bridge forget`` — or the platform failed) waits in
:data:`WAITING_SCOPE`, which names no one (channel and message ids only), and the housekeeping sweep of a running
bot tries again, for up to :data:`GIVE_UP_AFTER`. Aggregate cards (anonymous studies) name nobody and stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.core.context import CoreContext
from bot.core.ports import ResultsEraser

__all__ = ["CARDS_SCOPE", "WAITING_SCOPE", "CardsErased", "PostedCards"]

log = logging.getLogger("bot.core.posted_cards")

#: Where the cards of each interview are noted: key the interview id, value ``{"cards": [[platform, channel, id]]}``.
CARDS_SCOPE = "results-cards"
#: Cards an erasure could not delete yet: one row, ``{"cards": [[platform, channel, id, since], …]}``.
WAITING_SCOPE = "results-cards-to-delete"
_WAITING_KEY = "waiting"
#: A card that could not be deleted for this long (the bot lost the channel) is given up, with a warning.
GIVE_UP_AFTER = 30 * 86_400.0

Card = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class CardsErased:
    """The cards of an erasure: deleted now, and left to delete (retried by the running bot)."""

    deleted: int = 0
    waiting: int = 0


class PostedCards:
    """Notes where named cards were posted, and deletes them when their respondent is erased."""

    def __init__(self, ctx: CoreContext) -> None:
        self._ctx = ctx

    async def remember(self, interview_id: str, cards: list[Card]) -> None:
        """The interview's summary card went to these places."""
        if cards:
            await self._ctx.store.put_state(CARDS_SCOPE, interview_id, {"cards": [list(card) for card in cards]})

    async def erase(self, interview_ids: list[str]) -> CardsErased:
        """Delete the cards of these interviews (the caller erases the interviews); those not deleted now wait."""
        store, deleted, left = self._ctx.store, 0, []
        for interview_id in interview_ids:
            noted = await store.get_state(CARDS_SCOPE, interview_id)
            for platform, channel, message in (noted or {}).get("cards", []):
                if await self._delete(platform, channel, message):
                    deleted += 1
                else:
                    left.append((platform, channel, message))
            if noted is not None:
                await store.put_state(CARDS_SCOPE, interview_id, None)
        if left:
            now = self._ctx.clock.now()
            async with self._ctx.locks.hold(WAITING_SCOPE):
                waiting = await self._waiting()
                await self._keep([*waiting, *[[*card, now] for card in left]])
        return CardsErased(deleted, len(left))

    async def retry(self) -> int:
        """Housekeeping: try the waiting cards again with the adapters running here; returns how many went."""
        if not self._ctx.adapters:
            return 0
        async with self._ctx.locks.hold(WAITING_SCOPE):
            waiting = await self._waiting()
            if not waiting:
                return 0
            now, still, done = self._ctx.clock.now(), [], 0
            for platform, channel, message, since in waiting:
                if await self._delete(str(platform), str(channel), str(message)):
                    done += 1
                elif now - float(since) > GIVE_UP_AFTER:
                    log.warning("a results card on %s could not be deleted for 30 days: given up", platform)
                else:
                    still.append([platform, channel, message, since])
            await self._keep(still)
        if done:
            log.info("deleted %d results cards of erased respondents", done)
        return done

    async def waiting(self) -> int:
        """How many cards wait to be deleted."""
        return len(await self._waiting())

    async def _waiting(self) -> list[list[Any]]:
        noted = await self._ctx.store.get_state(WAITING_SCOPE, _WAITING_KEY)
        return list((noted or {}).get("cards", []))

    async def _keep(self, cards: list[list[Any]]) -> None:
        await self._ctx.store.put_state(WAITING_SCOPE, _WAITING_KEY, {"cards": cards} if cards else None)

    async def _delete(self, platform: str, channel: str, message: str) -> bool:
        adapter = self._ctx.adapters.get(platform)
        if not isinstance(adapter, ResultsEraser):
            return False
        try:
            return await adapter.delete_results(channel, message)
        except Exception:  # a platform failing must not stop the erasure: the card waits for the next try
            log.exception("a results card on %s could not be deleted", platform)
            return False
