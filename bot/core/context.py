"""What the parts of the core share: the API client, storage, settings, clock and adapters."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.api.client import InterviewClient
from bot.core.clock import Clock
from bot.core.coordination import Coordination, SingleInstance
from bot.core.hooks import Hooks
from bot.core.keys import ConversationKey
from bot.core.locks import KeyedLocks
from bot.core.observe import Observer
from bot.core.policy import BridgeConfig
from bot.core.ports import Adapter, RespondentUnreachable
from bot.core.pseudonyms import Pseudonyms
from bot.core.store import InterviewRecord, Store, TurnLease
from bot.core.studies import Study, StudyBook

log = logging.getLogger("bot.core")
T = TypeVar("T")

UNREACHABLE = "unreachable"


@dataclass
class CoreContext:
    """Shared by the bridge, the turn runner and the lifecycle."""

    client: InterviewClient
    store: Store
    config: BridgeConfig
    clock: Clock
    studies: StudyBook
    adapters: dict[str, Adapter] = field(default_factory=dict)
    #: How this instance shares the database with others (a single instance by default).
    coordination: Coordination = field(default_factory=SingleInstance)
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    observer: Observer = field(default_factory=Observer)
    hooks: Hooks = field(default_factory=Hooks)
    #: The API client of each study by id (studies on one API key share one client); others use ``client``.
    clients: dict[str, InterviewClient] = field(default_factory=dict)
    _pseudonyms: Pseudonyms | None = field(default=None, repr=False)

    @property
    def pseudonyms(self) -> Pseudonyms:
        """Pseudonyms of respondents (anonymous studies, the erasure log) from the install's secret."""
        if self._pseudonyms is None:
            self._pseudonyms = Pseudonyms(self.store)
        return self._pseudonyms

    def share(self, coordination: Coordination | None) -> None:
        """Work with the other instances through ``coordination`` (None: this is the only instance)."""
        if coordination is not None:
            self.coordination = coordination
        self.locks = KeyedLocks(coordination.conversation if coordination is not None and coordination.shared else None)

    def turn_lease(self) -> TurnLease | None:
        """The lease this instance puts on a turn it runs now (None when it is the only instance)."""
        if not self.coordination.shared:
            return None
        return TurnLease(self.coordination.instance, self.clock.now() + self.config.turn_lease)

    def client_for(self, study: str | None) -> InterviewClient:
        """The API client that runs ``study``'s interviews."""
        return self.clients.get(study or "", self.client)

    def study_of(self, record: InterviewRecord) -> Study:
        """The study an interview belongs to."""
        return self.studies.of_record(record.study)

    def adapter(self, key: ConversationKey) -> Adapter:
        """The adapter serving ``key``'s platform."""
        try:
            return self.adapters[key.platform]
        except KeyError:
            raise LookupError(f"no adapter registered for platform {key.platform!r}") from None

    def set_deadlines(self, record: InterviewRecord) -> None:
        """The interviewer spoke: start the inactivity clock (nudge, then timeout)."""
        now = self.clock.now()
        record.last_activity_at = now
        record.expires_at = now + self.config.inactivity_timeout
        lead = self.config.nudge_lead()
        record.nudge_at = None if lead is None else record.expires_at - lead

    @staticmethod
    def clear_deadlines(record: InterviewRecord) -> None:
        """The respondent spoke (or the interview ended): no deadline runs."""
        record.nudge_at = None
        record.expires_at = None

    @staticmethod
    def unreachable(record: InterviewRecord) -> bool:
        """True once the platform said the respondent cannot be reached."""
        return bool(record.platform_state.get(UNREACHABLE))

    @staticmethod
    def study_label(record: InterviewRecord) -> str:
        """The study as a metrics label (``default`` when none is set)."""
        return record.study or "default"

    async def reach(self, record: InterviewRecord, call: Awaitable[T]) -> T | None:
        """Run an adapter call; if the respondent cannot be reached, record it and return None."""
        try:
            return await call
        except RespondentUnreachable as error:
            log.warning("respondent unreachable interview=%s: %s", record.interview_id, error)
            record.platform_state[UNREACHABLE] = True
            await self.store.update_interview(record)
            return None
