"""One PNG chart per structured question (matplotlib, Agg backend), sized and lettered for a phone screen.

Drawing is CPU work: callers on the event loop run :func:`charts_for` in a worker thread.

- scale: a histogram of the values given;
- single and multiple choice: horizontal bars, one per option (how many interviews chose it);
- ranking: each option's mean rank (1 = ranked first), best first;
- yes/no: the split, with counts and shares.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from typing import Any

from bot.core.i18n import Catalogue
from bot.core.ports import ResultsFile
from bot.core.summaries import QuestionTally

__all__ = ["chart_for", "charts_for"]

#: 6 x 3.6 inches at 150 dpi: 900 x 540 px, readable on a phone without zooming.
_SIZE = (6.0, 3.6)
_DPI = 150
_COLOUR = "#4C6EF5"
_SECOND = "#F59F00"


def _figure() -> Any:
    """A figure on the Agg canvas, without pyplot's global state (so charts can be drawn in a worker thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _title(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 48)[:2])


def _label(text: str, width: int = 22) -> str:
    lines = textwrap.wrap(text, width) or [text]
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def _whole_counts(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _bars(ax: Any, labels: list[str], values: list[float], fmt: Callable[[float], str], colour: str = _COLOUR) -> None:
    positions = list(range(len(labels)))
    bars = ax.barh(positions, values, color=colour)
    ax.set_yticks(positions, [_label(label) for label in labels])
    ax.invert_yaxis()  # first option on top
    ax.bar_label(bars, labels=[fmt(v) for v in values], padding=3, fontsize=10)
    ax.set_xlim(0, max([*values, 1]) * 1.18)


def chart_for(question: QuestionTally, tr: Catalogue) -> bytes | None:
    """The PNG of one question's answers; None when it has nothing to draw."""
    fig = _figure()
    ax = fig.subplots()
    n = len(question.values)
    if question.kind == "scale":
        numbers = question.numbers()
        if not numbers:
            return None
        low, high = int(min(numbers)), int(max(numbers))
        values = list(range(min(low, 1), high + 1))
        counts = [sum(1 for x in numbers if int(x) == v) for v in values]
        bars = ax.bar([str(v) for v in values], counts, color=_COLOUR)
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], padding=2, fontsize=10)
        ax.set_xlabel(tr.gettext("Answer on the scale"))
        ax.set_ylabel(tr.gettext("Interviews"))
        ax.set_ylim(0, max([*counts, 1]) * 1.2)
        _whole_counts(ax.yaxis)
        mean = sum(numbers) / len(numbers)
        subtitle = tr.gettext("mean {mean}, n = {n}").format(mean=tr.decimal(mean), n=len(numbers))
    elif question.kind == "ranking":
        ranks = question.mean_ranks()
        if not ranks:
            return None
        _bars(ax, list(ranks), list(ranks.values()), tr.decimal)
        ax.set_xlabel(tr.gettext("Mean rank (1 = ranked first)"))
        subtitle = tr.gettext("n = {n}").format(n=n)
    elif question.kind == "yes_no":
        counted = question.counts()
        yes, no = counted.get("yes", 0), counted.get("no", 0)
        if yes + no == 0:
            return None
        labels = [tr.gettext("Yes"), tr.gettext("No")]
        shares = [f"{c} ({c / (yes + no):.0%})" for c in (yes, no)]
        bars = ax.barh([0, 1], [yes, no], color=[_COLOUR, _SECOND])
        ax.set_yticks([0, 1], labels)
        ax.invert_yaxis()
        ax.bar_label(bars, labels=shares, padding=3, fontsize=10)
        ax.set_xlim(0, max(yes, no, 1) * 1.3)
        ax.set_xlabel(tr.gettext("Interviews"))
        _whole_counts(ax.xaxis)
        subtitle = tr.gettext("n = {n}").format(n=yes + no)
    else:  # single and multiple choice
        counted = question.counts()
        if not counted:
            return None
        common = counted.most_common(12)
        _bars(ax, [option for option, _ in common], [float(c) for _, c in common], lambda v: str(int(v)))
        ax.set_xlabel(tr.gettext("Interviews choosing it"))
        _whole_counts(ax.xaxis)
        subtitle = tr.gettext("n = {n}").format(n=n)
        if len(counted) > len(common):  # say so when the rarest options are left out
            shown = tr.gettext("the {shown} most chosen of {total} options").format(
                shown=len(common), total=len(counted)
            )
            subtitle = f"{shown} · {subtitle}"
    ax.set_title(_title(question.question), fontsize=12, loc="left")
    ax.set_xlabel(f"{ax.get_xlabel()}\n{subtitle}")  # under the axis: never over a two-line title
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def charts_for(questions: list[QuestionTally], tr: Catalogue) -> list[ResultsFile]:
    """One PNG per structured question that has answers, named after the question's id."""
    files = []
    for number, question in enumerate(questions, start=1):
        png = chart_for(question, tr)
        if png is not None:
            safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in question.question_id)[:40] or str(number)
            files.append(ResultsFile(f"{number:02d}-{safe}.png", png, question.question))
    return files
