"""The built-in interviewer: walks a brief question by question, probing with follow-ups. No LLM.

Each respondent message gets a reply computed at once (so a cut stream can be recovered from the
transcript). A structured question accepts the structured ``answer`` or a typed reply ("4", "yes", an
option's name or number).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from bot.api.answers import validate_answer
from bot.api.models import AnswerValue, Question, QuestionType
from bot.api.typed_answers import read_answer
from bot.core.answer_hints import answer_hint
from bot.core.i18n import catalogue
from bot.emulator.brief import Brief, BriefQuestion

_MAX_NOT_UNDERSTOOD = 2


@dataclass
class RecordedAnswer:
    """What the respondent said to one question."""

    value: AnswerValue | None
    text: str
    via: str  # "widget" (structured answer), "text" (parsed from typed text) or "comment" (not parseable)
    follow_ups: list[tuple[str, str]] = field(default_factory=list)  # (follow-up asked, reply)


@dataclass
class EngineState:
    """Where one interview stands in its brief."""

    name: str = "there"
    index: int = 0
    probing: str | None = None  # the follow-up waiting for its reply
    follow_ups_used: int = 0
    used_rules: set[int] = field(default_factory=set)
    not_understood: int = 0
    turn: int = 0
    finished: bool = False
    answers: dict[str, RecordedAnswer] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """The interviewer's next message."""

    text: str
    question: Question | None = None
    finished: bool = False


class InterviewEngine:
    """Computes the interviewer's messages for interviews of one brief."""

    def __init__(self, brief: Brief) -> None:
        self.brief = brief

    def _fill(self, template: str, state: EngineState, **values: str) -> str:
        text = " ".join(template.split())
        for key, value in {"name": state.name, **values}.items():
            text = text.replace("{" + key + "}", value)
        return text

    def _ack(self, state: EngineState) -> str:
        acks = self.brief.interviewer.acknowledgements
        digest = hashlib.sha256(f"{state.name}:{state.turn}".encode()).digest()
        return acks[digest[0] % len(acks)] if acks else ""

    def _present(self, question: BriefQuestion, lead: str, *, intro: bool = True) -> Reply:
        parts = [p for p in (lead, question.intro if intro else None, question.text) if p]
        text = " ".join(parts)  # the options travel in the structured question: shown once, by the client
        structured = question.as_question() if question.type is not QuestionType.OPEN_ENDED else None
        return Reply(text, structured)

    def opening(self, state: EngineState, display_name: str | None) -> Reply:
        """The first message: greeting plus the first question."""
        state.name = (display_name or "").strip() or "there"
        greeting = self._fill(self.brief.interviewer.greeting, state)
        first = self._present(self.brief.questions[0], "")
        return Reply(f"{greeting}\n\n{first.text}", first.question)

    def current(self, state: EngineState) -> BriefQuestion | None:
        """The question being asked, or ``None`` at the end."""
        return None if state.finished else self.brief.questions[state.index]

    def respond(self, state: EngineState, text: str, answer: dict[str, Any] | None = None) -> Reply:
        """The reply to the respondent's ``text`` (and structured ``answer``, if one came)."""
        state.turn += 1
        question = self.current(state)
        if question is None:
            return Reply(self._fill(self.brief.interviewer.closing, state), finished=True)
        if state.probing is not None:
            recorded = state.answers[question.id]
            recorded.follow_ups.append((state.probing, text))
            state.probing = None
            return self._probe_or_advance(state, question, text, recorded)
        value, via, why = self._read_answer(question, text, answer)
        if value is None and question.type is not QuestionType.OPEN_ENDED:
            state.not_understood += 1
            if state.not_understood < _MAX_NOT_UNDERSTOOD:
                lead = " ".join(p for p in (self.brief.interviewer.not_understood, why) if p)
                return self._present(question, lead, intro=False)
            # two misses: keep the words as a comment, say so plainly, and move on (no "Got it")
            state.not_understood = 0
            state.answers[question.id] = RecordedAnswer(value=None, text=text, via="comment")
            return self._advance(state, lead=self._fill(self.brief.interviewer.kept_as_comment, state))
        state.not_understood = 0
        recorded = RecordedAnswer(value=value, text=text, via=via)
        state.answers[question.id] = recorded
        return self._probe_or_advance(state, question, text, recorded)

    def _read_answer(
        self, question: BriefQuestion, text: str, answer: dict[str, Any] | None
    ) -> tuple[AnswerValue | None, str, str | None]:
        """The value, how it came ("widget" or "text"), and why typed text could not be read (a hint)."""
        structured = question.as_question()
        if answer is not None and answer.get("question_id") in (None, question.id) and "value" in answer:
            try:
                return validate_answer(structured, answer["value"]), "widget", None
            except (ValueError, TypeError):
                pass
        if question.type is QuestionType.OPEN_ENDED:
            return text.strip(), "text", None
        reading = read_answer(structured, text)
        if reading.problem is not None:
            return None, "text", answer_hint(catalogue(self.brief.study.language), structured, reading)
        return reading.value, "text", None

    def _probe_or_advance(
        self, state: EngineState, question: BriefQuestion, latest: str, recorded: RecordedAnswer
    ) -> Reply:
        if state.follow_ups_used < question.max_follow_ups and recorded.via != "comment":
            is_other = (
                question.type is QuestionType.SINGLE_CHOICE
                and isinstance(recorded.value, str)
                and recorded.value not in question.options
            )
            for number, rule in enumerate(question.follow_ups):
                if number in state.used_rules or not rule.when.matches(latest, recorded.value, is_other):
                    continue
                state.used_rules.add(number)
                state.follow_ups_used += 1
                state.probing = self._fill(rule.ask, state, **_template_values(recorded, latest))
                return Reply(state.probing)
        return self._advance(state)

    def _advance(self, state: EngineState, lead: str | None = None) -> Reply:
        state.index += 1
        state.follow_ups_used = 0
        state.used_rules = set()
        ack = self._ack(state) if lead is None else lead
        if state.index >= len(self.brief.questions):
            state.finished = True
            closing = self._fill(self.brief.interviewer.closing, state)
            return Reply(closing, finished=True)
        return self._present(self.brief.questions[state.index], ack)

    def pending_question(self, state: EngineState) -> Question | None:
        """The structured question waiting for its answer (none while probing)."""
        question = self.current(state)
        if question is None or state.probing is not None or question.type is QuestionType.OPEN_ENDED:
            return None
        return question.as_question()


def _template_values(recorded: RecordedAnswer, latest: str) -> dict[str, str]:
    value = recorded.value
    if isinstance(value, list):
        shown = ", ".join(value)
        first, last = (value[0], value[-1]) if value else ("", "")
    elif isinstance(value, bool):
        shown, first, last = ("yes" if value else "no"), "", ""
    elif isinstance(value, float) and value.is_integer():
        shown = first = last = str(int(value))
    else:
        shown = first = last = "" if value is None else str(value)
    sentence = re.split(r"(?<=[.!?])\s", latest.strip(), maxsplit=1)[0]
    words = sentence.split()
    quote = " ".join(words[:10]).rstrip(".,;:!?") + ("…" if len(words) > 10 else "")
    return {"value": shown, "first": first, "last": last, "quote": quote}
