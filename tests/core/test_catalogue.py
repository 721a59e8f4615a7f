"""The text catalogue: every sentence in the source is in messages.pot and translated into German, placeholders
kept; the loader picks the language from a platform locale."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.core import texts
from bot.core.i18n import LOCALES_DIR, available_languages, catalogue, language_of
from tests.pseudo_locale import extracted

SHIPPED = sorted(available_languages() - {"en", "qps"})


def _read(path: str, locale: str | None = None) -> Catalog:
    with (LOCALES_DIR / path).open("rb") as source:
        return read_po(source, locale=locale)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _forms(message: Message) -> Iterator[tuple[str, str]]:
    """(English, translation) pairs: the singular and each plural form against the English plural."""
    if isinstance(message.id, str):
        yield message.id, str(message.string or "")
        return
    forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
    for n, form in enumerate(forms):
        yield message.id[min(n, 1)], str(form or "")


def test_extraction_finds_the_sentences_of_the_core_and_every_adapter() -> None:
    where = {
        location[0].split("/")[0] + "/" + location[0].split("/")[1] for m in extracted() for location in m.locations
    }
    assert {"bot/core", "adapters/discord", "adapters/slack", "adapters/terminal"} <= where
    ids = _keys(extracted())
    assert (None, "End interview") in ids and ("word the respondent types", "yes") in ids


def test_messages_pot_holds_every_sentence_it_was_made_from() -> None:
    """The template is for translators: it parses, and each of its sentences is translated (German here).

    Whether it is *fresh* is not tested: a branch adding sentences lands before anyone runs ``make messages``;
    the German test below is what keeps every sentence of the source translated.
    """
    template = _keys(_read("messages.pot"))
    german = _keys(_read("de/LC_MESSAGES/messages.po", "de"))
    assert len(template) > 100 and template <= german


def test_a_german_catalogue_ships() -> None:
    assert "de" in SHIPPED


@pytest.mark.parametrize("language", SHIPPED)
def test_every_sentence_is_translated_with_its_placeholders(language: str) -> None:
    po = _read(f"{language}/LC_MESSAGES/messages.po", language)
    translated = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in po if m.id}
    missing, fuzzy, placeholders = [], [], []
    for message in extracted():
        if not message.id:
            continue
        key = (message.context, message.id if isinstance(message.id, str) else message.id[0])
        found = translated.get(key)
        if found is None or not all(form for _, form in _forms(found)):
            missing.append(key[1])
            continue
        if found.fuzzy:
            fuzzy.append(key[1])
        for english, form in _forms(found):
            if _fields(form) != _fields(english):
                placeholders.append(f"{english!r} → {form!r}")
    assert missing == [], f"untranslated in {language}: {missing}"
    assert fuzzy == [], f"fuzzy (to check) in {language}: {fuzzy}"
    assert placeholders == [], f"placeholders differ in {language}: {placeholders}"


def test_the_locale_chooses_the_language() -> None:
    assert language_of("de-DE") == language_of("de_AT") == language_of("de") == "de"
    assert language_of("pt-BR") == language_of(None) == language_of("") == "en"  # no catalogue: English
    german = catalogue("de-DE")
    assert german.gettext("End interview") == "Interview beenden"
    assert german.ngettext("{count} second", "{count} seconds", 1).format(count=1) == "1 Sekunde"
    assert german.number(12345) == "12.345" and catalogue("en-US").number(12345) == "12,345"
    assert catalogue("fr").gettext("End interview") == "End interview"


def test_typed_words_follow_the_language() -> None:
    german = catalogue("de")
    assert (texts.confirm_word(german), texts.cancel_word(german), texts.start_word(german)) == ("ja", "nein", "neu")
    assert "„ja“" in texts.confirm_exit(german) and "„nein“" in texts.confirm_exit(german)
    assert "“yes”" in texts.confirm_exit(catalogue(None))
