"""Structured questions and notices as Block Kit, and clicks back into answer values.

Identifiers carried by the message itself (so a click works after a restart):

* every block of a question has ``block_id = "ibq|<interview_id>|<question_id>|<part>"``;
* answer elements have ``action_id`` starting with ``ib:`` (``ib:yes``, ``ib:choice:3``, ``ib:multi``, …);
* notice buttons have ``action_id = "ib:act:<action>"`` (see :class:`bot.core.ports.Action`).

Option values are option indexes; the clicked question is read back from the store to map them to text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapters.slack.text import SECTION_LIMIT, split_text
from bot.api.models import AnswerValue, Question, QuestionType
from bot.core import Catalogue, PendingQuestion, catalogue

log = logging.getLogger("adapters.slack")

Block = dict[str, Any]

BLOCK_PREFIX = "ibq"
ACTION_PREFIX = "ib:"
NOTICE_ACTION_PREFIX = "ib:act:"
#: The action id of the select of open studies (a plain DM when several are open); its value is the study id.
STUDY_SELECT_ACTION = "ib:study"
#: Button texts and option texts are cut at 75 characters by Slack.
LABEL_LIMIT = 75
BUTTONS_MAX = 5  # single choice: up to this many options as buttons
RADIO_MAX = 10  # then radio buttons (Slack's limit for radio buttons and checkboxes)
SELECT_MAX = 100  # options per static select
SCALE_BUTTONS_MAX = 11  # scales up to 11 points (0-10) as buttons, wider ones as a select
GROUPS_MAX = 100  # option groups per select (each holds up to SELECT_MAX options)
#: Option text one message may carry in its selects (Slack refuses blocks holding ~13,000 characters of text
#: with msg_blocks_too_long; the question's text and hints need room too).
OPTIONS_TEXT_BUDGET = 10_000
#: Characters of all ``markdown`` blocks of one message together (Slack's limit is 12,000).
MARKDOWN_LIMIT = 12_000


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """Which question a block belongs to, parsed from its ``block_id``."""

    interview_id: str
    question_id: str
    part: str = ""

    def block_id(self, part: str) -> str:
        """The ``block_id`` of another part of the same question."""
        return "|".join((BLOCK_PREFIX, self.interview_id, self.question_id, part))

    @classmethod
    def parse(cls, block_id: str | None) -> QuestionRef | None:
        """The reference in ``block_id``, or None for a block that is not part of a question."""
        if not block_id or not block_id.startswith(BLOCK_PREFIX + "|"):
            return None
        parts = block_id.split("|", 3)
        if len(parts) < 3:
            return None
        return cls(parts[1], parts[2], parts[3] if len(parts) > 3 else "")


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for Slack mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def label(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` cut to Slack's label length (display only: values are indexes)."""
    text = text.strip() or "…"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> dict[str, Any]:
    """A ``plain_text`` text object."""
    return {"type": "plain_text", "text": label(text), "emoji": True}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def option(text: str, value: str) -> dict[str, Any]:
    """An option object for selects, radio buttons and checkboxes."""
    return {"text": plain(text), "value": value}


def text_sections(text: str, block_id: str | None = None) -> list[Block]:
    """``text`` as mrkdwn sections of at most 3,000 characters each (nothing lost)."""
    blocks: list[Block] = []
    for i, part in enumerate(split_text(text, SECTION_LIMIT)):
        if not part.strip():
            continue
        block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        if block_id:
            block["block_id"] = f"{block_id}{i}"
        blocks.append(block)
    return blocks


def markdown_blocks(text: str) -> list[Block]:
    """``text`` as ``markdown`` blocks (standard Markdown, rendered like streamed text); none for blank text."""
    if not text.strip():
        return []
    return [{"type": "markdown", "text": part} for part in split_text(text, MARKDOWN_LIMIT) if part.strip()]


def _context(ref: QuestionRef, part: str, text: str) -> Block:
    return {"type": "context", "block_id": ref.block_id(part), "elements": [{"type": "mrkdwn", "text": text}]}


