"""Component clicks, selections and modal submits → the core's events, answered within Discord's 3 s.

Everything a click needs is in its custom id (see :mod:`ids`) plus the core's pending question, so clicks
work on messages written before a restart. The core decides staleness, ownership and double clicks; this
module shows its verdict: the question's components are replaced by the chosen value, or the clicker gets an
ephemeral explanation and nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord import components, ids, modals
from adapters.discord.adapter import DiscordAdapter, dm_key
from bot.api.models import AnswerValue, Question, QuestionType
from bot.core import (
    Action,
    Answer,
    Bridge,
    CancelExit,
    Catalogue,
    ConsentReply,
    ConversationKey,
    Exit,
    ForgetMe,
    InboundEvent,
    Outcome,
    OutcomeKind,
    RespondentInfo,
    Retry,
    Start,
    catalogue,
)

log = logging.getLogger(__name__)

#: How long to wait for the core before deferring an interaction (Discord allows 3 s for the first answer).
ANSWER_WITHIN = 1.5


def stale(tr: Catalogue) -> str:
    """For a click on a question that is no longer open."""
    return tr.gettext("This question is no longer open.")


def outdated(tr: Catalogue) -> str:
    """For a click nothing handles (a button of another version of the bot, or a malformed one)."""
    return tr.gettext("This button is no longer in use. Nothing changed.")


def unavailable(tr: Catalogue) -> str:
    """For a failure on the bot's side."""
    return tr.gettext("Something went wrong on our side. Please try again in a moment.")


def locale_of(interaction: discord.Interaction[Any]) -> str | None:
    """The member's Discord language (every interaction carries it)."""
    return interaction.locale.value if interaction.locale else None


def on_message_still(interaction: discord.Interaction[Any], custom_id: str) -> bool:
    """True if the interaction's message still carries a component with this custom id."""
    message = interaction.message
    if message is None:
        return False
    stack: list[Any] = list(message.components)
    while stack:
        component = stack.pop()
        if getattr(component, "custom_id", None) == custom_id:
            return True
        stack.extend(getattr(component, "children", []) or [])
    return False


def respondent_of(interaction: discord.Interaction[Any], **metadata: Any) -> RespondentInfo:
    """The respondent behind an interaction; its locale becomes the interview locale."""
    user = interaction.user
    meta: dict[str, Any] = {"platform": "discord", "discord_user": user.name, **metadata}
    groups = {str(role.id) for role in getattr(user, "roles", [])}  # a guild member's roles (who may take a study)
    if interaction.guild_id is not None:
        groups.add(str(interaction.guild_id))
    return RespondentInfo(
        external_id=str(user.id),
        display_name=user.global_name or user.name,
        locale=locale_of(interaction),
        metadata={k: v for k, v in meta.items() if v is not None},
        groups=frozenset(groups),
    )


