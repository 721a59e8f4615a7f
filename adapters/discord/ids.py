"""Custom ids of the adapter's components: everything a click needs travels in the id (≤ 100 chars).

A click must work after a bot restart with no memory of the message, so the custom id carries the
interview, the question and the state of the widget (the order so far of a ranking, the choices so far of
a multi-page multiple choice). Grammar::

    ib:<kind>:<ref>:<arg>...      kind: a (answer), o (other → modal), om (the modal), s (single-choice
                                  select), m (multiple-choice select), ms (multiple-choice submit),
                                  mo (multiple choice → checkbox modal), mm (that modal),
                                  r (ranking pick), rs (ranking submit), rr (ranking reset)
    ib:x:<action>                 a notice / reply action (Retry, End, confirm exit, ...)
    ib:go:<study>                 the moderator's persistent "Start interview" button
    ib:pt:<study>:<role>[:<tag>]  a panel's "Take the interview" (``role``: who may take it; empty: anyone;
                                  ``tag`` ``r<n>`` on reminder n's button, so a restarted sender finds it in the DM)
    ib:pl:<study>:<role>          a panel's "Remind me later"
    ib:d:<n>                      a disabled button that shows a given answer

``ref`` is ``<interview_id>|<question_id>`` when both are plain ids and fit, else ``~`` and a 12-character
digest of the pair, which the adapter resolves against the conversation's pending question.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

PREFIX = "ib"
MAX_CUSTOM_ID = 100
#: The ``template`` of the DynamicItem that receives every click on the adapter's components.
TEMPLATE = r"ib:(?P<kind>[a-z]+)(?::(?P<rest>.*))?"

_PLAIN = re.compile(r"[A-Za-z0-9_\-.]+")
#: Room kept after the ref for the widget state (masks, orders) in the longest ids.
_ARGS_ROOM = 40
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """Which question of which interview a component belongs to (``digest`` set when ids were too long)."""

    interview_id: str
    question_id: str
    digest: str | None = None

    def matches(self, interview_id: str, question_id: str) -> bool:
        """True if this ref names the given question (directly or by digest)."""
        if self.digest is not None:
            return self.digest == _digest(interview_id, question_id)
        return self.interview_id == interview_id and self.question_id == question_id


@dataclass(frozen=True, slots=True)
class ComponentId:
    """A parsed custom id."""

    kind: str
    ref: QuestionRef | None
    args: tuple[str, ...]


def _digest(interview_id: str, question_id: str) -> str:
    raw = hashlib.sha256(f"{interview_id}\0{question_id}".encode()).digest()
    return base64.b32encode(raw).decode("ascii")[:12].lower()


def encode_ref(interview_id: str, question_id: str) -> str:
    """The ``ref`` part for a question: readable when it fits, a digest otherwise."""
    plain = f"{interview_id}|{question_id}"
    if (
        _PLAIN.fullmatch(interview_id)
        and _PLAIN.fullmatch(question_id)
        and len(plain) <= MAX_CUSTOM_ID - len(PREFIX) - 5 - _ARGS_ROOM
    ):
        return plain
    return "~" + _digest(interview_id, question_id)


def parse_ref(text: str) -> QuestionRef:
    """The inverse of :func:`encode_ref` (a digest ref keeps empty ids and its digest)."""
    if text.startswith("~"):
        return QuestionRef("", "", digest=text[1:])
    interview_id, _, question_id = text.partition("|")
    return QuestionRef(interview_id, question_id)


def question_id(kind: str, interview_id: str, question_id_: str, *args: str) -> str:
    """A custom id for a question component; raises ValueError if it would exceed 100 characters."""
    custom_id = ":".join((PREFIX, kind, encode_ref(interview_id, question_id_), *args))
    if len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError(f"custom_id too long ({len(custom_id)} chars)")
    return custom_id


def action_id(action: str) -> str:
    """A custom id for a notice/reply action button."""
    return f"{PREFIX}:x:{action}"


def start_id(study: str | None) -> str:
    """A custom id for the persistent "Start interview" button of a study (or the default study)."""
    custom_id = f"{PREFIX}:go:{quote(study or '', safe='')}"
    if len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError("study name too long for a button")
    return custom_id


def panel_id(kind: str, study: str, role: str | None, tag: str = "") -> str:
    """A custom id for a panel's button (``kind`` ``pt``: take the interview, ``pl``: remind me later)."""
    custom_id = f"{PREFIX}:{kind}:{quote(study, safe='')}:{role or ''}" + (f":{tag}" if tag else "")
    if len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError("study name too long for a button")
    return custom_id


def display_id(n: int) -> str:
    """A custom id for a disabled button that only shows an answer."""
    return f"{PREFIX}:d:{n}"


#: A panel's buttons: take the interview, remind me later.
PANEL_KINDS = ("pt", "pl")
_QUESTION_KINDS = {"a", "o", "om", "s", "m", "ms", "mo", "mm", "r", "rs", "rr"}


def parse(custom_id: str) -> ComponentId | None:
    """Parse a custom id made by this module; None for anything else."""
    match = re.fullmatch(TEMPLATE, custom_id)
    if match is None:
        return None
    kind = match["kind"]
    rest = match["rest"] or ""
    if kind in _QUESTION_KINDS:
        ref_text, _, tail = rest.partition(":")
        if not ref_text:
            return None
        args = tuple(tail.split(":")) if tail or rest.count(":") else ()
        return ComponentId(kind, parse_ref(ref_text), args)
    if kind == "go":
        return ComponentId(kind, None, (unquote(rest),))
    if kind in PANEL_KINDS:
        study, _, role_and_tag = rest.partition(":")
        role, _, tag = role_and_tag.partition(":")
        return ComponentId(kind, None, (unquote(study), role, tag)) if study else None
    if kind in {"x", "d"}:
        return ComponentId(kind, None, (rest,))
    return None


# --- widget state carried in ids ---


def encode_mask(indexes: set[int] | frozenset[int]) -> str:
    """A set of option indexes as a hex bit mask (``0`` for none)."""
    mask = 0
    for i in indexes:
        mask |= 1 << i
    return format(mask, "x")


def decode_mask(text: str) -> frozenset[int]:
    """The inverse of :func:`encode_mask`; an unreadable mask is the empty set."""
    try:
        mask = int(text or "0", 16)
    except ValueError:
        return frozenset()
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def encode_order(order: list[int] | tuple[int, ...]) -> str:
    """A ranking order (option indexes, < 36) as one base-36 character each."""
    return "".join(_B36[i] for i in order)


def decode_order(text: str) -> tuple[int, ...]:
    """The inverse of :func:`encode_order`; unknown characters are dropped."""
    return tuple(_B36.index(c) for c in text if c in _B36)
