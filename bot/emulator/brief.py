"""A research brief in YAML: the study, the interviewer's words, the questions and their follow-up rules."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.api.models import AnswerValue, Question

SAMPLE_BRIEF = Path(__file__).parent / "briefs" / "sample.yaml"


class Condition(BaseModel):
    """When a follow-up applies: every given test must hold (an empty condition never matches)."""

    model_config = ConfigDict(extra="forbid")

    contains: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()  # none of these may be mentioned ("welcome" but not "loud")
    short: int | None = None
    long: int | None = None
    value_at_most: float | None = None
    value_at_least: float | None = None
    value_in: tuple[str, ...] = ()
    value: bool | None = None
    other: bool | None = None
    always: bool = False

    def matches(self, text: str, value: AnswerValue | None, is_other: bool) -> bool:
        """Does the respondent's latest ``text`` (and the question's ``value``) satisfy this condition?"""
        tests: list[bool] = []
        words = len(text.split())
        if self.contains:
            tests.append(any(_keyword(k).search(text) for k in self.contains))
        if self.excludes and any(_keyword(k).search(text) for k in self.excludes):
            return False
        if self.short is not None:
            tests.append(words < self.short)
        if self.long is not None:
            tests.append(words >= self.long)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if self.value_at_most is not None:
            tests.append(number is not None and number <= self.value_at_most)
        if self.value_at_least is not None:
            tests.append(number is not None and number >= self.value_at_least)
        if self.value_in:
            chosen = value if isinstance(value, list) else [value] if isinstance(value, str) else []
            tests.append(any(c in self.value_in for c in chosen))
        if self.value is not None:
            tests.append(isinstance(value, bool) and value == self.value)
        if self.other is not None:
            tests.append(is_other == self.other)
        if self.always:
            tests.append(True)
        return bool(tests) and all(tests)


def _keyword(word: str) -> re.Pattern[str]:
    """``"confus*"`` matches any word starting with "confus"; otherwise the whole word or phrase."""
    stem = word.strip().lower()
    if stem.endswith("*"):
        return re.compile(r"\b" + re.escape(stem[:-1]), re.IGNORECASE)
    return re.compile(r"\b" + re.escape(stem) + r"\b", re.IGNORECASE)


def mentions(text: str, keywords: tuple[str, ...]) -> bool:
    """Whether ``text`` mentions any of ``keywords`` (same matching as ``contains``)."""
    return any(_keyword(k).search(text) for k in keywords)


class FollowUp(BaseModel):
    """One probing question, asked at most once, when ``when`` matches."""

    model_config = ConfigDict(extra="forbid")

    when: Condition
    ask: str


class BriefQuestion(Question):
    """A question of the brief: the API's ``Question`` plus its intro and follow-up rules (``max_follow_ups`` 0–3).

    The structured fields are inherited from ``bot.api.models.Question``, so the brief and the wire format
    cannot drift apart; a brief may not carry unknown keys (``extra="forbid"``).
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    intro: str | None = None
    max_follow_ups: int = Field(1, ge=0, le=3)
    follow_ups: tuple[FollowUp, ...] = ()

    @field_validator("text", "intro")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if value else value

    def as_question(self) -> Question:
        """The API's structured form of this question (only the fields ``Question`` defines)."""
        return Question.model_validate(self.model_dump(include=set(Question.model_fields)))


class Interviewer(BaseModel):
    """The interviewer's own words."""

    greeting: str = "Hi {name}! Thanks for taking the time to talk with us."
    closing: str = "That's everything — thank you, {name}!"
    acknowledgements: tuple[str, ...] = ("Thanks.",)
    not_understood: str = "Sorry, I didn't quite catch that."
    kept_as_comment: str = (
        "I couldn't read that as an answer to this question, so I've noted your words as a comment instead. "
        "Let's move on."
    )


class Theme(BaseModel):
    """A theme the analysis looks for in what respondents said."""

    name: str
    keywords: tuple[str, ...]


class Study(BaseModel):
    """Which study (project) this brief belongs to."""

    id: str = "study"
    title: str = "Study"
    language: str = "en"


class Brief(BaseModel):
    """A whole research brief."""

    model_config = ConfigDict(extra="ignore")

    study: Study = Field(default_factory=Study)
    interviewer: Interviewer = Field(default_factory=Interviewer)
    themes: tuple[Theme, ...] = ()
    questions: tuple[BriefQuestion, ...] = Field(min_length=1)

    @cached_property
    def by_id(self) -> dict[str, BriefQuestion]:
        """Questions by id."""
        return {q.id: q for q in self.questions}


def load_brief(path: Path | str | None = None) -> Brief:
    """Read a brief from YAML (the sample brief when ``path`` is ``None``); ``ValueError`` says what is wrong."""
    source = Path(path) if path is not None else SAMPLE_BRIEF
    try:
        data: Any = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the brief {source}: {exc}") from None
    try:
        return Brief.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"the brief {source} is not valid:\n{exc}") from None