class ComponentRouter:
    """Turns the adapter's component interactions into core events and shows the outcome."""

    def __init__(self, bridge: Bridge, adapter: DiscordAdapter) -> None:
        """Route to ``bridge``; ``adapter`` renders."""
        self.bridge = bridge
        self.adapter = adapter
        #: Seconds to wait for the core before deferring a click (tests shorten it; Discord allows 3 s).
        self.answer_within = ANSWER_WITHIN
        #: Called for a click on a moderator's "Start interview" button (set by the cog).
        self.on_start: Callable[[discord.Interaction[Any], str | None], Awaitable[object]] | None = None
        #: Called for a click on a panel's button (``ib:pt:…`` / ``ib:pl:…``; set by the panels).
        self.on_panel: Callable[[discord.Interaction[Any], ids.ComponentId], Awaitable[None]] | None = None
        #: The language when an interaction does not tell one (KOJI_LOCALE).
        self.default_locale: str | None = bridge.config.locale

    def tr(self, interaction: discord.Interaction[Any]) -> Catalogue:
        """The catalogue of the member behind ``interaction``."""
        return catalogue(locale_of(interaction) or self.default_locale)

    # --- plumbing ---

    async def _decide(
        self,
        interaction: discord.Interaction[Any],
        event: InboundEvent,
        on_done: Callable[[Outcome], Awaitable[None]],
        *,
        ephemeral_defer: bool = False,
    ) -> None:
        """Run ``event`` through the core; answer in time (deferring if the core is slow), then ``on_done``."""
        task = asyncio.ensure_future(self.bridge.handle(event))
        done, _ = await asyncio.wait({task}, timeout=self.answer_within)
        if not done and not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral_defer, thinking=ephemeral_defer)
        await on_done(await task)  # the core answers every event; it never raises a platform's error

    @staticmethod
    async def tell(interaction: discord.Interaction[Any], text: str) -> None:
        """An ephemeral message to the clicker, whether or not the interaction was answered yet."""
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    @staticmethod
    async def replace_view(interaction: discord.Interaction[Any], view: discord.ui.View | None) -> None:
        """Replace the components of the clicked message."""
        if interaction.response.is_done():
            await interaction.edit_original_response(view=view)
        else:
            await interaction.response.edit_message(view=view)

    async def _pending(self, key: ConversationKey, ref: ids.QuestionRef) -> tuple[str, str, Question | None]:
        """The (interview id, question id) a ref names, and the question if it is the one pending."""
        interview_id, question_id = ref.interview_id, ref.question_id
        if ref.digest is not None:
            record = await self.bridge.status(key)
            interview_id = record.interview_id if record is not None else "?"
            question_id = "~" + ref.digest
        pending = await self.bridge.pending_in(interview_id) if interview_id else None
        if pending is None or not ref.matches(interview_id, pending.question.id):
            return interview_id, question_id, None
        return interview_id, pending.question.id, pending.question

    # --- entry point ---

    async def on_component(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """Handle a click or a selection on one of the adapter's components; every click gets an answer."""
        try:
            await self._route(interaction, custom_id)
        finally:
            await self._answer_if_unanswered(interaction)

    async def _answer_if_unanswered(self, interaction: discord.Interaction[Any]) -> None:
        """Discord shows "This interaction failed" for a click left unanswered: explain instead."""
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(outdated(self.tr(interaction)), ephemeral=True)
            except discord.HTTPException as error:  # e.g. a replayed interaction another handler answered
                log.info("discord: interaction not answered", extra={"code": error.code})

    async def _route(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        parsed = ids.parse(custom_id)
        if parsed is None or parsed.kind == "d" or interaction.channel_id is None:
            return
        key = dm_key(interaction.channel_id, interaction.user.id)
        event_id = str(interaction.id)
        actor = str(interaction.user.id)
        locale = locale_of(interaction)
        if parsed.kind == "go":  # a Start button carries its study; the studies select carries the pick
            picked_data: dict[str, Any] = dict(interaction.data or {})
            picked = [str(v) for v in picked_data.get("values") or []]
            if self.on_start is not None:
                await self.on_start(interaction, parsed.args[0] or (picked[0] if picked else None))
            return
        if parsed.kind in ids.PANEL_KINDS:
            if self.on_panel is not None:
                await self.on_panel(interaction, parsed)
            return
        if parsed.kind == "x":
            await self._action(interaction, key, parsed.args[0], actor, event_id)
            return
        if parsed.ref is None:
            return
        interview_id, question_id, question = await self._pending(key, parsed.ref)
        data: dict[str, Any] = dict(interaction.data or {})
        values = [str(v) for v in data.get("values", [])]
        if parsed.kind in {"o", "mo", "m", "r", "rr"}:  # steps inside one question: no core event yet
            await self._step(interaction, parsed, interview_id, question, actor, values)
            return
        value = self._value(parsed, question, values)
        answer = Answer(key, actor, interview_id, question_id, value if value is not None else "", event_id, locale)
        await self._answer(interaction, answer)

    async def on_modal(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """Handle the submit of an "Other…" or checkbox modal (routed by custom id, so it survives restarts)."""
        parsed = ids.parse(custom_id)
        if parsed is None or parsed.kind not in ("om", "mm") or parsed.ref is None or interaction.channel_id is None:
            await self._answer_if_unanswered(interaction)
            return
        key = dm_key(interaction.channel_id, interaction.user.id)
        interview_id, question_id, question = await self._pending(key, parsed.ref)
        fields = modals.modal_values(interaction.data)
        value = self._modal_value(parsed.kind, question, fields)
        if value is None:
            await self.tell(interaction, self.tr(interaction).gettext("Please pick an option or type an answer."))
            return
        actor, event_id = str(interaction.user.id), str(interaction.id)
        answer = Answer(key, actor, interview_id, question_id, value, event_id, locale_of(interaction))
        await self._answer(interaction, answer)

    @staticmethod
    def _modal_value(kind: str, question: Question | None, fields: dict[str, str | list[str]]) -> AnswerValue | None:
        """The answer a modal submit means: typed text first, else the picked option(s); None for nothing.

        A question no longer pending still yields a value, so the core can say why it is not taken.
        """
        options = question.options if question is not None else ()
        if kind == "mm":
            picked = fields.get(modals.CHOICES_FIELD)
            indexes = sorted({int(v) for v in picked if v.isdigit()}) if isinstance(picked, list) else []
            return [options[i] for i in indexes if i < len(options)] if question is not None else []
        typed = fields.get(modals.OTHER_FIELD)
        if isinstance(typed, str) and typed.strip():
            return typed.strip()
        choice = fields.get(modals.CHOICE_FIELD)
        if isinstance(choice, str) and question is None:
            return choice  # not pending any more: the core says so
        if isinstance(choice, str) and choice.isdigit() and int(choice) < len(options):
            return options[int(choice)]
        return None

    # --- answers ---

    @staticmethod
    def _value(parsed: ids.ComponentId, question: Question | None, values: list[str]) -> AnswerValue | None:
        """The answer value a click means, or None when the question is not pending (the core says why)."""
        if question is None:
            return None
        options = question.options
        try:
            if parsed.kind == "a" and question.type is QuestionType.YES_NO:
                return parsed.args[0] == "y"
            if parsed.kind == "a" and question.type is QuestionType.SCALE:
                return int(parsed.args[0])
            if parsed.kind == "a":
                return options[int(parsed.args[0])]
            if parsed.kind == "s" and question.type is QuestionType.SCALE:
                return components.scale_values(question)[int(values[0])]
            if parsed.kind == "s":
                return options[int(values[0])]
            if parsed.kind == "ms":
                return [options[i] for i in sorted(ids.decode_mask(parsed.args[0])) if i < len(options)]
            if parsed.kind == "rs":
                return [options[i] for i in ids.decode_order(parsed.args[0]) if i < len(options)]
        except (IndexError, ValueError):
            return None
        return None

    async def _answer(self, interaction: discord.Interaction[Any], answer: Answer) -> None:
        async def done(outcome: Outcome) -> None:
            if outcome.kind is OutcomeKind.ACCEPTED:
                answered = outcome.message or self.tr(interaction).gettext("Answered")
                await self.replace_view(interaction, components.answered_view(answered))
            elif outcome.kind is not OutcomeKind.DUPLICATE:
                await self.tell(interaction, outcome.message or stale(self.tr(interaction)))

        await self._decide(interaction, answer, done)

    # --- steps inside a question (other → modal, multi-select, ranking) ---

    async def _step(
        self,
        interaction: discord.Interaction[Any],
        parsed: ids.ComponentId,
        interview_id: str,
        question: Question | None,
        actor: str,
        values: list[str],
    ) -> None:
        if question is None:
            await self.tell(interaction, stale(self.tr(interaction)))
            return
        verdict = await self.bridge.may_answer(actor, interview_id, question.id, locale_of(interaction))
        if not verdict.ok:  # someone else's question, or no longer open: the core says which
            await self.tell(interaction, verdict.message or stale(self.tr(interaction)))
            return
        pending = await self.bridge.pending_in(interview_id)
        locale = pending.locale if pending is not None else None  # the interview's language
        tr = catalogue(locale)
        if parsed.kind == "o":
            await interaction.response.send_modal(modals.other_modal(interview_id, question, locale))
        elif parsed.kind == "mo":
            await interaction.response.send_modal(modals.multiple_choice_modal(interview_id, question, locale))
        elif parsed.kind == "m":
            page, mask = int(parsed.args[0]), ids.decode_mask(parsed.args[1] if len(parsed.args) > 1 else "")
            on_page = set(range(page * components.SELECT_OPTION_LIMIT, (page + 1) * components.SELECT_OPTION_LIMIT))
            chosen = frozenset((mask - on_page) | {int(v) for v in values if v.isdigit()})
            await self.replace_view(interaction, components.multiple_choice_view(tr, interview_id, question, chosen))
        elif parsed.kind == "rr":
            await self.replace_view(interaction, components.ranking_view(tr, interview_id, question, ()))
        else:  # "r": a ranking pick (a button, or the select above 20 items)
            order = ids.decode_order(parsed.args[0])
            pick = values[0] if parsed.args[1] == "s" and values else parsed.args[1]
            new_order = (*order, int(pick)) if pick.isdigit() else order
            await self.replace_view(interaction, components.ranking_view(tr, interview_id, question, new_order))

    # --- actions (Retry, End, confirm/cancel exit, new interview) ---

    async def _action(
        self, interaction: discord.Interaction[Any], key: ConversationKey, name: str, actor: str, event_id: str
    ) -> None:
        try:
            action = Action(name)
        except ValueError:
            return
        event: InboundEvent
        locale = locale_of(interaction)
        if action is Action.RETRY:
            event = Retry(key, actor, event_id, locale)
        elif action is Action.END:
            event = Exit(key, confirmed=False, actor=actor, event_id=event_id, locale=locale)
        elif action is Action.CONFIRM_EXIT:
            event = Exit(key, confirmed=True, actor=actor, event_id=event_id, locale=locale)
        elif action is Action.CANCEL_EXIT:
            event = CancelExit(key, actor, event_id, locale)
        elif action in (Action.AGREE, Action.DECLINE):
            event = ConsentReply(key, action is Action.AGREE, actor, event_id, locale)
        elif action in (Action.FORGET, Action.KEEP):
            event = ForgetMe(
                key, confirmed=True, cancel=action is Action.KEEP, actor=actor, event_id=event_id, locale=locale
            )
        else:
            event = Start(key, respondent_of(interaction), event_id=event_id)

        async def done(outcome: Outcome) -> None:
            if outcome.kind is OutcomeKind.ACCEPTED and action is not Action.END:
                await self.replace_view(interaction, None)  # one-shot buttons go away once acted on
            elif not interaction.response.is_done() and outcome.kind is OutcomeKind.ACCEPTED:
                await interaction.response.defer()
            elif outcome.kind is not OutcomeKind.ACCEPTED and outcome.kind is not OutcomeKind.DUPLICATE:
                await self.tell(interaction, outcome.message or self.tr(interaction).gettext("Nothing to do."))
            elif not interaction.response.is_done():
                await interaction.response.defer()

        await self._decide(interaction, event, done)
