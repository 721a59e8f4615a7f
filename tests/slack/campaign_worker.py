"""A bare invitation sender for the kill -9 test: sweeps the desk against the fake Slack until killed.

Usage: python tests/slack/campaign_worker.py DATABASE API_URL BOT_TOKEN SEND_LEASE [START]

``START`` (unix seconds): the worker's clock starts there and runs at the real pace (reminders wait for working
hours, so a test picks a weekday morning instead of the hour it happens to run at).
"""

from __future__ import annotations

import asyncio
import sys
import time

from adapters.slack.adapter import SlackAdapter
from adapters.slack.budget import SlackBudget
from adapters.slack.invitations import SlackInvitations
from adapters.slack.runner import make_client
from bot.core import InvitationDesk, MemoryState, SystemClock
from bot.core.studies import Study, StudyBook
from storage.sqlite import SQLiteStore


class ShiftedClock:
    """The real clock's pace from another starting point."""

    def __init__(self, start: float) -> None:
        self._shift = start - time.time()

    def now(self) -> float:
        return time.time() + self._shift


LIMITS = {"conversations.open": 45 * 60.0, "users.info": 90 * 60.0, "conversations.history": 45 * 60.0}


async def main(database: str, api_url: str, token: str, lease: float, start: float | None) -> None:
    store = SQLiteStore(database)
    await store.open()
    book = StudyBook((Study(id="default", name="Onboarding", consent="Kept for 90 days."),))
    clock = SystemClock() if start is None else ShiftedClock(start)
    desk = InvitationDesk(store, book, clock, send_lease=lease)
    budget = SlackBudget(dict(LIMITS), bursts=dict.fromkeys(LIMITS, 1.0))
    sender = SlackInvitations(desk, SlackAdapter(make_client(token, api_url), lambda _: MemoryState(), budget=budget))
    print("ready", flush=True)
    while True:
        report = await desk.sweep(sender, "slack", limit=20)
        if not (report.invited or report.reminded or report.failed or report.undeliverable):
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    start = float(sys.argv[5]) if len(sys.argv) > 5 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), start))
