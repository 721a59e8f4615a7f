"""Reading an analysis and summing analyses up: themes, quality, structured answers per question.

Tolerant of shapes: the interview service's ``analysis`` object uses ``structured_answers`` (or
``structuredAnswers``) items with ``questionId, questionText, questionType, structuredValue``; themes are
objects with ``name`` (and ``quotes``) or plain strings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import mean, median
from typing import Any

__all__ = [
    "QuestionTally",
    "StructuredAnswer",
    "StudyTally",
    "quality_of",
    "quote_of",
    "structured_answers",
    "tally",
    "themes_of",
]


@dataclass(frozen=True, slots=True)
class StructuredAnswer:
    """One structured answer of one interview."""

    question_id: str
    question: str
    kind: str  # scale | single_choice | multiple_choice | ranking | yes_no | open_ended
    value: Any


def structured_answers(analysis: dict[str, Any] | None) -> list[StructuredAnswer]:
    """The structured answers of an analysis (open-ended ones and unanswered ones left out)."""
    items = (analysis or {}).get("structured_answers", (analysis or {}).get("structuredAnswers")) or []
    found = []
    for item in items:
        if not isinstance(item, dict) or item.get("structuredValue") is None:
            continue
        question_id = str(item.get("questionId") or item.get("question_id") or "")
        text = str(item.get("questionText") or item.get("question_text") or question_id)
        kind = str(item.get("questionType") or item.get("question_type") or "")
        found.append(StructuredAnswer(question_id, text, kind, item["structuredValue"]))
    return found


def themes_of(analysis: dict[str, Any] | None) -> list[str]:
    """Theme names, most mentioned first as the service sent them."""
    names = []
    for theme in (analysis or {}).get("themes") or []:
        name = theme.get("name") if isinstance(theme, dict) else theme
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def quality_of(analysis: dict[str, Any] | None) -> float | None:
    """The quality score, if the analysis has one."""
    score = (analysis or {}).get("quality_score", (analysis or {}).get("qualityScore"))
    return float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None


def quote_of(analysis: dict[str, Any] | None, limit: int = 160) -> str | None:
    """One short quote: a theme's quote, else the first open answer, cut at a word to ``limit`` characters."""
    candidates: list[str] = []
    for theme in (analysis or {}).get("themes") or []:
        if isinstance(theme, dict):
            candidates.extend(q for q in theme.get("quotes") or [] if isinstance(q, str))
    items = (analysis or {}).get("structured_answers", (analysis or {}).get("structuredAnswers")) or []
    candidates.extend(
        str(i.get("qualitativeAnswer")) for i in items if isinstance(i, dict) and i.get("qualitativeAnswer")
    )
    for text in candidates:
        clean = " ".join(text.split())
        if clean:
            return clean if len(clean) <= limit else clean[: limit - 1].rsplit(" ", 1)[0] + "…"
    return None


@dataclass
class QuestionTally:
    """Every answer given to one structured question across a study."""

    question_id: str
    question: str
    kind: str
    values: list[Any] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """How often each option was chosen (choices), each value given (scale) or yes/no."""
        counted: Counter[str] = Counter()
        for value in self.values:
            if self.kind == "ranking":
                continue
            if isinstance(value, list):
                counted.update(str(v) for v in value)
            elif isinstance(value, bool):
                counted["yes" if value else "no"] += 1
            else:
                counted[str(value)] += 1
        return counted

    def mean_ranks(self) -> dict[str, float]:
        """Ranking: each option's mean position (1 = first), lowest first."""
        positions: dict[str, list[int]] = {}
        for value in self.values:
            if isinstance(value, list):
                for place, option in enumerate(value, start=1):
                    positions.setdefault(str(option), []).append(place)
        ranks = {option: mean(places) for option, places in positions.items()}
        return dict(sorted(ranks.items(), key=lambda item: item[1]))

    def numbers(self) -> list[float]:
        """Scale: the numeric answers."""
        return [float(v) for v in self.values if isinstance(v, int | float) and not isinstance(v, bool)]


@dataclass
class StudyTally:
    """A study's analysed interviews summed up (no names, no quotes: safe for anonymous studies)."""

    analysed: int = 0
    qualities: list[float] = field(default_factory=list)
    themes: Counter[str] = field(default_factory=Counter)
    questions: dict[str, QuestionTally] = field(default_factory=dict)

    @property
    def mean_quality(self) -> float | None:
        """The mean quality score, if any interview had one."""
        return mean(self.qualities) if self.qualities else None

    @property
    def median_quality(self) -> float | None:
        """The median quality score."""
        return median(self.qualities) if self.qualities else None


def tally(analyses: list[dict[str, Any]]) -> StudyTally:
    """Sum up completed analyses."""
    summed = StudyTally()
    for analysis in analyses:
        summed.analysed += 1
        quality = quality_of(analysis)
        if quality is not None:
            summed.qualities.append(quality)
        summed.themes.update(set(themes_of(analysis)))  # a theme counts once per interview
        for answer in structured_answers(analysis):
            key = answer.question_id or answer.question
            question = summed.questions.setdefault(key, QuestionTally(key, answer.question, answer.kind))
            question.values.append(answer.value)
    return summed
