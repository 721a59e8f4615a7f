"""The built-in server's analysis of a finished interview: themes, insights, quality score, structured answers.

Keyword-based, deterministic, and shaped like Koji's documented payload (``structured_answers`` items use
``questionId, questionText, questionType, structuredValue, qualitativeAnswer, confidence, followUpInsights``).
"""

from __future__ import annotations

import re
from typing import Any

from bot.api.models import QuestionType
from bot.emulator.brief import Brief, mentions
from bot.emulator.engine import EngineState, RecordedAnswer


def _quote(text: str, limit: int = 160) -> str:
    clean = " ".join(text.split())
    return clean if len(clean) <= limit else clean[: limit - 1].rsplit(" ", 1)[0] + "…"


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def quality_score(state: EngineState, brief: Brief, respondent_texts: list[str]) -> int:
    """1–5: how much of the brief was answered, and how much the respondent said per message."""
    if not respondent_texts:
        return 1
    answered = sum(1 for a in state.answers.values() if a.via != "comment") / len(brief.questions)
    words = sum(len(t.split()) for t in respondent_texts) / len(respondent_texts)
    score = 1 + round(2 * answered + min(2.0, words / 10))
    return max(1, min(5, score))


def _insight(brief: Brief, question_id: str, answer: RecordedAnswer) -> str | None:
    question = brief.by_id.get(question_id)
    if question is None or answer.value is None:
        return None
    value = answer.value
    match question.type:
        case QuestionType.SCALE:
            return f"Rated “{question.text}” {value} out of {question.scale_max}."
        case QuestionType.YES_NO:
            return f"Answered {'yes' if value else 'no'} to “{question.text}”."
        case QuestionType.RANKING if isinstance(value, list) and value:
            return f"Ranked “{value[0]}” as the top priority."
        case QuestionType.MULTIPLE_CHOICE if isinstance(value, list):
            return f"Used: {', '.join(value)}."
        case QuestionType.SINGLE_CHOICE:
            return f"Chose “{value}” for “{question.text}”."
    texts = [answer.text, *(reply for _, reply in answer.follow_ups)]
    longest = max(texts, key=len)
    return f"Said: “{_quote(longest, 120)}”" if longest.strip() else None


def analyze(brief: Brief, state: EngineState, respondent_texts: list[str]) -> dict[str, Any]:
    """The ``analysis`` object of ``GET /interviews/:id`` once ``analysis_status`` is ``completed``."""
    themes: list[dict[str, Any]] = []
    for theme in brief.themes:
        hits = [t for t in respondent_texts if mentions(t, theme.keywords)]
        if hits:
            quote = next((s for t in hits for s in _sentences(t) if mentions(s, theme.keywords)), hits[0])
            themes.append({"name": theme.name, "mentions": len(hits), "quotes": [_quote(quote)]})
    themes.sort(key=lambda t: -int(t["mentions"]))
    insights = [i for qid, a in state.answers.items() if (i := _insight(brief, qid, a))]
    structured: list[dict[str, Any]] = []
    for question in brief.questions:
        answer = state.answers.get(question.id)
        if answer is None:
            continue
        structured.append(
            {
                "questionId": question.id,
                "questionText": question.text,
                "questionType": str(question.type),
                "structuredValue": answer.value if question.type is not QuestionType.OPEN_ENDED else None,
                "qualitativeAnswer": " ".join([answer.text, *(reply for _, reply in answer.follow_ups)]).strip(),
                "confidence": {"widget": 1.0, "text": 0.8}.get(answer.via, 0.3),
                "followUpInsights": [_quote(reply, 200) for _, reply in answer.follow_ups if reply.strip()],
            }
        )
    score = quality_score(state, brief, respondent_texts)
    summary = f"{len(state.answers)} of {len(brief.questions)} questions answered" + (
        f"; main theme: {themes[0]['name']}." if themes else "."
    )
    return {
        "summary": summary,
        "themes": themes,
        "insights": insights,
        "quality_score": score,
        "structured_answers": structured,
        "counts_toward_credits": score >= 3,
    }
