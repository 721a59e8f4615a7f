"""The invitation desk: what is due for each invitee, decided from storage, sent through a platform's sender.

Each sweep reads the due invitations (an indexed query), settles states from the interviews table, expires the
invitations of closed studies and, for each of the rest, claims the next step in storage *before* the platform
sends it (an invitation's claim is a lease, checked against the DM when it lapsed: exactly once; a reminder is
counted first: at most once). Reminders go only to people who were invited or reminded and have not started: a person
in an interview (``started``) or done (``completed``) is never reminded; they wait for the recipient's working
hours (:func:`next_working_time`), never exceed the campaign's cap, and stop when the study closes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.choosing import StudyGate
from bot.core.clock import Clock
from bot.core.invitations import Campaign, Invitation, InvitationState, InvitationStore
from bot.core.store import Store
from bot.core.studies import Study, StudyBook, StudyState

__all__ = [
    "Delivery",
    "InvitationDesk",
    "InvitationSender",
    "RecruitingStore",
    "SweepReport",
    "next_working_time",
]

log = logging.getLogger("bot.core.recruiting")

S = InvitationState
WORK_STARTS = 10  # local hour a reminder may go from
WORK_ENDS = 17  # local hour after which it waits for the next working day
PAUSED_RETRY = 3600.0  # a paused study's invitations are looked at again an hour later
SEND_LEASE = 120.0  # an invitation being sent is claimed this long; after that another attempt checks the DM


class RecruitingStore(Store, InvitationStore, Protocol):
    """A store with the invitation tables (both backends are)."""


class Delivery(StrEnum):
    """What became of one message to an invitee."""

    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # the platform will never deliver it (DMs closed, deactivated, unknown)
    FAILED = "failed"  # not sent this time (an outage): an invitation is tried again after its lease, a reminder not


class InvitationSender(Protocol):
    """A platform's side: sending, and the recipient's time zone."""

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        """Send the invitation (``reminder`` 0) or reminder number ``reminder`` to the invitee's DM."""
        ...

    async def time_zone(self, invitation: Invitation) -> str | None:
        """The recipient's IANA time zone, if the platform knows it."""
        ...

    async def already_sent(self, invitation: Invitation, study: Study) -> bool:
        """Whether the invitation is in the invitee's DM already (asked only after an attempt that may have sent
        it before its instance died)."""
        ...


@dataclass(slots=True)
class SweepReport:
    """What one sweep did (tests, logs)."""

    invited: int = 0
    reminded: int = 0
    undeliverable: int = 0
    failed: int = 0
    expired: int = 0
    postponed: int = 0


def next_working_time(now: float, tz: str | None) -> float:
    """``now`` if it is within the recipient's working hours (10:00–17:00 on a weekday, local time), else the
    next weekday 10:00 local. An unknown or missing zone counts as UTC."""
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = dt.datetime.fromtimestamp(now, zone)
    if local.weekday() < 5 and WORK_STARTS <= local.hour < WORK_ENDS:
        return now
    day = local.date() if local.hour < WORK_STARTS else local.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(WORK_STARTS), tzinfo=zone)
    return start.timestamp()


def _after(campaign: Campaign, sent: int, now: float) -> float | None:
    """When reminder number ``sent + 1`` is due, once ``sent`` reminders went out (None: the cap is reached)."""
    if sent >= campaign.reminders or not campaign.reminder_after:
        return None
    offsets = campaign.reminder_after
    return now + offsets[min(sent, len(offsets) - 1)]


