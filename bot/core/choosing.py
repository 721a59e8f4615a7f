"""Which study a start means: the one asked for, the only one open, or a choice among several.

A study refuses politely when it is unknown, closed (by its ``closes_at`` or by an admin), paused, not open to
this person, or already taken by them (``once_per_respondent``). Every sentence goes through the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.clock import Clock
from bot.core.i18n import catalogue
from bot.core.keys import ConversationKey
from bot.core.privacy_store import ConsentDecision
from bot.core.store import Store
from bot.core.studies import Study, StudyBook, StudyState

__all__ = ["STATE_SCOPE", "Choice", "StudyGate"]

#: The storage scope of the studies' run state (``put_state(STATE_SCOPE, study_id, {...})``).
STATE_SCOPE = "study"


@dataclass(frozen=True, slots=True)
class Choice:
    """The gate's verdict: a study to start, a refusal to say, or several studies to choose from."""

    study: Study | None = None
    refusal: str | None = None
    options: tuple[Study, ...] = field(default=())


class StudyGate:
    """Decides which study a start is for (read-only: the caller holds the conversation's lock)."""

    def __init__(self, studies: StudyBook, store: Store, clock: Clock) -> None:
        self.studies = studies
        self._store = store
        self._clock = clock

    async def state(self, study: Study) -> tuple[StudyState, float | None]:
        """The study's run state and since when (``closes_at`` closes it by the clock)."""
        stored = await self._store.get_state(STATE_SCOPE, study.id)
        state = StudyState(stored["state"]) if stored else StudyState.OPEN
        since = float(stored["at"]) if stored and stored.get("at") is not None else None
        if state is not StudyState.CLOSED and study.closed_by_clock(self._clock.now()):
            return StudyState.CLOSED, study.closes_at
        return state, since

    async def set_state(self, study: Study, state: StudyState) -> None:
        """An admin paused, resumed or closed the study."""
        await self._store.put_state(STATE_SCOPE, study.id, {"state": state.value, "at": self._clock.now()})

    async def taken(self, study: Study, key: ConversationKey) -> bool:
        """Whether this person already has an interview in ``study`` on this platform."""
        records = await self._store.interviews_of_user(key.platform, key.user, limit=500)
        return any(record.study == study.id for record in records)

    async def declined(self, study: Study, key: ConversationKey) -> bool:
        """Whether this person said "No thanks" to ``study``'s consent text (they are not asked again)."""
        records = await self._store.consents_of(key.platform, key.workspace, key.user)
        return any(r.study == study.id and r.decision is ConsentDecision.DECLINED for r in records)

    async def refusal(
        self, study: Study, key: ConversationKey, groups: frozenset[str], locale: str | None
    ) -> str | None:
        """Why this person cannot start ``study`` now (None: they can)."""
        tr = catalogue(locale)
        state, since = await self.state(study)
        if state is StudyState.CLOSED:
            if since is None:
                return tr.gettext("“{study}” is closed — thank you for your interest!").format(study=study.name)
            when = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M UTC")
            return tr.gettext("“{study}” closed on {when} — thank you for your interest!").format(
                study=study.name, when=when
            )
        if state is StudyState.PAUSED:
            return tr.gettext("“{study}” is paused and takes no new interviews right now — try again later.").format(
                study=study.name
            )
        if not study.audience.admits(key.platform, key.workspace, groups):
            return tr.gettext("“{study}” isn't open to you — it is for a different group.").format(study=study.name)
        if await self.declined(study, key):
            return tr.gettext("You chose not to take part in “{study}”, so you won't be asked about it again.").format(
                study=study.name
            )
        if study.once_per_respondent and await self.taken(study, key):
            return tr.gettext(
                "You've already taken part in “{study}” — thank you! Each person takes part once."
            ).format(study=study.name)
        return None

    def match(self, typed: str) -> Study | None:
        """The study ``typed`` names: its id, or the start of exactly one id (Slack's text argument)."""
        word = typed.strip().lower()
        exact = self.studies.get(word)
        if exact is not None or not word:
            return exact
        starting = [study for study in self.studies.studies if study.id.startswith(word)]
        return starting[0] if len(starting) == 1 else None

    async def choose(
        self, key: ConversationKey, requested: str | None, groups: frozenset[str], locale: str | None
    ) -> Choice:
        """The study a start for ``requested`` (None: whichever fits) means for this person."""
        tr = catalogue(locale)
        if requested:
            study = self.match(requested)
            if study is None:
                names = ", ".join(s.id for s in self.studies.studies)
                return Choice(
                    refusal=tr.gettext("There is no study called “{study}”. Studies: {names}.").format(
                        study=requested, names=names
                    )
                )
            refusal = await self.refusal(study, key, groups, locale)
            return Choice(study=None if refusal else study, refusal=refusal)
        if len(self.studies.studies) == 1:
            study = self.studies.default
            refusal = await self.refusal(study, key, groups, locale)
            return Choice(study=None if refusal else study, refusal=refusal)
        open_to_them = [s for s in self.studies.studies if await self.refusal(s, key, groups, locale) is None]
        if len(open_to_them) == 1:
            return Choice(study=open_to_them[0])
        if not open_to_them:
            return Choice(refusal=tr.gettext("There's no study open for you right now — thank you for your interest!"))
        return Choice(options=tuple(open_to_them))
