"""The text catalogue under test: what the source says, a pseudo-locale that marks every text, and the check.

:func:`extracted` runs Babel's extraction over the source exactly as ``make messages`` does (the mapping in
``bot/locales/babel.cfg``, the same keywords), so the tests see every sentence written as ``tr.gettext("…")``.

:func:`install_pseudo_locale` serves the language of :data:`PSEUDO_LOCALE` from a catalogue in which every
translation is its English text wrapped in ``⟦…⟧``. A respondent with that locale then sees only marked text,
the interviewer's own words, numbers, emoji and punctuation — unless a sentence bypasses the catalogue, which
:func:`unmarked_lines` finds.
"""

from __future__ import annotations

import functools
import gettext
import html
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo

from bot.core.i18n import LOCALES_DIR, add_language

ROOT = Path(__file__).resolve().parent.parent
#: The keywords of ``make messages`` (``tr.gettext``, ``tr.ngettext``, ``tr.pgettext``, Discord's ``locale_str``).
KEYWORDS: dict[str, Any] = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "locale_str": None}
#: A locale no platform ships: its language is "qps", served by :func:`install_pseudo_locale`.
PSEUDO_LOCALE = "qps-ploc"
OPEN, CLOSE = "⟦", "⟧"
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_LETTERS = re.compile(r"[^\W\d_]+")


@functools.cache
def extracted() -> Catalog:
    """Every message the source hands to the catalogue, extracted by Babel with the project's mapping."""
    with (LOCALES_DIR / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    catalog = Catalog(locale="en", domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def install_pseudo_locale() -> str:
    """Serve :data:`PSEUDO_LOCALE` with every text marked as ``⟦English⟧``; returns the locale."""
    pseudo = Catalog(locale="en", domain="messages")  # English plural rules: two forms
    for message in extracted():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            marked: str | tuple[str, ...] = tuple(OPEN + form + CLOSE for form in message.id)
        else:
            marked = OPEN + message.id + CLOSE
        pseudo.add(message.id, marked, context=message.context)
    compiled = io.BytesIO()
    write_mo(compiled, pseudo)
    compiled.seek(0)
    add_language("qps", gettext.GNUTranslations(compiled))
    return PSEUDO_LOCALE


#: Keys of platform payloads whose string values are shown to a person (Discord and Slack).
TEXT_KEYS = frozenset(
    {"content", "label", "placeholder", "title", "description", "text", "markdown_text", "status", "message"}
)


def shown_texts(payload: Any) -> Iterator[str]:
    """Every string a platform would show from ``payload`` (message bodies, blocks, components, modals)."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in TEXT_KEYS and isinstance(value, str):
                yield value
            elif key == "loading_messages" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from shown_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from shown_texts(item)


def without_interviewer(text: str, interviewer: Iterable[str]) -> list[str]:
    """The lines of ``text`` without the interviewer's words (which come from the interview API).

    A line that is part of something the interviewer said (a reply shown while it streams) goes entirely;
    otherwise each whole text of the interviewer is cut out of it.
    """
    said = sorted({html.unescape(s).strip() for s in interviewer if s and s.strip()}, key=len, reverse=True)
    kept = []
    for line in html.unescape(text).split("\n"):
        bare = line.strip(" \t*_~`>•-")
        if any(bare in whole for whole in said):
            continue
        for whole in said:
            line = line.replace(whole, " ")
        kept.append(line)
    return kept


def unmarked_lines(text: str, interviewer: Iterable[str]) -> list[str]:
    """The lines of ``text`` holding words that are neither marked nor the interviewer's (empty: all good)."""
    text = html.unescape(text)
    while (stripped := _MARKED.sub(" ", text)) != text:
        text = stripped
    return [line for line in without_interviewer(text, interviewer) if _LETTERS.search(line)]


def brief_texts(brief: dict[str, Any]) -> set[str]:
    """The words of a research brief's questions (the interview API sends them; they are not the bot's)."""
    found: set[str] = set()
    for question in brief.get("questions") or []:
        found.update(str(question[k]) for k in ("text", "min_label", "max_label") if question.get(k))
        found.update(str(option) for option in question.get("options") or [])
    return found
