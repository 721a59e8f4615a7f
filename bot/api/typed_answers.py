"""Typed replies to structured questions, read the way a person writes them.

One parser for every place that reads typed answers: the core (Discord, Slack and the terminal hand it the
respondent's text) and the built-in interview server. It reads what is unambiguous — "4", "four", "4 out of 5",
"the second one", "both 1 and 3", option names or unambiguous parts of them, "buddy, channel list, events,
roles" — and reports a :class:`Problem` where a reply looks like an answer but cannot be read without
guessing ("1,3" on a scale, a part that names two options, an incomplete ranking). It never keeps part of an
answer silently: a reply either reads whole or comes back with a problem. Text that names nothing at all is
not an answer (``Reading()``): it may be a comment or a question for the interviewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from bot.api.models import AnswerValue, Question, QuestionType

__all__ = ["Problem", "Reading", "read_answer"]


class Problem(StrEnum):
    """Why a reply that looks like an answer was not read (the caller asks again with a hint)."""

    SEVERAL_NUMBERS = "several_numbers"  # "1,3" or "3 or 4" on a scale
    OUT_OF_RANGE = "out_of_range"  # 7 on a 1–5 scale, option 9 of 5
    OTHER_SCALE = "other_scale"  # "8 out of 10" on a 1–5 scale
    ONE_ONLY = "one_only"  # two options for a single choice
    UNCLEAR_PART = "unclear_part"  # a part that names no option, or several
    TOO_MANY = "too_many"
    TOO_FEW = "too_few"
    RANK_ALL = "rank_all"  # a ranking that leaves options out
    REPEATED = "repeated"  # a ranking that names one option twice
    YES_AND_NO = "yes_and_no"


@dataclass(frozen=True, slots=True)
class Reading:
    """A typed reply read against its question: a value, a problem, or neither (not an answer)."""

    value: AnswerValue | None = None
    problem: Problem | None = None
    part: str | None = None  # the words (or the number) the problem is about
    read: tuple[str, ...] = ()  # the options read so far, for a hint ("you ranked A, B")

    @property
    def is_answer(self) -> bool:
        """The reply was read as an answer."""
        return self.value is not None


YES_WORDS = frozenset(
    {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "true", "of course", "definitely", "absolutely", "certainly"}
    | {"ja", "jawohl", "oui", "si", "sí", "da"}
)
NO_WORDS = frozenset(
    {"no", "n", "nope", "nah", "false", "not really", "never", "no way", "probably not", "definitely not"}
    | {"of course not", "absolutely not", "not at all", "nein", "non", "nee"}
)
_YES_ANYWHERE = ("yes", "yeah", "yep", "yup", "of course", "definitely", "absolutely", "ja", "oui")
_NO_ANYWHERE = ("no", "nope", "nah", "not really", "probably not", "definitely not", "not at all", "nein", "non")

NUMBER_WORDS = {
    **dict.fromkeys(("zero", "null"), 0),
    **dict.fromkeys(("one", "eins"), 1),
    **dict.fromkeys(("two", "zwei"), 2),
    **dict.fromkeys(("three", "drei"), 3),
    **dict.fromkeys(("four", "vier"), 4),
    **dict.fromkeys(("five", "fünf", "fuenf"), 5),
    **dict.fromkeys(("six", "sechs"), 6),
    **dict.fromkeys(("seven", "sieben"), 7),
    **dict.fromkeys(("eight", "acht"), 8),
    **dict.fromkeys(("nine", "neun"), 9),
    **dict.fromkeys(("ten", "zehn"), 10),
}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "erste": 1,
    "zweite": 2,
    "dritte": 3,
    "vierte": 4,
    "fünfte": 5,
    "sechste": 6,
}


def _word_list(text: str) -> list[str]:
    return text.split()


#: Words that carry no choice of their own ("I'd say", "probably", "the … one").
FILLER = frozenset(
    _word_list(
        """
        a an the i i'd id i'm im i've my me we it it's its is are was were be been would will go went with pick
        picked choose chose say said think guess maybe probably mostly definitely also too both all of them those
        these that that's thats this just only really so far pretty much answer option options choice choices
        number no. nr one ones from on in at for to by via like about and or then first mainly well hmm um uh ok
        okay yeah yes sure ich würde sagen und oder dann
        """
    )
)
_STOPWORDS = frozenset(
    _word_list("a an the of or and in on at to for from by with like me my i more better less your our")
)

_NUMBER = r"(?<![\w.])-?\d+(?:\.\d+)?(?!\d)"
_RATIO = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)\s*(?:/|out of|of|von|sur|de)\s*(\d+)(?!\d)")
_ORDINAL = re.compile(
    r"\b(?:(?P<word>"
    + "|".join(_ORDINALS)
    + r")[nrs]?|(?P<digits>\d+)(?:st|nd|rd|th|\.)(?=\s|$)|(?P<last>last|letzte[nrs]?))"
    r"(?:\s+(?:one|option|choice|answer))?\b"
)
_SEPARATORS = re.compile(r"\s*(?:[,;&+\n>|]|/|\b(?:and|then|or|plus|und|oder|dann)\b)\s*")
_ENUMERATION = re.compile(r"^\s*\d+[.)]\s+(?=\D)")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_OTHER = re.compile(r"^\s*other\s*[:\-–—]\s*", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower())


def _numbers_in(text: str) -> list[float]:
    return [float(m) for m in re.findall(_NUMBER, text)]


def _with_digits(text: str) -> str:
    """Number words as digits ("four" → "4")."""
    pattern = r"\b(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, lambda m: str(NUMBER_WORDS[m.group(1)]), text)


# --- scale ---------------------------------------------------------------------------------------------------


def _read_scale(question: Question, text: str) -> Reading:
    cleaned = _with_digits(text.lower())
    candidates: list[float] = []
    for match in _RATIO.finditer(cleaned):
        if float(match.group(2)) != question.scale_max:
            return Reading(problem=Problem.OTHER_SCALE, part=match.group(0))
        candidates.append(float(match.group(1)))
    candidates += _numbers_in(_RATIO.sub(" ", cleaned))
    distinct = list(dict.fromkeys(candidates))
    if not distinct:
        return Reading()
    if len(distinct) > 1:
        return Reading(problem=Problem.SEVERAL_NUMBERS, part=", ".join(_shown(n) for n in distinct))
    number = distinct[0]
    if not question.scale_min <= number <= question.scale_max:
        return Reading(problem=Problem.OUT_OF_RANGE, part=_shown(number))
    return Reading(int(number) if number.is_integer() else number)


def _shown(number: float) -> str:
    return str(int(number)) if number.is_integer() else f"{number:g}"


# --- yes / no ------------------------------------------------------------------------------------------------


def _read_yes_no(text: str) -> Reading:
    lowered = text.strip().lower()
    first = re.split(r"[,.!;:—–-]", lowered, maxsplit=1)[0]
    words = [w for w in first.split() if w not in {"i'd", "i", "say", "think", "well", "hmm", "um", "oh"}]
    clause = " ".join(words).strip(" .!?")
    if clause in YES_WORDS and clause not in NO_WORDS:
        return Reading(True)
    if clause in NO_WORDS:
        return Reading(False)
    negative = any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in _NO_ANYWHERE)
    stripped = lowered
    for phrase in ("not really", "probably not", "definitely not", "not at all", "of course not", "absolutely not"):
        stripped = stripped.replace(phrase, " ")
    positive = any(re.search(rf"\b{re.escape(w)}\b(?!\s+not)", stripped) for w in _YES_ANYWHERE)
    if positive and negative:
        return Reading(problem=Problem.YES_AND_NO)
    if positive or negative:
        return Reading(positive)
    return Reading()


# --- options -------------------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(_words(text))


def _keys(question: Question) -> list[set[str]]:
    """Per option, the words that belong to it alone (its unambiguous parts)."""
    words = [{w for w in _words(o) if len(w) >= 3 and w not in _STOPWORDS} for o in question.options]
    return [own - set().union(*(other for j, other in enumerate(words) if j != i)) for i, own in enumerate(words)]


def _same_word(typed: str, key: str) -> bool:
    """``typed`` is ``key`` or a form of it ("channels" / "channel", "intro" / "introductions")."""
    if typed == key or typed in (key + "s", key + "es") or key in (typed + "s", typed + "es"):
        return True
    shorter, longer = sorted((typed, key), key=len)
    return (len(shorter) >= 4 and longer.startswith(shorter)) or _common_start(typed, key) >= 5


def _common_start(one: str, other: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))


@dataclass
class _Part:
    """One part of a reply split at commas, "and", "then", …"""

    text: str
    options: list[int] = field(default_factory=list)  # 0-based, in the order named (several only for "3 1 2")
    out_of_range: int | None = None
    several: bool = False  # names more than one option
    comment: bool = False  # names no option but says something


def _protect_names(question: Question, text: str) -> str:
    """Replace whole option names by placeholders so "YouTube or Twitch" is not split at "or"."""
    lowered = " " + " ".join(re.findall(r"\S+", text.lower())) + " "
    for index in sorted(range(len(question.options)), key=lambda i: -len(question.options[i])):
        name = " ".join(question.options[index].lower().split())
        if name:
            pattern = rf"(?<![\w#]){re.escape(name)}(?![\w-])"
            lowered = re.sub(pattern, f" \x00{index}\x00 ", lowered)
    return lowered


def _positions(text: str, count: int) -> list[int]:
    """1-based positions named by ordinals ("the second one", "2nd", "last")."""
    found: list[int] = []
    for match in _ORDINAL.finditer(text):
        if match.group("last"):
            found.append(count)
        elif match.group("word"):
            found.append(_ORDINALS[match.group("word")])
        else:
            found.append(int(match.group("digits")))
    return found


def _read_part(question: Question, text: str, keys: list[set[str]]) -> _Part:
    count = len(question.options)
    named = [int(m) for m in _PLACEHOLDER.findall(text)]
    rest = _PLACEHOLDER.sub(" ", text)
    if not named and re.fullmatch(r"\s*#?\d+(?:\s+#?\d+)*\s*", rest):  # "3 1 2"
        numbers = [int(n) for n in re.findall(r"\d+", rest)]
        bad = next((n for n in numbers if not 1 <= n <= count), None)
        return _Part(text, [n - 1 for n in numbers], out_of_range=bad)
    ordinals = _positions(rest, count)
    rest = _ORDINAL.sub(" ", rest)
    typed = [w for w in _words(rest) if w not in FILLER or w.isdigit()]
    for word in typed:
        named += [i for i, own in enumerate(keys) if any(_same_word(word, k) for k in own)]
    positions = [int(w) for w in typed if w.isdigit()]
    if not named:  # words for numbers count only where no option is named ("one of my friends", "buddy first")
        positions += ordinals + [NUMBER_WORDS[w] for w in _words(rest) if w in NUMBER_WORDS]
    bad = next((n for n in positions if not 1 <= n <= count), None)
    if bad is not None:
        return _Part(text, out_of_range=bad)
    chosen = list(dict.fromkeys([*named, *(n - 1 for n in positions)]))
    if len(chosen) == 1:
        return _Part(text, chosen)
    return _Part(text, several=len(chosen) > 1, comment=not chosen and bool(typed))


def _parts(question: Question, text: str) -> list[_Part]:
    cleaned = re.sub(r"^\s*ranked\s*:\s*", "", text, flags=re.IGNORECASE)
    pieces = [_ENUMERATION.sub("", p) for p in re.split(r"[\n,;]+", cleaned)]  # "1. Alpha, 2. Beta"
    protected = _protect_names(question, " , ".join(pieces))
    keys = _keys(question)
    parts = [_read_part(question, piece, keys) for piece in _SEPARATORS.split(protected) if piece.strip()]
    return [p for p in parts if p.options or p.out_of_range is not None or p.several or p.comment]


def _display(part: str, question: Question) -> str:
    return " ".join(_PLACEHOLDER.sub(lambda m: question.options[int(m.group(1))], part).split())


def _read_options(question: Question, text: str) -> Reading:
    if question.type is QuestionType.MULTIPLE_CHOICE and _normal(text) in {"all", "all of them", "everything"}:
        return _checked(question, list(question.options))
    other = _OTHER.match(text)
    if other is not None and question.allow_other and question.type is QuestionType.SINGLE_CHOICE:
        return Reading(text[other.end() :].strip() or text.strip())  # "Other: …" says it is none of the options
    parts = _parts(question, text)
    bad = next((p for p in parts if p.out_of_range is not None), None)
    if bad is not None:
        return Reading(problem=Problem.OUT_OF_RANGE, part=str(bad.out_of_range))
    chosen = [question.options[i] for p in parts for i in p.options]
    several = next((p for p in parts if p.several), None)
    comments = [p for p in parts if p.comment]
    if question.type is QuestionType.SINGLE_CHOICE:
        distinct = list(dict.fromkeys(chosen))
        if len(distinct) > 1 or (several is not None and distinct):
            return Reading(problem=Problem.ONE_ONLY, read=tuple(distinct))
        if several is not None:
            return Reading(problem=Problem.UNCLEAR_PART, part=_display(several.text, question))
        if distinct:
            return Reading(distinct[0])  # the rest is a comment on the choice
        if question.allow_other:
            return Reading(text.strip())
        return Reading()
    if several is not None:
        return Reading(problem=Problem.UNCLEAR_PART, part=_display(several.text, question), read=tuple(chosen))
    if not chosen:
        return Reading()
    if comments:
        if not (question.allow_other and question.type is QuestionType.MULTIPLE_CHOICE):
            return Reading(problem=Problem.UNCLEAR_PART, part=_display(comments[0].text, question), read=tuple(chosen))
        chosen += [_display(p.text, question) for p in comments]
    return _checked(question, chosen)


def _checked(question: Question, chosen: list[str]) -> Reading:
    if question.type is QuestionType.RANKING:
        repeated = next((o for i, o in enumerate(chosen) if o in chosen[:i]), None)
        if repeated is not None:
            return Reading(problem=Problem.REPEATED, part=repeated, read=tuple(chosen))
        if question.max_choices is None:
            fits = len(chosen) == len(question.options)
        else:
            fits = max(question.min_choices, 1) <= len(chosen) <= question.max_choices
        return Reading(chosen) if fits else Reading(problem=Problem.RANK_ALL, read=tuple(chosen))
    distinct = list(dict.fromkeys(chosen))
    low = max(question.min_choices, 1)
    high = question.max_choices or len(question.options) + (1 if question.allow_other else 0)
    if len(distinct) > high:
        return Reading(problem=Problem.TOO_MANY, read=tuple(distinct))
    if len(distinct) < low:
        return Reading(problem=Problem.TOO_FEW, read=tuple(distinct))
    return Reading(distinct)


def read_answer(question: Question, text: str) -> Reading:
    """Read ``text`` as an answer to ``question``.

    ``Reading(value)`` when it reads unambiguously; ``Reading(problem=…)`` when it looks like an answer but
    cannot be read whole (ask again, with a hint); ``Reading()`` when it names nothing (pass it on as a
    comment). Open-ended questions take any non-empty text.
    """
    if not text.strip():
        return Reading()
    match question.type:
        case QuestionType.OPEN_ENDED:
            return Reading(text.strip())
        case QuestionType.SCALE:
            return _read_scale(question, text)
        case QuestionType.YES_NO:
            return _read_yes_no(text)
    if not question.options:
        return Reading()
    return _read_options(question, text)
