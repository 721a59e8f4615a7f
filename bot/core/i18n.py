"""The text catalogue: every sentence the bot says to a person, translated for the respondent's locale.

Sentences are written in English in the code as ``tr.gettext("…")`` (or ``tr.ngettext``), where ``tr`` is the
:class:`Catalogue` for the respondent's locale. ``pybabel extract`` collects them into ``bot/locales/messages.pot``;
each language has ``bot/locales/<lang>/LC_MESSAGES/messages.po``. The ``.po`` files are compiled in memory when
first used (Babel), so no binary catalogue lives in the repository.

A locale is chosen from the platform (Discord's interaction locale, Slack's ``users.info`` locale), else the
configured default. Unknown locales fall back to English, the language of the code.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

__all__ = ["LOCALES_DIR", "Catalogue", "add_language", "available_languages", "catalogue", "language_of"]

log = logging.getLogger(__name__)

#: Where the message catalogues live.
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


class Catalogue:
    """The translations of one language; ``gettext``/``ngettext`` as in :mod:`gettext`."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def gettext(self, message: str) -> str:
        """``message`` in this language (the English text where no translation exists)."""
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, in this language."""
        return self._translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in this language, where ``context`` tells translators what kind of text it is."""
        return self._translations.pgettext(context, message)

    def number(self, value: float) -> str:
        """``value`` written the way this language writes numbers (``1,234`` in English, ``1.234`` in German)."""
        try:
            locale = Locale.parse(self.language)
        except (ValueError, UnknownLocaleError):
            locale = Locale.parse("en")
        return format_decimal(value, locale=locale)

    def decimal(self, value: float) -> str:
        """``value`` with one decimal, as this language writes it (``3.5`` in English, ``3,5`` in German)."""
        try:
            locale = Locale.parse(self.language)
        except (ValueError, UnknownLocaleError):
            locale = Locale.parse("en")
        return format_decimal(value, format="#,##0.0", locale=locale)

    def __repr__(self) -> str:
        return f"Catalogue({self.language!r})"


def language_of(locale: str | None) -> str:
    """The catalogue language for a platform locale: ``de-DE``, ``de_DE`` and ``de`` all give ``de``."""
    if not locale:
        return "en"
    base = locale.replace("-", "_").split("_", 1)[0].lower()
    return base if base in available_languages() else "en"


#: Languages added at run time (:func:`add_language`), e.g. a pseudo-locale that checks every text is translated.
_added: dict[str, Catalogue] = {}


def available_languages() -> frozenset[str]:
    """English plus every language with a catalogue in :data:`LOCALES_DIR` or added with :func:`add_language`."""
    return _shipped_languages() | frozenset(_added)


@functools.cache
def _shipped_languages() -> frozenset[str]:
    found = {path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({"en", *found})


def add_language(language: str, translations: gettext.NullTranslations) -> Catalogue:
    """Serve ``language`` from ``translations`` (a catalogue kept outside the package); returns its catalogue."""
    added = Catalogue(language, translations)
    _added[language.lower()] = added
    return added


@functools.cache
def _load(language: str) -> Catalogue:
    if language == "en":
        return Catalogue("en", gettext.NullTranslations())
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Catalogue(language, gettext.GNUTranslations(compiled))


def catalogue(locale: str | None) -> Catalogue:
    """The catalogue for a respondent's ``locale`` (English when unknown or None)."""
    language = language_of(locale)
    return _added.get(language) or _load(language)
