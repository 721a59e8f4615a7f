"""Invitations and reminders from storage with an injected clock: at most once, capped, at local working hours,
never to finishers, people in an interview, the opted out, nor after the study closes. Both backends."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from bot.core import ConversationKey, ManualClock
from bot.core.invitations import DAY, Campaign, Invitation, InvitationState
from bot.core.recruiting import Delivery, InvitationDesk, RecruitingStore, next_working_time
from bot.core.store import InterviewRecord, RecordStatus
from bot.core.studies import Study, StudyBook, StudyState

S = InvitationState
HOUR = 3600.0


@dataclass
class Platform:
    """The platform's side of the port: records what it was asked to send, knows time zones, refuses some DMs."""

    clock: ManualClock
    zones: dict[str, str] = field(default_factory=dict)
    closed_dms: set[str] = field(default_factory=set)
    sent: list[tuple[str, int, float]] = field(default_factory=list)

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        if invitation.user_id in self.closed_dms:
            return Delivery.UNDELIVERABLE
        self.sent.append((invitation.user_id, reminder, self.clock.now()))
        return Delivery.SENT

    async def time_zone(self, invitation: Invitation) -> str | None:
        return self.zones.get(invitation.user_id)

    async def already_sent(self, invitation: Invitation, study: Study, *, reminder: int) -> bool:
        return any(user == invitation.user_id and n == reminder for user, n, _ in self.sent)

    def of(self, user: str) -> list[tuple[int, float]]:
        return [(n, at) for u, n, at in self.sent if u == user]


async def queue(store: RecruitingStore, users: list[str], now: float, **fields: object) -> Campaign:
    values: dict[str, object] = {"platform": "slack", "workspace": "T1", "created_at": now}
    values.update(fields)
    campaign = Campaign(campaign_id="c1", study="onboarding", **values)  # type: ignore[arg-type]
    await store.create_campaign(campaign)
    await store.add_invitees(campaign, users, now)
    return campaign


async def run_days(desk: InvitationDesk, platform: Platform, clock: ManualClock, days: float) -> None:
    """Sweep every hour for ``days`` days, as the running bot would (it sweeps far more often)."""
    for _ in range(int(days * 24)):
        await desk.sweep(platform, "slack")
        clock.advance(HOUR)


async def test_everyone_is_invited_once_and_reminded_at_most_twice_at_their_working_hours(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["U1", "U2", "U3"], clock.now())
    platform = Platform(clock, zones={"U1": "Europe/Berlin", "U2": "America/Los_Angeles"})
    desk = InvitationDesk(store, book, clock)
    first = await desk.sweep(platform, "slack")
    assert first.invited == 3
    again = await desk.sweep(platform, "slack")
    assert again.invited == 0 and len(platform.sent) == 3  # nobody twice
    await run_days(desk, platform, clock, 20)
    for user, zone in (("U1", "Europe/Berlin"), ("U2", "America/Los_Angeles"), ("U3", "UTC")):
        steps = platform.of(user)
        assert [n for n, _ in steps] == [0, 1, 2], user
        for _, at in steps[1:]:
            there = dt.datetime.fromtimestamp(at, dt.UTC).astimezone(_zone(zone))
            assert there.weekday() < 5 and 10 <= there.hour < 17, (user, there)
        assert steps[1][1] - steps[0][1] >= 3 * DAY and steps[2][1] - steps[1][1] >= 5 * DAY
    counts = await store.invitation_counts("onboarding")
    assert counts.by_state == {S.REMINDED: 3}
    assert counts.reminded_times == {2: 3} and counts.as_dict()["reminded_times"] == {"2": 3}  # reminded ×2
    assert await store.due_invitations(clock.now() + 365 * DAY) == []  # the cap reached: no timer left


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