class InvitationDesk:
    """Sends what is due for every study's campaigns (each invitation once, each reminder at most once)."""

    def __init__(
        self, store: RecruitingStore, book: StudyBook, clock: Clock, *, send_lease: float = SEND_LEASE
    ) -> None:
        self.send_lease = send_lease
        self._store = store
        self.book = book
        self.clock = clock
        self.gate = StudyGate(book, store, clock)

    async def sweep(self, sender: InvitationSender, platform: str, limit: int = 50) -> SweepReport:
        """One pass over the due invitations of ``platform`` (at most ``limit``)."""
        report = SweepReport()
        now = self.clock.now()
        for listed in self.book.studies:  # a closed study's pending invitations expire at once, due or not
            if (await self.gate.state(listed))[0] is StudyState.CLOSED:
                report.expired += await self._store.expire_invitations(listed.id, now)
        due = await self._store.due_invitations(now, limit, platform)
        campaigns: dict[str, Campaign | None] = {}
        for study_id in sorted({i.study for i in due}):
            await self._store.settle_invitations(study_id, now)
        for invitation in due:
            study = self.book.get(invitation.study)
            state = (await self.gate.state(study))[0] if study is not None else StudyState.CLOSED
            if study is None or state is StudyState.CLOSED:
                report.expired += await self._store.expire_invitations(invitation.study, now)
                continue
            if state is StudyState.PAUSED:
                await self._move(invitation, invitation.state, now + PAUSED_RETRY, now)
                report.postponed += 1
                continue
            if invitation.campaign_id not in campaigns:
                campaigns[invitation.campaign_id] = await self._store.get_campaign(invitation.campaign_id)
            campaign = campaigns[invitation.campaign_id]
            current = await self._store.get_invitation(
                invitation.study, invitation.platform, invitation.workspace, invitation.user_id
            )
            if campaign is None or current is None or current.next_at is None or current.next_at > now:
                continue  # settled meanwhile, or another instance moved it
            await self._step(current, campaign, study, sender, now, report)
        return report

    async def _move(
        self,
        invitation: Invitation,
        state: InvitationState,
        next_at: float | None,
        now: float,
        reminders_sent: int | None = None,
    ) -> bool:
        """Move ``invitation`` as read: nobody (another instance) may have moved it since."""
        return await self._store.move_invitation(
            invitation.id,
            [invitation.state],
            state,
            next_at,
            now,
            reminders_sent=reminders_sent,
            expected_updated_at=invitation.updated_at,
        )

    async def _invite(
        self, invitation: Invitation, campaign: Campaign, study: Study, sender: InvitationSender, now: float
    ) -> Delivery | None:
        """Claim, check a possible earlier attempt, send, confirm. None: nothing was sent now."""
        # queued rows are due from their creation; a later due time is a lapsed claim (or a pause): look first
        attempted = invitation.next_at is not None and invitation.next_at > invitation.created_at
        if not await self._move(invitation, S.QUEUED, now + self.send_lease, now):
            return None  # another instance claimed it
        confirmed_next = _after(campaign, 0, now)
        if attempted and await sender.already_sent(invitation, study):
            await self._store.move_invitation(invitation.id, [S.QUEUED], S.INVITED, confirmed_next, now)
            return None
        outcome = await sender.send_invitation(invitation, study, reminder=0)
        if outcome is Delivery.SENT:
            await self._store.move_invitation(invitation.id, [S.QUEUED], S.INVITED, confirmed_next, now)
        elif outcome is Delivery.UNDELIVERABLE:
            await self._store.move_invitation(invitation.id, [S.QUEUED], S.UNDELIVERABLE, None, now)
        return outcome  # FAILED: still queued; after the lease another attempt checks the DM first

    async def _step(
        self,
        invitation: Invitation,
        campaign: Campaign,
        study: Study,
        sender: InvitationSender,
        now: float,
        report: SweepReport,
    ) -> None:
        if invitation.state is S.QUEUED:
            delivered = await self._invite(invitation, campaign, study, sender, now)
            report.invited += delivered is Delivery.SENT
            report.undeliverable += delivered is Delivery.UNDELIVERABLE
            report.failed += delivered is Delivery.FAILED
            return
        if invitation.state in (S.INVITED, S.REMINDED) and invitation.reminders_sent < campaign.reminders:
            at = next_working_time(now, await sender.time_zone(invitation))
            if at > now:
                report.postponed += await self._move(invitation, invitation.state, at, now)
                return
            sent = invitation.reminders_sent + 1
            if not await self._move(invitation, S.REMINDED, _after(campaign, sent, now), now, reminders_sent=sent):
                return
            outcome = await sender.send_invitation(invitation, study, reminder=sent)  # at most once
            report.reminded += outcome is Delivery.SENT
        else:  # nothing more to send: the timer stops
            await self._move(invitation, invitation.state, None, now)
            return
        if outcome is Delivery.UNDELIVERABLE:
            await self._store.move_invitation(invitation.id, [S.REMINDED], S.UNDELIVERABLE, None, now)
            report.undeliverable += 1
        elif outcome is Delivery.FAILED:
            report.failed += 1

    async def answer(
        self, study_id: str, platform: str, workspace: str, user_id: str, state: InvitationState
    ) -> Invitation | None:
        """The invitee clicked: ``declined`` ("Not now") stops the reminders; ``started`` is set by the start."""
        now = self.clock.now()
        invitation = await self._store.get_invitation(study_id, platform, workspace, user_id)
        if invitation is None:
            return None
        expected: Sequence[InvitationState] = (S.QUEUED, S.INVITED, S.REMINDED, S.DECLINED)
        await self._store.move_invitation(invitation.id, expected, state, None, now)
        return await self._store.get_invitation(study_id, platform, workspace, user_id)

    async def opt_out(self, platform: str, workspace: str, user_id: str) -> None:
        """ "Don't ask me again": this and every later campaign in the workspace leave the person alone."""
        await self._store.opt_out(platform, workspace, user_id, self.clock.now())

    async def opt_in(self, platform: str, workspace: str, user_id: str) -> bool:
        """``/interview opt-in``: later campaigns may invite the person again; False if they had not opted out."""
        return await self._store.opt_in(platform, workspace, user_id)

    async def close_study(self, study_id: str) -> int:
        """The study closed: pending invitations expire and reminders stop; returns how many expired."""
        return await self._store.expire_invitations(study_id, self.clock.now())
