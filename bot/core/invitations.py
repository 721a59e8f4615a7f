"""Invitations to a study: campaigns, each invitee's state, opt-outs, and the storage port they need.

Every timer lives in storage (``next_at``), never in memory: the sender asks for the due invitations with an
indexed query, like the inactivity sweep, so 10,000 queued invitees cost no timers and a restart loses nothing.
Every message to an invitee (the invitation, then each reminder) is sent exactly once even across a ``kill -9``:
its number is recorded in storage (``sending``) with a lease before the platform sends it, and confirmed after; an
attempt after a lapsed lease first asks the platform whether that message is in the DM already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

DAY = 86_400.0
DEFAULT_REMINDER_AFTER: tuple[float, ...] = (3 * DAY, 5 * DAY)
"""Default offsets of the reminders from the invitation: +3 days, then +5 days."""
DEFAULT_REMINDERS = 2


class InvitationState(StrEnum):
    """Where one invitee stands."""

    QUEUED = "queued"  # recorded, not yet sent
    INVITED = "invited"  # the invitation went out
    REMINDED = "reminded"  # at least one reminder went out (``reminders_sent`` says how many)
    STARTED = "started"  # an interview of the study began
    COMPLETED = "completed"  # an interview of the study was completed
    DECLINED = "declined"  # "Not now" with no reminders wanted
    OPTED_OUT = "opted_out"  # "Don't ask me again"
    UNDELIVERABLE = "undeliverable"  # the platform refused the DM (closed DMs, deactivated)
    EXPIRED = "expired"  # the study closed before they answered


PENDING_STATES: frozenset[InvitationState] = frozenset(
    {InvitationState.QUEUED, InvitationState.INVITED, InvitationState.REMINDED}
)
"""States that still wait for something to be sent (an invitation or a reminder)."""
REMINDABLE_STATES: frozenset[InvitationState] = frozenset(
    {InvitationState.INVITED, InvitationState.REMINDED, InvitationState.STARTED}
)
"""States whose people may get a reminder: not started, or started and not finished."""
RESPONDED_STATES: frozenset[InvitationState] = frozenset({InvitationState.STARTED, InvitationState.COMPLETED})


@dataclass(frozen=True, slots=True)
class Campaign:
    """One run of ``interview-bridge invite`` (or a Discord panel): who was asked, for which study."""

    campaign_id: str
    study: str
    platform: str
    workspace: str
    created_at: float
    reminders: int = DEFAULT_REMINDERS
    reminder_after: tuple[float, ...] = DEFAULT_REMINDER_AFTER
    audience: Mapping[str, object] = field(default_factory=dict)  # what the admin asked for (for the record)


@dataclass(frozen=True, slots=True)
class Invitation:
    """One person invited to one study (at most one per study, platform, workspace and person)."""

    id: int
    campaign_id: str
    study: str
    platform: str
    workspace: str
    user_id: str
    state: InvitationState
    reminders_sent: int
    next_at: float | None  # when something is due for this person (None: nothing)
    created_at: float
    updated_at: float
    opted_in: bool = False  # asked to be reminded (Discord's "Remind me later"): the only way on Discord
    sending: int | None = None  # the message being sent (0: the invitation, n: reminder n) until it is confirmed


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """How many invitees of a study are in each state, and the response rate."""

    study: str
    by_state: Mapping[InvitationState, int]
    volunteers: int = 0  # asked to be reminded (Discord's "Remind me later"), whatever their state now
    reminded_times: Mapping[int, int] = field(default_factory=dict)  # of the ``reminded``: how many after n reminders

    def times(self) -> str:
        """``×1: 80, ×2: 40``: the reminded by how many reminders they got ("" when nobody was reminded)."""
        return ", ".join(f"×{n}: {self.reminded_times[n]}" for n in sorted(self.reminded_times))

    @property
    def total(self) -> int:
        """Everyone recorded."""
        return sum(self.by_state.values())

    @property
    def reached(self) -> int:
        """People the invitation reached (everyone but the queued, the undeliverable and the expired unsent)."""
        return sum(n for state, n in self.by_state.items() if state not in (InvitationState.QUEUED,))

    @property
    def response_rate(self) -> float:
        """Started or completed, out of everyone who was sent something; 0.0 when nobody was."""
        sent = self.total - self.by_state.get(InvitationState.QUEUED, 0)
        sent -= self.by_state.get(InvitationState.UNDELIVERABLE, 0)
        if sent <= 0:
            return 0.0
        return sum(self.by_state.get(state, 0) for state in RESPONDED_STATES) / sent

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "study": self.study,
            "states": {state.value: self.by_state.get(state, 0) for state in InvitationState},
            "total": self.total,
            "volunteers": self.volunteers,
            "reminded_times": {str(n): self.reminded_times[n] for n in sorted(self.reminded_times)},
            "response_rate": round(self.response_rate, 4),
        }


class InvitationStore(Protocol):
    """What the invitations need from storage (implemented by both backends next to the Store port)."""

    async def create_campaign(self, campaign: Campaign) -> bool:
        """Record a campaign; False if its id exists (the same command run twice)."""
        ...

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        """A recorded campaign."""
        ...

    async def add_invitees(self, campaign: Campaign, users: Iterable[str], now: float) -> int:
        """Queue ``users`` for the campaign's study (due at ``now``); people already invited to the study are left
        alone. Returns how many were added."""
        ...

    async def due_invitations(self, now: float, limit: int = 100, platform: str | None = None) -> list[Invitation]:
        """Invitations (of ``platform``, if given) whose ``next_at`` is at or before ``now``, most overdue first
        (an index search)."""
        ...

    async def get_invitation(self, study: str, platform: str, workspace: str, user_id: str) -> Invitation | None:
        """One person's invitation to a study."""
        ...

    async def move_invitation(
        self,
        invitation_id: int,
        expected: Sequence[InvitationState],
        state: InvitationState,
        next_at: float | None,
        now: float,
        *,
        reminders_sent: int | None = None,
        opted_in: bool | None = None,
        expected_updated_at: float | None = None,
        sending: int | None = None,
    ) -> bool:
        """Atomically move an invitation still in one of ``expected`` states (and, if given, last updated at
        ``expected_updated_at``: nobody moved it since it was read); True for the one caller who did. The move
        sets ``sending`` (None: no message is in flight any more)."""
        ...

    async def claim_message(
        self, invitation_id: int, expected_updated_at: float, sending: int, until: float, now: float
    ) -> bool:
        """Record that message ``sending`` is about to go to the invitee, leased until ``until``: only if nobody moved
        the invitation since it was read, it is still pending, and the person has no interview of the study (who is
        in an interview or done is never reminded). True for the one caller who claimed it."""
        ...

    async def volunteer(self, campaign: Campaign, user_id: str, next_at: float, now: float) -> Invitation:
        """Store an opt-in to reminders (Discord's "Remind me later"): the invitation is created or, when pending,
        marked opted in with its next reminder at ``next_at``."""
        ...

    async def mark_undeliverable(self, campaign: Campaign, user_id: str, now: float) -> None:
        """The platform refused a DM the person asked for (Discord: DMs closed): their invitation is created or, when
        pending, moved to ``undeliverable`` with nothing more due."""

    async def invitation_counts(self, study: str) -> CampaignCounts:
        """Per-state counts of a study's invitees."""
        ...

    async def settle_invitations(self, study: str, now: float) -> int:
        """Bring invitees whose interview of the study started or completed to ``started``/``completed`` (the
        interviews table is the truth); returns how many changed."""
        ...

    async def expire_invitations(self, study: str, now: float) -> int:
        """The study closed: every pending invitation expires and nothing more is due; returns how many."""
        ...

    async def opt_out(self, platform: str, workspace: str, user_id: str, now: float) -> None:
        """Never invite this person again in this workspace (pending invitations become ``opted_out``)."""

    async def opt_in(self, platform: str, workspace: str, user_id: str) -> bool:
        """Take an opt-out back; False if there was none."""
        ...

    async def opted_out(self, platform: str, workspace: str, users: Iterable[str]) -> set[str]:
        """Which of ``users`` opted out in this workspace."""
        ...

    async def invitations_of(self, platform: str, user_id: str) -> list[Invitation]:
        """Every invitation of one person on the platform, in any workspace, oldest first (my-data, forget-me)."""
        ...

    async def opt_outs_of(self, platform: str, user_id: str) -> list[tuple[str, float]]:
        """The person's opt-outs on the platform: ``(workspace, when)`` each."""
        ...

    async def respondents_of_study(self, study: str, platform: str) -> set[str]:
        """Everyone who has an interview of the study on the platform (they are not invited again)."""
        ...
