"""cxlog's words in the reader's language: gettext catalogs handled with Babel.

Every sentence cxlog writes for a person goes through ``_`` (or ``n_`` when it
counts something), with named placeholders filled by ``.format`` after the
translation, never by joining translated pieces: word order differs between
languages. A text defined at import time (a label in a table) is marked with
``N_`` and translated where it is shown, because the language is known only
then.

Which language is current:
- inside ``using(lang)`` (the API's requests, the huddle CLI, tests), that one;
- else what the resolver says (the web layer installs one that reads the
  Streamlit session's language, so fragments and callbacks get it too);
- else English.

The catalogs are ``catalogs/<lang>/LC_MESSAGES/cxlog.po``; ``make catalogs``
compiles them to ``.mo`` at install. A catalog whose ``.mo`` is missing or older
than its ``.po`` is compiled in memory instead, so a checkout works before
``make`` has run (docs/languages.md: adding a language).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOGS = Path(__file__).resolve().parent / "catalogs"
DOMAIN = "cxlog"
ENGLISH = "en"
# Each language by its own name, as a person who reads only it finds it in a
# list. Adding one: its catalog and one line here (docs/languages.md).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
}

# The device's own choice, remembered by its browser (a plain cookie: the API
# reads it on every request, the pages when the tab connects).
DEVICE_COOKIE = "cxlog_lang"

_current: contextvars.ContextVar[str | _Later | None] = contextvars.ContextVar(
    "cxlog_language", default=None
)
_resolver: Callable[[], str | None] | None = None


def supported(tag: object) -> str | None:
    """The language of a browser's or a setting's tag ("de-DE", "fr_CH", "es")
    when cxlog speaks it, else None."""
    if not isinstance(tag, str) or not tag.strip():
        return None
    lang = tag.strip().replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def set_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Where ``current`` looks outside ``using``: the web layer's session."""
    global _resolver
    _resolver = resolver


class _Later:
    """A language found out only when a word is first asked for (``using_later``)."""

    def __init__(self, pick: Callable[[], str | None]) -> None:
        self.pick = pick
        self.lang: str | None = None

    def get(self) -> str:
        if self.lang is None:
            self.lang = supported(self.pick()) or ENGLISH
        return self.lang


def current() -> str:
    """The language cxlog writes in right now."""
    lang = _current.get()
    if isinstance(lang, _Later):
        return lang.get()
    if lang is None and _resolver is not None:
        lang = _resolver()
    return lang if lang in LANGUAGES else ENGLISH


@contextlib.contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Write in ``lang`` (English when cxlog does not speak it) inside the block."""
    token = _current.set(supported(lang) or ENGLISH)
    try:
        yield _current.get() or ENGLISH
    finally:
        _current.reset(token)


@contextlib.contextmanager
def using_later(pick: Callable[[], str | None]) -> Iterator[None]:
    """Write in the language ``pick()`` names, asked only if a word is written
    inside the block: an API request that answers with no sentence (a saved
    tap) never reads its store's language."""
    token = _current.set(_Later(pick))
    try:
        yield
    finally:
        _current.reset(token)


def catalog_file(lang: str, suffix: str = ".po") -> Path:
    return CATALOGS / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (English has none: its msgids are its words)."""
    if lang == ENGLISH:
        return NullTranslations()
    po, mo = catalog_file(lang), catalog_file(lang, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(current()).gettext(message)


def shown(text: str) -> str:
    """``_`` of a text marked where it is defined (``N_``) and picked from a
    table by a key (``shown(LABELS[row["kind"]])``): inside ``_()`` the
    extractor would take the key's quotes for a sentence."""
    return translations(current()).gettext(text)


def n_(singular: str, plural: str, n: int) -> str:
    """The form of a counted sentence for ``n`` in the current language; fill
    ``{n}`` (and any other placeholder) with ``.format`` afterwards."""
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalog without translating it yet (``_`` it where shown)."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted sentence for the catalog without translating it yet
    (``n_(*pair, n)`` it where shown)."""
    return singular, plural


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """The counted sentence in every CLDR plural category of the current
    language ({"one": "{n} tap", "other": "{n} taps"}), for the tap pad,
    whose JavaScript picks one with ``Intl.PluralRules``."""
    locale = Locale.parse(current())
    forms: dict[str, str] = {}
    for n in (*range(0, 201), 1000, 1000000):
        category = locale.plural_form(n)
        if category not in forms:
            forms[category] = n_(singular, plural, n)
    return forms