async def test_no_reminder_to_finishers_people_in_an_interview_or_the_opted_out(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["done", "busy", "gone", "quiet"], clock.now())
    platform = Platform(clock)
    desk = InvitationDesk(store, book, clock)
    await desk.sweep(platform, "slack")
    finished = _record("done", status=RecordStatus.COMPLETED)
    await store.create_interview(finished)
    await store.create_interview(_record("busy"))
    await desk.opt_out("slack", "T1", "gone")
    await run_days(desk, platform, clock, 20)
    assert [n for n, _ in platform.of("quiet")] == [0, 1, 2]
    for user in ("done", "busy", "gone"):
        assert [n for n, _ in platform.of(user)] == [0], user
    counts = (await store.invitation_counts("onboarding")).by_state
    assert counts == {S.COMPLETED: 1, S.STARTED: 1, S.OPTED_OUT: 1, S.REMINDED: 1}


def _record(user: str, status: RecordStatus = RecordStatus.ACTIVE) -> InterviewRecord:
    return InterviewRecord(
        key=ConversationKey("slack", "T1", f"D-{user}", user),
        interview_id=f"iv-{user}",
        session_token="secret",
        status=status,
        study="onboarding",
    )


async def test_nothing_after_the_study_closes(store: RecruitingStore, clock: ManualClock, book: StudyBook) -> None:
    await queue(store, ["U1", "U2"], clock.now())
    platform = Platform(clock)
    desk = InvitationDesk(store, book, clock)
    await desk.sweep(platform, "slack")
    study = book.get("onboarding")
    assert study is not None
    await desk.gate.set_state(study, StudyState.CLOSED)
    await run_days(desk, platform, clock, 20)
    assert [n for _, n, _ in platform.sent] == [0, 0]
    assert (await store.invitation_counts("onboarding")).by_state == {S.EXPIRED: 2}


async def test_closes_at_expires_queued_invitations_too(store: RecruitingStore, clock: ManualClock) -> None:
    closing = StudyBook((Study(id="onboarding", name="Onboarding", closes_at=clock.now() + DAY),), from_file=True)
    await queue(store, ["U1"], clock.now())
    platform = Platform(clock)
    desk = InvitationDesk(store, closing, clock)
    clock.advance(2 * DAY)
    report = await desk.sweep(platform, "slack")
    assert report.expired == 1 and platform.sent == []


async def test_a_closed_dm_marks_the_invitee_undeliverable(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["U1", "U2"], clock.now())
    platform = Platform(clock, closed_dms={"U2"})
    desk = InvitationDesk(store, book, clock)
    report = await desk.sweep(platform, "slack")
    assert report.invited == 1 and report.undeliverable == 1
    await run_days(desk, platform, clock, 20)
    assert platform.of("U2") == []
    assert (await store.invitation_counts("onboarding")).by_state == {S.REMINDED: 1, S.UNDELIVERABLE: 1}


async def test_a_campaign_without_reminders_sends_the_invitation_only(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["U1"], clock.now(), reminders=0)
    platform = Platform(clock)
    desk = InvitationDesk(store, book, clock)
    await run_days(desk, platform, clock, 20)
    assert platform.of("U1") == [(0, platform.sent[0][2])]


def test_working_hours_are_the_recipients() -> None:
    friday_evening_berlin = dt.datetime(2027, 1, 8, 18, 30, tzinfo=_zone("Europe/Berlin")).timestamp()
    monday_ten = dt.datetime(2027, 1, 11, 10, 0, tzinfo=_zone("Europe/Berlin")).timestamp()
    assert next_working_time(friday_evening_berlin, "Europe/Berlin") == monday_ten
    tuesday_noon_tokyo = dt.datetime(2027, 1, 5, 12, 0, tzinfo=_zone("Asia/Tokyo")).timestamp()
    assert next_working_time(tuesday_noon_tokyo, "Asia/Tokyo") == tuesday_noon_tokyo
    early = dt.datetime(2027, 1, 5, 7, 0, tzinfo=dt.UTC).timestamp()
    assert next_working_time(early, "Not/AZone") == dt.datetime(2027, 1, 5, 10, 0, tzinfo=dt.UTC).timestamp()


