"""Opt-in recruiting (Discord's way): a panel is a campaign, "Remind me later" is an opt-in, closed DMs are recorded.

Discord forbids unsolicited mass DMs, so nobody is queued for an invitation there. A panel posted in a channel is
recorded as a campaign of its own (no invitees), and so is the consent text's **Remind me later** in a DM; a member
who clicks **Remind me later** becomes an invitee who asked to be reminded (``opted_in``), with the first reminder
due at the campaign's first offset. All of a platform's volunteers share one ``workspace`` (on Discord ``""``: a DM
belongs to no server), so a person has one invitation per study however many panels they clicked. From there the
:class:`~bot.core.recruiting.InvitationDesk`'s sweep sends the reminders exactly as it does on Slack: capped,
spaced, at working hours, never to people who started or finished, never after the study closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bot.core.invitations import Campaign, Invitation
from bot.core.recruiting import InvitationDesk, InvitationSender, RecruitingStore
from bot.core.store import RecordStatus
from bot.core.studies import Study, StudyState

__all__ = ["Volunteers"]

log = logging.getLogger("bot.core.volunteers")

SWEEP_EVERY = 60.0  # seconds between reminder sweeps (reminders are days apart; a minute late is nothing)


class Volunteers:
    """Panels' campaigns, opt-ins and undeliverable DMs of one platform; reminders through the desk's sweep."""

    def __init__(self, store: RecruitingStore, desk: InvitationDesk, platform: str, workspace: str = "") -> None:
        self._store = store
        self.desk = desk
        self.platform = platform
        self.workspace = workspace
        self._task: asyncio.Task[None] | None = None

    async def open_campaign(self, name: str, study: Study, audience: Mapping[str, object] | None = None) -> Campaign:
        """Record the campaign ``name`` (a panel: ``panel-<message id>``) of ``study`` once; the stored one comes
        back. ``audience`` says where it was posted, for the record."""
        campaign_id = f"{self.platform}-{name}"
        campaign = Campaign(campaign_id, study.id, self.platform, self.workspace, self._now(), audience=audience or {})
        await self._store.create_campaign(campaign)
        return await self._store.get_campaign(campaign.campaign_id) or campaign

    async def state(self, study: Study) -> StudyState:
        """Whether ``study`` is open, paused or closed now."""
        return (await self.desk.gate.state(study))[0]

    async def remind_later(self, name: str, study: Study, user: str) -> tuple[Invitation, int]:
        """**Remind me later**: the person's opt-in, the first reminder due after the campaign's first offset.

        Returns the invitation, which tells what became of it (``started``/``completed`` people are left alone and
        have nothing due), and how many reminders are still to come at most.
        """
        campaign = await self.open_campaign(name, study)
        now = self._now()
        first = campaign.reminder_after[0] if campaign.reminder_after else 0.0
        await self._store.volunteer(campaign, user, now + first, now)
        await self._store.settle_invitations(study.id, now)  # someone in an interview, or done, is not reminded
        invitation = await self._store.get_invitation(study.id, self.platform, self.workspace, user)
        if invitation is None:  # pragma: no cover - volunteer() stored it
            raise RuntimeError("the opt-in was not stored")
        log.info("volunteer study=%s platform=%s state=%s", study.id, self.platform, invitation.state.value)
        return invitation, max(0, campaign.reminders - invitation.reminders_sent)

    async def undeliverable(self, name: str, study: Study, user: str) -> None:
        """The person's DMs are closed to the bot: recorded, and no reminder is due any more."""
        campaign = await self.open_campaign(name, study)
        await self._store.mark_undeliverable(campaign, user, self._now())
        log.info("undeliverable study=%s platform=%s", study.id, self.platform)

    async def completed(self, study: Study) -> int:
        """How many interviews of ``study`` were completed (what a panel shows)."""
        records = await self._store.interviews_of_study(study.id)
        return sum(1 for record in records if record.status is RecordStatus.COMPLETED)

    def _now(self) -> float:
        return self.desk.clock.now()

    # --- the reminders' loop in the running bot ---

    def start(self, sender: InvitationSender, every: float = SWEEP_EVERY) -> None:
        """Sweep the due reminders of this platform through ``sender`` until :meth:`stop` (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(sender, every), name=f"{self.platform}-reminders")

    async def stop(self) -> None:
        """Stop sweeping; what was claimed is in storage already."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self, sender: InvitationSender, every: float) -> None:
        while True:
            try:
                await self.desk.sweep(sender, self.platform)
            except Exception as error:  # the store or the platform is down: next time, never crash the bot
                log.warning("reminder sweep failed: %s", type(error).__name__)
            await asyncio.sleep(every)
