"""Bahasa Indonesia and English for the web pages: Babel catalogues, one language per request."""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "en"
_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """Return the catalogue of ``language``, compiled from its .po file (English needs none)."""
    po = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def use(language: str | None) -> str:
    """Make ``language`` the current request's language; return the one chosen."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    _current.set(chosen)
    return chosen


def current() -> str:
    """Return the current request's language."""
    return _current.get()


def gettext(message: str) -> str:
    """Translate ``message`` into the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count into the current language."""
    return translations(current()).ngettext(singular, plural, n)


def install(env: Environment) -> None:
    """Give a Jinja environment ``_``/``gettext``/``ngettext`` following the request language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = current
    env.globals["LANGUAGES"] = LANGUAGES
