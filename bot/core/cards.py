"""The cards a results channel gets: one interview's summary, or a study's aggregates (anonymous studies)."""

from __future__ import annotations

from bot.core.i18n import Catalogue
from bot.core.ports import ResultsCard
from bot.core.store import InterviewRecord
from bot.core.studies import Study
from bot.core.summaries import QuestionTally, StudyTally, quality_of, quote_of, structured_answers, themes_of

__all__ = ["aggregate_card", "answer_text", "duration_text", "ending_text", "summary_card"]

#: Slack and Discord both cut long field values; keep each well inside their limits.
_FIELD_LIMIT = 900


def _clip(text: str, limit: int = _FIELD_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration_text(seconds: float, tr: Catalogue) -> str:
    """A duration for people: "45 s", "12 min", "1 h 5 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return tr.gettext("{n} s").format(n=seconds)
    minutes = round(seconds / 60)
    if minutes < 60:
        return tr.gettext("{n} min").format(n=minutes)
    return tr.gettext("{h} h {m} min").format(h=minutes // 60, m=minutes % 60)


def ending_text(reason: str | None, tr: Catalogue) -> str:
    """How an interview ended, for the team."""
    endings = {
        "natural": tr.gettext("completed"),
        "respondent_left": tr.gettext("the respondent ended it"),
        "timeout": tr.gettext("timed out"),
        "manual": tr.gettext("ended by the team"),
    }
    return endings.get(reason or "", reason or tr.gettext("unknown"))


def answer_text(value: object, tr: Catalogue) -> str:
    """A structured value as text: yes/no, a list joined, a number."""
    if isinstance(value, bool):
        return tr.gettext("yes") if value else tr.gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def summary_card(
    study: Study, record: InterviewRecord, analysis: dict[str, object] | None, tr: Catalogue
) -> ResultsCard:
    """One analysed interview; the respondent is named only in a study that is not anonymous."""
    name = None if study.anonymous else record.platform_state.get("respondent_name")
    if name:
        title = tr.gettext("{study}: interview with {name}").format(study=study.name, name=name)
    else:
        title = tr.gettext("{study}: an interview was analysed").format(study=study.name)
    fields: list[tuple[str, str]] = []
    quality = quality_of(analysis)
    if quality is not None:
        fields.append((tr.gettext("Quality"), tr.gettext("{score} / 5").format(score=f"{quality:g}")))
    themes = themes_of(analysis)
    if themes:
        fields.append((tr.gettext("Themes"), _clip(", ".join(themes[:8]))))
    for answer in structured_answers(analysis)[:15]:
        fields.append((_clip(answer.question, 200), _clip(answer_text(answer.value, tr))))
    if record.completed_at is not None and record.created_at:
        fields.append((tr.gettext("Duration"), duration_text(record.completed_at - record.created_at, tr)))
    fields.append((tr.gettext("Ended"), ending_text(record.completion_reason, tr)))
    quote = None if study.anonymous else quote_of(analysis)
    return ResultsCard(title=title, fields=tuple(fields), quote=quote, footer=record.interview_id)


def _question_line(question: QuestionTally, tr: Catalogue) -> str:
    if question.kind == "ranking":
        ranks = question.mean_ranks()
        return " · ".join(tr.gettext("{option}: {rank}").format(option=o, rank=tr.decimal(r)) for o, r in ranks.items())
    if question.kind == "scale":
        numbers = question.numbers()
        if numbers:
            average = sum(numbers) / len(numbers)
            return tr.gettext("mean {mean} (n={n})").format(mean=tr.decimal(average), n=len(numbers))
    counted = question.counts()
    return " · ".join(f"{option} {count}" for option, count in counted.most_common())


def aggregate_card(study: Study, summed: StudyTally, tr: Catalogue) -> ResultsCard:
    """A study's analysed interviews summed up: counts, mean quality, theme frequencies, answers per question."""
    title = tr.ngettext("{study}: {n} interview analysed", "{study}: {n} interviews analysed", summed.analysed).format(
        study=study.name, n=summed.analysed
    )
    fields: list[tuple[str, str]] = []
    if summed.mean_quality is not None:
        fields.append(
            (tr.gettext("Mean quality"), tr.gettext("{score} / 5").format(score=tr.decimal(summed.mean_quality)))
        )
    if summed.themes:
        themes = ", ".join(f"{name} ({count})" for name, count in summed.themes.most_common(10))
        fields.append((tr.gettext("Themes (interviews mentioning them)"), _clip(themes)))
    for question in list(summed.questions.values())[:15]:
        line = _question_line(question, tr)
        if line:
            fields.append((_clip(question.question, 200), _clip(line)))
    footer = tr.gettext("Aggregates only: this study is anonymous.") if study.anonymous else None
    return ResultsCard(title=title, fields=tuple(fields), footer=footer)
