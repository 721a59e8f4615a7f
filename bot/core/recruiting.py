"""The invitation desk: what is due for each invitee, decided from storage, sent through a platform's sender.

Each sweep reads the due invitations (an indexed query), settles states from the interviews table, expires the
invitations of closed studies and, for each of the rest, records the next message in storage *before* the platform
sends it ("reminding #n": a lease, checked against the DM when it lapsed), then confirms it: every invitation and
every reminder goes exactly once, even across a ``kill -9``. Reminders go only to people who were invited or
reminded and have no interview of the study: a person in an interview or done is never reminded (the claim itself
checks the interviews table); they wait for the recipient's working hours (:func:`next_working_time`), never exceed
the campaign's cap, and stop when the study closes. Nobody in the erasure log is invited (an erasure is also a
do-not-contact record), whatever queued them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.campaign_record import CampaignReport, FoundPeople, record_campaign
from bot.core.choosing import StudyGate
from bot.core.clock import Clock
from bot.core.invitations import Campaign, Invitation, InvitationState, InvitationStore
from bot.core.pseudonyms import Pseudonyms
from bot.core.store import RecordStatus, Store
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
BUSY_RETRY = 3600.0  # someone in an interview (of any study) hears from a campaign an hour later at the earliest
SEND_LEASE = 120.0  # an invitation being sent is claimed this long; after that another attempt checks the DM


class RecruitingStore(Store, InvitationStore, Protocol):
    """A store with the invitation tables (both backends are)."""


class Delivery(StrEnum):
    """What became of one message to an invitee."""

    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # the platform will never deliver it (DMs closed, deactivated, unknown)
    FAILED = "failed"  # not sent this time (an outage): tried again after its lease, the DM checked first


class InvitationSender(Protocol):
    """A platform's side: sending, and the recipient's time zone."""

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        """Send the invitation (``reminder`` 0) or reminder number ``reminder`` to the invitee's DM."""
        ...

    async def time_zone(self, invitation: Invitation) -> str | None:
        """The recipient's IANA time zone, if the platform knows it."""
        ...

    async def already_sent(self, invitation: Invitation, study: Study, *, reminder: int) -> bool:
        """Whether the invitation (``reminder`` 0) or reminder number ``reminder`` is in the invitee's DM already
        (asked only after an attempt that may have sent it before its instance died); raises when it cannot tell."""
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
    forgotten: int = 0  # queued for someone in the erasure log: never sent


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
    """Sends what is due for every study's campaigns (each invitation and each reminder exactly once)."""

    def __init__(
        self, store: RecruitingStore, book: StudyBook, clock: Clock, *, send_lease: float = SEND_LEASE
    ) -> None:
        self.send_lease = send_lease
        self._store = store
        self.book = book
        self.clock = clock
        self.gate = StudyGate(book, store, clock)
        self.pseudonyms = Pseudonyms(store)

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
            if not current.opted_in and await self._forgotten(current):
                report.forgotten += await self._move(current, S.OPTED_OUT, None, now)
                continue
            await self._step(current, campaign, study, sender, now, report)
        return report

    async def _forgotten(self, invitation: Invitation) -> bool:
        """Whether the invitee asked to be forgotten: the erasure log is a do-not-contact record (only their own
        "Remind me later" after it brings invitations to them again)."""
        found = await self.pseudonyms.erased_among(invitation.platform, invitation.workspace, [invitation.user_id])
        return bool(found)

    async def _move(
        self,
        invitation: Invitation,
        state: InvitationState,
        next_at: float | None,
        now: float,
    ) -> bool:
        """Postpone or stop ``invitation`` as read (nobody, e.g. another instance, moved it since); a message in
        flight stays recorded."""
        return await self._store.move_invitation(
            invitation.id,
            [invitation.state],
            state,
            next_at,
            now,
            expected_updated_at=invitation.updated_at,
            sending=invitation.sending,
        )

    async def _send_once(
        self,
        invitation: Invitation,
        campaign: Campaign,
        study: Study,
        sender: InvitationSender,
        number: int,
        now: float,
    ) -> Delivery | None:
        """Message ``number`` (0: the invitation, n: reminder n) exactly once: record the intent, send (or find it in
        the DM after a lapsed attempt), confirm. None: nothing was sent now."""
        lapsed = invitation.sending == number  # an earlier attempt may have sent it before its instance died
        until = now + self.send_lease
        if not await self._store.claim_message(invitation.id, invitation.updated_at, number, until, now):
            return None  # another instance claimed it, the person answered, or they are in an interview
        try:
            found = lapsed and await sender.already_sent(invitation, study, reminder=number)
        except Exception as error:  # the platform cannot say: wait for the lease rather than risk sending twice
            log.info("cannot tell whether message %s reached an invitee: %s", number, type(error).__name__)
            return Delivery.FAILED
        outcome = Delivery.SENT if found else await sender.send_invitation(invitation, study, reminder=number)
        if outcome is Delivery.SENT:
            state, sent = (S.INVITED, None) if number == 0 else (S.REMINDED, number)
            due = _after(campaign, number, now)
            await self._store.move_invitation(invitation.id, [invitation.state], state, due, now, reminders_sent=sent)
        elif outcome is Delivery.UNDELIVERABLE:
            await self._store.move_invitation(invitation.id, [invitation.state], S.UNDELIVERABLE, None, now)
        # FAILED: the intent stays; after the lease another attempt checks the DM first
        return None if found else outcome

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
            number = 0
        elif invitation.state in (S.INVITED, S.REMINDED) and invitation.reminders_sent < campaign.reminders:
            number = invitation.reminders_sent + 1
            at = next_working_time(now, await sender.time_zone(invitation))
            if at > now:
                report.postponed += await self._move(invitation, invitation.state, at, now)
                return
        else:  # nothing more to send: the timer stops
            await self._move(invitation, invitation.state, None, now)
            return
        if await self._in_an_interview(invitation):  # never interrupt one (of this or another study)
            report.postponed += await self._move(invitation, invitation.state, now + BUSY_RETRY, now)
            return
        delivered = await self._send_once(invitation, campaign, study, sender, number, now)
        report.invited += number == 0 and delivered is Delivery.SENT
        report.reminded += number > 0 and delivered is Delivery.SENT
        report.undeliverable += delivered is Delivery.UNDELIVERABLE
        report.failed += delivered is Delivery.FAILED

    async def _in_an_interview(self, invitation: Invitation) -> bool:
        """Whether the invitee has an interview running on the platform now (the claim also refuses anyone with an
        interview of the invitation's own study, atomically)."""
        recent = await self._store.interviews_of_user(invitation.platform, invitation.user_id, limit=5)
        return any(record.status is not RecordStatus.COMPLETED for record in recent)

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
        """``/interview opt-in``: later campaigns may invite the person again — after an opt-out, or after an
        erasure (which is a do-not-contact record too); False if neither held them back."""
        had = await self._store.opt_in(platform, workspace, user_id)
        return await self.pseudonyms.allow_contact(platform, workspace, user_id, self.clock.now()) or had

    async def is_closed(self, study: Study) -> bool:
        """Whether the study is closed (by an admin or its ``closes_at``): no campaign may start then."""
        return (await self.gate.state(study))[0] is StudyState.CLOSED

    async def record_campaign(self, campaign: Campaign, people: FoundPeople) -> CampaignReport:
        """Queue everyone ``people`` holds but the opted out, the forgotten and those who took the study (see
        :func:`~bot.core.campaign_record.record_campaign`); the running bot's sweep sends the invitations."""
        forgotten = await self.pseudonyms.erased_among(campaign.platform, campaign.workspace, people.users)
        return await record_campaign(self._store, campaign, people, self.clock.now(), forgotten)

    async def close_study(self, study_id: str) -> int:
        """The study closed: pending invitations expire and reminders stop; returns how many expired."""
        return await self._store.expire_invitations(study_id, self.clock.now())