@dataclass
class Flaky(Platform):
    """Sends, then 'dies' before the claim is confirmed (the first time), or fails to send (outage)."""

    die_after_send: set[str] = field(default_factory=set)
    outage: set[str] = field(default_factory=set)

    async def send_invitation(self, invitation: Invitation, study: Study, *, reminder: int) -> Delivery:
        if invitation.user_id in self.outage:
            self.outage.discard(invitation.user_id)
            return Delivery.FAILED
        delivered = await super().send_invitation(invitation, study, reminder=reminder)
        if invitation.user_id in self.die_after_send:
            self.die_after_send.discard(invitation.user_id)
            raise SystemExit("killed between sending and confirming")
        return delivered


async def test_an_attempt_cut_short_is_never_sent_twice_and_an_outage_is_tried_again(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["cut", "down"], clock.now(), reminders=0)
    platform = Flaky(clock, die_after_send={"cut"}, outage={"down"})
    desk = InvitationDesk(store, book, clock, send_lease=60.0)
    for _ in range(3):
        with contextlib.suppress(SystemExit):
            await desk.sweep(platform, "slack")
    assert [n for n, _ in platform.of("cut")] == [0] and platform.of("down") == []
    clock.advance(61.0)  # both claims lapse: "cut" is found in its DM, "down" is sent now
    await desk.sweep(platform, "slack")
    assert [n for n, _ in platform.of("cut")] == [0] and [n for n, _ in platform.of("down")] == [0]
    assert (await store.invitation_counts("onboarding")).by_state == {S.INVITED: 2}


async def test_a_reminder_cut_short_goes_once_and_one_that_failed_goes_after_all(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["cut", "down"], clock.now(), reminders=1, reminder_after=(DAY,))
    platform = Flaky(clock)
    desk = InvitationDesk(store, book, clock, send_lease=60.0)
    assert (await desk.sweep(platform, "slack")).invited == 2
    clock.advance(DAY + 2 * HOUR)  # Tuesday 10:00 UTC: both reminders due, within working hours
    platform.die_after_send, platform.outage = {"cut"}, {"down"}
    for _ in range(3):
        with contextlib.suppress(SystemExit):
            await desk.sweep(platform, "slack")
    assert [n for n, _ in platform.of("cut")] == [0, 1] and [n for n, _ in platform.of("down")] == [0]
    reminding = await store.get_invitation("onboarding", "slack", "T1", "down")
    assert reminding is not None and reminding.sending == 1 and reminding.reminders_sent == 0  # "reminding #1"
    clock.advance(61.0)  # both leases lapse: "cut" is found in its DM, "down" is reminded now
    await desk.sweep(platform, "slack")
    assert [n for n, _ in platform.of("cut")] == [0, 1] and [n for n, _ in platform.of("down")] == [0, 1]
    counts = await store.invitation_counts("onboarding")
    assert counts.by_state == {S.REMINDED: 2} and counts.times() == "×1: 2"
    clock.advance(30 * DAY)
    await desk.sweep(platform, "slack")
    assert len(platform.sent) == 4  # the cap: nothing more


async def test_someone_in_an_interview_of_another_study_hears_from_the_campaign_after_it(
    store: RecruitingStore, clock: ManualClock, book: StudyBook
) -> None:
    await queue(store, ["busy", "free"], clock.now(), reminders=1, reminder_after=(DAY,))
    platform = Platform(clock)
    desk = InvitationDesk(store, book, clock)
    pricing = _record("busy")
    pricing.study, pricing.interview_id = "pricing", "iv-pricing"
    await store.create_interview(pricing)  # in an interview of another study: not even invited now
    await desk.sweep(platform, "slack")
    assert platform.of("busy") == [] and [n for n, _ in platform.of("free")] == [0]
    pricing.status = RecordStatus.COMPLETED
    await store.update_interview(pricing)
    await run_days(desk, platform, clock, 3)
    assert [n for n, _ in platform.of("busy")] == [0, 1]  # once it is over: the invitation, then the reminder
    assert [n for n, _ in platform.of("free")] == [0, 1]
