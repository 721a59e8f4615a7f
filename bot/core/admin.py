"""What admins do with a study: see its counts and digest (with charts), export it, pause, resume or close it.

Adapters say who is asking (:class:`AdminActor`); the studies file says who may (``admins``; on Discord,
Manage Server always may). The same anonymity rules as the results channel apply to the digest.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from statistics import median

from bot.core.cards import aggregate_card, duration_text, ending_text
from bot.core.charts import charts_for
from bot.core.choosing import StudyGate
from bot.core.context import CoreContext
from bot.core.export import export_csv
from bot.core.i18n import Catalogue, catalogue
from bot.core.invitations import CampaignCounts, InvitationState
from bot.core.ports import ResultsCard, ResultsFile
from bot.core.privacy_store import ConsentDecision
from bot.core.store import AnalysisStatus, RecordStatus
from bot.core.studies import Study, StudyState
from bot.core.summaries import tally

__all__ = ["AdminActor", "Digest", "StudyCounts", "StudyDesk"]


@dataclass(frozen=True, slots=True)
class AdminActor:
    """Who runs an admin command: platform user, their role/usergroup ids, Discord's Manage Server permission."""

    platform: str
    user: str
    groups: frozenset[str] = frozenset()
    manages_server: bool = False
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class StudyCounts:
    """Where a study stands."""

    started: int
    in_progress: int
    completed: int
    declined: int  # ended by the respondent before saying anything
    by_reason: dict[str, int]
    analysed: int
    median_duration: float | None
    state: StudyState
    invitations: CampaignCounts | None = None  # the study's invitees per state (None: nobody was invited)

    said_no: int = 0  # answered the consent text with "No thanks" (nothing was started)


@dataclass(frozen=True, slots=True)
class Digest:
    """What ``/interview results`` shows: a card and one chart per structured question (or why nothing yet)."""

    card: ResultsCard | None
    charts: tuple[ResultsFile, ...] = ()
    withheld: str | None = None