def _select(action_id: str, placeholder: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": action_id, "placeholder": plain(placeholder), "options": options}


def _scale_elements(q: Question) -> list[dict[str, Any]]:
    points = list(range(q.scale_min, q.scale_max + 1))
    if len(points) <= SCALE_BUTTONS_MAX:
        return [button(str(n), f"ib:scale:{n}", str(n)) for n in points]
    chunks = [points[i : i + SELECT_MAX] for i in range(0, len(points), SELECT_MAX)]
    return [
        _select(f"ib:scale_select:{k}", f"{c[0]}–{c[-1]}", [option(str(n), str(n)) for n in c])
        for k, c in enumerate(chunks[:25])
    ]


def _single_elements(tr: Catalogue, q: Question) -> list[dict[str, Any]]:
    opts = list(q.options)
    elements: list[dict[str, Any]]
    if len(opts) <= BUTTONS_MAX:
        elements = [button(o, f"ib:choice:{i}", str(i)) for i, o in enumerate(opts)]
    elif len(opts) <= RADIO_MAX:
        elements = [
            {
                "type": "radio_buttons",
                "action_id": "ib:radio",
                "options": [option(o, str(i)) for i, o in enumerate(opts)],
            }
        ]
    else:
        elements = []
        for k in range(0, min(len(opts), SELECT_MAX * 20), SELECT_MAX):
            chunk = [option(o, str(k + j)) for j, o in enumerate(opts[k : k + SELECT_MAX])]
            title = (
                tr.gettext("Choose…")
                if len(opts) <= SELECT_MAX
                else tr.gettext("Options {first}–{last}").format(first=k + 1, last=k + len(chunk))
            )
            elements.append(_select(f"ib:select:{k // SELECT_MAX}", title, chunk))
    if q.allow_other:
        elements.append(button(tr.gettext("Other…"), "ib:other", "other"))
    return elements


def shown_options(q: Question) -> int:
    """How many of the question's options one message can offer (all, unless their text is too long together)."""
    total = 0
    for n, text in enumerate(q.options):
        total += len(label(text))
        if total > OPTIONS_TEXT_BUDGET or n >= GROUPS_MAX * SELECT_MAX:
            return n
    return len(q.options)


def _multi_elements(tr: Catalogue, q: Question) -> list[dict[str, Any]]:
    """Checkboxes up to 10 options; a multi-select beyond, its options in groups of 100 above 100."""
    opts = list(q.options)
    element: dict[str, Any]
    if len(opts) <= RADIO_MAX:
        element = {
            "type": "checkboxes",
            "action_id": "ib:multi",
            "options": [option(o, str(i)) for i, o in enumerate(opts)],
        }
    else:
        shown = opts[: shown_options(q)]
        element = {"type": "multi_static_select", "action_id": "ib:multi", "placeholder": plain(tr.gettext("Choose…"))}
        if len(shown) <= SELECT_MAX:
            element["options"] = [option(o, str(i)) for i, o in enumerate(shown)]
        else:
            element["option_groups"] = [
                {
                    "label": plain(f"{k + 1}–{min(k + SELECT_MAX, len(shown))}"),
                    "options": [option(o, str(k + j)) for j, o in enumerate(shown[k : k + SELECT_MAX])],
                }
                for k in range(0, len(shown), SELECT_MAX)
            ]
        if q.max_choices:
            element["max_selected_items"] = q.max_choices
    return [element, button(tr.gettext("Submit"), "ib:submit", "submit", style="primary")]


def missing_options_note(ref: QuestionRef, q: Question, locale: str | None) -> Block | None:
    """A note under a question whose options do not all fit in Slack (and a warning in the log), else None."""
    shown = shown_options(q)
    if q.type is not QuestionType.MULTIPLE_CHOICE or shown >= len(q.options):
        return None
    log.warning("slack: question %s has %d options; only the first %d fit in a message", q.id, len(q.options), shown)
    tr = catalogue(locale)
    text = tr.gettext(
        "Only the first {shown} of {total} options fit here. If yours is missing, type it in this thread."
    ).format(shown=shown, total=len(q.options))
    return _context(ref, "missing", escape(text))


def choice_hint(tr: Catalogue, q: Question) -> str | None:
    """The "pick 1–3" hint of a multiple-choice question, or None when any number goes."""
    low, high = max(q.min_choices, 0), q.max_choices
    if high is not None and high == low:
        return tr.gettext("Pick {count}, then Submit.").format(count=low)
    if high is not None:
        return tr.gettext("Pick {low}–{high}, then Submit.").format(low=low, high=high)
    if low > 1:
        return tr.gettext("Pick at least {count}, then Submit.").format(count=low)
    return tr.gettext("Pick any that apply, then Submit.")


def ranking_blocks(tr: Catalogue, ref: QuestionRef, q: Question, ranked: list[int]) -> list[Block]:
    """The ranking widget after ``ranked`` (option indexes, best first) were picked.

    Ranking has no native element: the respondent clicks the options in order of preference ("pick your
    #1", then #2…); the order so far lives in the ``block_id`` so each click is self-contained. Once all but
    one are placed the last one follows and Submit / Start over appear.
    """
    opts = list(q.options)
    order_part = "rank:" + ",".join(str(i) for i in ranked)
    blocks: list[Block] = []
    if ranked:
        lines = "\n".join(f"{n}. {escape(opts[i])}" for n, i in enumerate(ranked, 1))
        blocks.append(
            {
                "type": "section",
                "block_id": ref.block_id("ranked"),
                "text": {"type": "mrkdwn", "text": lines[:SECTION_LIMIT]},
            }
        )
    remaining = [i for i in range(len(opts)) if i not in ranked]
    if len(remaining) <= 1:
        order = ranked + remaining
        if not ranked and remaining:
            blocks.append(text_sections(escape(opts[remaining[0]]))[0])
        full = "rank:" + ",".join(str(i) for i in order)
        blocks.append(
            {
                "type": "actions",
                "block_id": ref.block_id(full),
                "elements": [
                    button(tr.gettext("Submit"), "ib:rank_submit", "submit", style="primary"),
                    button(tr.gettext("Start over"), "ib:rank_reset", "reset"),
                ],
            }
        )
        return blocks
    blocks.append(_context(ref, "rankhint", tr.gettext("Click your number {rank}:").format(rank=len(ranked) + 1)))
    elements = [button(opts[i], f"ib:rank:{i}", str(i)) for i in remaining[:24]]
    if ranked:
        elements.append(button(tr.gettext("Start over"), "ib:rank_reset", "reset"))
    blocks.append({"type": "actions", "block_id": ref.block_id(order_part), "elements": elements})
    return blocks


def question_blocks(pending: PendingQuestion, *, include_text: bool = True) -> list[Block]:
    """The Block Kit of a structured question (empty for an open-ended one)."""
    tr = catalogue(pending.locale)
    q = pending.question
    ref = QuestionRef(pending.interview_id, q.id)
    blocks: list[Block] = []
    if q.type is QuestionType.OPEN_ENDED:
        return blocks
    if include_text and q.text.strip():
        blocks.append(
            {
                "type": "section",
                "block_id": ref.block_id("text"),
                "text": {"type": "mrkdwn", "text": f"*{escape(q.text)}*"[:SECTION_LIMIT]},
            }
        )
    if q.type is QuestionType.YES_NO:
        elements = [
            button(tr.gettext("Yes"), "ib:yes", "true", style="primary"),
            button(tr.gettext("No"), "ib:no", "false"),
        ]
        blocks.append({"type": "actions", "block_id": ref.block_id("a"), "elements": elements})
    elif q.type is QuestionType.SCALE:
        blocks.append({"type": "actions", "block_id": ref.block_id("a"), "elements": _scale_elements(q)})
        if q.min_label or q.max_label:
            hint = " · ".join(
                f"{n} = {escape(t)}" for n, t in ((q.scale_min, q.min_label), (q.scale_max, q.max_label)) if t
            )
            blocks.append(_context(ref, "hint", hint))
    elif q.type is QuestionType.SINGLE_CHOICE:
        blocks.append({"type": "actions", "block_id": ref.block_id("a"), "elements": _single_elements(tr, q)})
    elif q.type is QuestionType.MULTIPLE_CHOICE:
        blocks.append({"type": "actions", "block_id": ref.block_id("a"), "elements": _multi_elements(tr, q)})
        choices = choice_hint(tr, q)
        if choices:
            blocks.append(_context(ref, "hint", choices))
        note = missing_options_note(ref, q, pending.locale)
        if note is not None:
            blocks.append(note)
    elif q.type is QuestionType.RANKING:
        blocks.extend(ranking_blocks(tr, ref, q, []))
    return blocks


def question_fallback_text(tr: Catalogue, q: Question) -> str:
    """A plain-text form of a question, for when its blocks cannot be posted: it can be answered by typing."""
    lines = [q.text]
    if q.type is QuestionType.YES_NO:
        lines.append(tr.gettext("(yes / no)"))
    elif q.type is QuestionType.SCALE:
        lines.append(f"({q.scale_min}–{q.scale_max})")
    else:
        lines.extend(f"{n}. {o}" for n, o in enumerate(q.options, 1))
    return "\n".join(line for line in lines if line)


def answer_summary(tr: Catalogue, q: Question, value: AnswerValue) -> str:
    """What replaces the actions after an answer: "You chose …" (mrkdwn)."""
    if isinstance(value, bool):
        shown = tr.gettext("Yes") if value else tr.gettext("No")
    elif isinstance(value, list):
        if q.type is QuestionType.RANKING:
            ranking = ", ".join(
                tr.gettext("{rank}. {option}").format(rank=n, option=f"*{escape(v)}*") for n, v in enumerate(value, 1)
            )
            return tr.gettext("You ranked: {ranking}").format(ranking=ranking)
        if not value:
            return tr.gettext("You chose nothing")
        return tr.gettext("You chose: {answer}").format(answer=f"*{escape(', '.join(value))}*")
    else:
        shown = str(value)
    return tr.gettext("You chose {answer}").format(answer=f"*{escape(shown)}*")


def answered_blocks(ref: QuestionRef, summary: str) -> list[Block]:
    """The context block that replaces a question's blocks once it is answered."""
    return [_context(ref, "done", f"✅ {summary}")]


def replace_question(blocks: list[Block], ref: QuestionRef, new: list[Block]) -> list[Block]:
    """``blocks`` with those of question ``ref`` (except its text) replaced by ``new`` (at the first one's place)."""
    out: list[Block] = []
    placed = False
    for block in blocks:
        other = QuestionRef.parse(block.get("block_id"))
        if other and other.interview_id == ref.interview_id and other.question_id == ref.question_id:
            if other.part == "text":
                out.append(block)
                continue
            if not placed:
                out.extend(new)
                placed = True
            continue
        out.append(block)
    if not placed:
        out.extend(new)
    return out
