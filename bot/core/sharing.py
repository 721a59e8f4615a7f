"""What an instance sharing its database with others does besides its conversations.

It renews the leases of the turns it runs, so that they stay its own; and, while it leads the sweeps, it takes
over the turns whose instance died (their lease ran out), as resumed turns: each is looked up with
``GET /interviews/:id`` before anything is sent, so a message the API already accepted is never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.core.context import CoreContext
from bot.core.coordination import RENEWALS_PER_LEASE
from bot.core.store import RecordStatus
from bot.core.turns import TurnRunner

log = logging.getLogger("bot.core.sharing")


class SharedDuties:
    """Turn leases of one instance: renewed while it runs, taken over from instances that stopped renewing."""

    def __init__(self, ctx: CoreContext, turns: TurnRunner) -> None:
        self._ctx = ctx
        self._turns = turns
        self._renewer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start renewing (only when other instances may share the database)."""
        if self._renewer is None and self._ctx.coordination.shared:
            self._renewer = asyncio.create_task(self._renew_forever(), name="turn-leases")

    async def stop(self) -> None:
        """Stop renewing: the leases of turns cut by the stop run out, and another instance resumes them."""
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def take_over_lapsed_turns(self) -> int:
        """Run the turns whose instance died (their lease ran out) as resumed turns, and the messages it stored
        but never began a turn for; returns how many interviews were picked up."""
        if not self._ctx.coordination.shared:
            return 0
        taken = 0
        now, store = self._ctx.clock.now(), self._ctx.store
        # messages stored by an instance that died before it began their turn wait as long as a lease would
        stranded = await store.stranded_interviews(now - self._ctx.config.turn_lease)
        for interview_id in dict.fromkeys([*await store.lapsed_turns(now), *stranded]):
            record = await self._ctx.store.get_interview(interview_id)
            if record is None or record.status is not RecordStatus.ACTIVE:
                continue
            if record.key.platform not in self._ctx.adapters:
                continue
            log.info("taking over the turn in flight of interview=%s (its instance stopped)", interview_id)
            self._turns.kick(record)
            taken += 1
        return taken

    async def _renew_forever(self) -> None:
        coordination, lease = self._ctx.coordination, self._ctx.config.turn_lease
        while True:
            await asyncio.sleep(lease / RENEWALS_PER_LEASE)
            try:
                running = self._turns.running()  # only turns still being run: a stopped worker's turn moves on
                if running:
                    await self._ctx.store.renew_turn_leases(
                        coordination.instance, self._ctx.clock.now() + lease, running
                    )
            except Exception:  # a storage hiccup: two more renewals come before the lease runs out
                log.exception("renewing the turn leases failed")