class StudyDesk:
    """Admin commands on studies, for the adapters."""

    def __init__(self, ctx: CoreContext, gate: StudyGate) -> None:
        self._ctx = ctx
        self._gate = gate

    def may_administer(self, actor: AdminActor) -> bool:
        """Whether ``actor`` may run admin commands."""
        return self._ctx.studies.admins.admits(
            actor.platform, actor.user, actor.groups, manages_server=actor.manages_server
        )

    def translations(self, actor: AdminActor) -> Catalogue:
        """The catalogue for the admin's language."""
        return catalogue(actor.locale or self._ctx.config.locale)

    def find(self, typed: str | None, tr: Catalogue) -> Study | str:
        """The study an admin named (the only one if there is one), or what to tell them."""
        if not typed:
            if len(self._ctx.studies.studies) == 1:
                return self._ctx.studies.default
            names = ", ".join(s.id for s in self._ctx.studies.studies)
            return tr.gettext("Which study? Studies: {names}.").format(names=names)
        study = self._gate.match(typed)
        if study is None:
            names = ", ".join(s.id for s in self._ctx.studies.studies)
            return tr.gettext("There is no study called “{study}”. Studies: {names}.").format(study=typed, names=names)
        return study

    async def counts(self, study: Study) -> StudyCounts:
        """Started, in progress, completed (by how), declined, analysed, median duration, run state."""
        records = await self._ctx.store.interviews_of_study(study.id)
        completed = [r for r in records if r.status is RecordStatus.COMPLETED]
        by_reason = Counter(r.completion_reason or "unknown" for r in completed)
        declined = sum(1 for r in completed if r.completion_reason == "respondent_left" and r.turns_sent == 0)
        durations = [r.completed_at - r.created_at for r in completed if r.completed_at and r.created_at]
        analyses = await self._ctx.store.analyses_of_study(study.id)
        analysed = sum(1 for a in analyses if a.status is AnalysisStatus.COMPLETED)
        state, _ = await self._gate.state(study)
        await self._ctx.store.settle_invitations(study.id, self._ctx.clock.now())
        invited = await self._ctx.store.invitation_counts(study.id)
        return StudyCounts(
            started=len(records),
            in_progress=len(records) - len(completed),
            completed=len(completed),
            declined=declined,
            by_reason=dict(by_reason),
            analysed=analysed,
            median_duration=median(durations) if durations else None,
            state=state,
            invitations=invited if invited.total else None,
            said_no=(await self._ctx.store.consent_counts(study.id)).get(ConsentDecision.DECLINED, 0),
        )

    def counts_card(self, study: Study, counts: StudyCounts, tr: Catalogue) -> ResultsCard:
        """The admin overview as a card."""
        states = {
            StudyState.OPEN: tr.gettext("open"),
            StudyState.PAUSED: tr.gettext("paused"),
            StudyState.CLOSED: tr.gettext("closed"),
        }
        fields = [
            (tr.gettext("State"), states[counts.state]),
            (tr.gettext("Started"), str(counts.started)),
            (tr.gettext("In progress"), str(counts.in_progress)),
            (tr.gettext("Completed"), str(counts.completed)),
            (tr.gettext("Declined"), str(counts.declined)),
            (tr.gettext("Said no thanks to the consent text"), str(counts.said_no)),
            (tr.gettext("Analysed"), str(counts.analysed)),
        ]
        if counts.by_reason:
            reasons = ", ".join(f"{ending_text(r, tr)}: {n}" for r, n in sorted(counts.by_reason.items()))
            fields.append((tr.gettext("Completed by how they ended"), reasons))
        if counts.median_duration is not None:
            fields.append((tr.gettext("Median duration"), duration_text(counts.median_duration, tr)))
        if counts.invitations is not None:
            fields += invitation_fields(counts.invitations, tr)
        return ResultsCard(title=study.name, fields=tuple(fields), footer=study.id)

    async def digest(self, study: Study, tr: Catalogue) -> Digest:
        """Counts, theme frequencies and one chart per structured question; anonymous studies below the threshold
        show nothing."""
        analyses = [
            a.analysis
            for a in await self._ctx.store.analyses_of_study(study.id)
            if a.status is AnalysisStatus.COMPLETED and a.analysis is not None
        ]
        if study.anonymous and len(analyses) < study.min_responses:
            text = tr.gettext(
                "“{study}” is anonymous: results appear once {min} interviews are analysed ({n} so far)."
            ).format(study=study.name, min=study.min_responses, n=len(analyses))
            return Digest(None, withheld=text)
        summed = tally(analyses)
        counts = await self.counts(study)
        card = aggregate_card(study, summed, tr)
        overview = self.counts_card(study, counts, tr)
        merged = ResultsCard(card.title, overview.fields[1:] + card.fields, footer=card.footer)
        charts = await asyncio.to_thread(charts_for, list(summed.questions.values()), tr)  # CPU: off the loop
        return Digest(merged, tuple(charts))

    async def export(self, study: Study) -> ResultsFile:
        """The study's CSV export as a file."""
        text = await export_csv(self._ctx.store, study)
        return ResultsFile(f"{study.id}-interviews.csv", text.encode("utf-8"), study.name)

    async def set_state(self, study: Study, state: StudyState, tr: Catalogue) -> str:
        """Pause, resume or close a study; what to tell the admin."""
        await self._gate.set_state(study, state)
        if state is StudyState.CLOSED:  # pending invitations expire and reminders stop now
            await self._ctx.store.expire_invitations(study.id, self._ctx.clock.now())
        said = {
            StudyState.PAUSED: tr.gettext("“{study}” is paused: no new interviews; running ones can finish."),
            StudyState.OPEN: tr.gettext("“{study}” is open again."),
            StudyState.CLOSED: tr.gettext("“{study}” is closed: no new interviews."),
        }
        return said[state].format(study=study.name)


def invitation_fields(counts: CampaignCounts, tr: Catalogue) -> list[tuple[str, str]]:
    """The invitations' per-state counts and the response rate, for the admin overview."""
    names = {
        InvitationState.QUEUED: tr.gettext("queued"),
        InvitationState.INVITED: tr.gettext("invited"),
        InvitationState.REMINDED: tr.gettext("reminded"),
        InvitationState.STARTED: tr.gettext("started"),
        InvitationState.COMPLETED: tr.gettext("completed"),
        InvitationState.DECLINED: tr.gettext("declined"),
        InvitationState.OPTED_OUT: tr.gettext("opted out"),
        InvitationState.UNDELIVERABLE: tr.gettext("undeliverable"),
        InvitationState.EXPIRED: tr.gettext("expired"),
    }
    if counts.reminded_times:
        names[InvitationState.REMINDED] += f" ({counts.times()})"  # reminded (×1: 80, ×2: 40): 120
    states = ", ".join(
        f"{names[state]}: {counts.by_state[state]}" for state in InvitationState if state in counts.by_state
    )
    rate = tr.gettext("{percent}%").format(percent=round(counts.response_rate * 100))
    fields = [(tr.gettext("Invitations"), states), (tr.gettext("Response rate"), rate)]
    if counts.volunteers:
        fields.append((tr.gettext("Asked to be reminded"), str(counts.volunteers)))
    return fields
