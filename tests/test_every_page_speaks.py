"""Every page in German and in French (issue #29): each word a page draws
(headings, sentences, labels, help, options, tables) is the language's, not
the English page's, through the router with the chain's language set. The
browser tests measure the Log page and the dashboard on screens; this one
reads every page's elements through AppTest."""

from __future__ import annotations

import functools
import re
from zoneinfo import available_timezones

import pytest
from babel.dates import get_day_names, get_month_names
from babel.messages.pofile import read_po
from babel.numbers import list_currencies
from streamlit.testing.v1 import AppTest

from cxlog.language import words
from cxlog.storage import settings
from cxlog.web import navigation
from tests.conftest import as_role
from tests.helpers.pages import open_page
from tests.helpers.rows import hand_month

pytestmark = pytest.mark.first_pass  # words, not storage: the engine changes nothing here

# The fields of an element a person reads (a widget's key or id is not one).
READ = {"label", "body", "help", "placeholder", "options", "caption", "text", "title"}
PAGES = [path for path, *_rest in navigation.PAGES if path != "pages/log.py"]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated"):
        return [s for v in value for s in _strings(v)]
    return []


def drawn(at: AppTest) -> str:
    """Every readable text field of every element on the page."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        # st.html carries cxlog's fixed CSS, not words.
        if (
            getattr(node, "type", None) != "html"
            and proto is not None
            and hasattr(proto, "ListFields")
        ):
            for field, value in proto.ListFields():
                if field.name in READ:
                    parts.extend(_strings(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [t.value.to_csv() for t in at.table]
    return "\n".join(parts)


def words_of(text: str) -> set[str]:
    """Its words, file names (docs/data-dictionary.md) left out."""
    text = re.sub(r"\S+\.(?:md|csv|py)\b", " ", text)
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}


@functools.cache
def language_words(lang: str) -> set[str]:
    with words.catalog_file(lang).open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    found: set[str] = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        found |= words_of(" ".join(s or "" for s in strings))
    for names in (get_month_names, get_day_names):
        for width in ("abbreviated", "wide"):
            found |= words_of(" ".join(names(width, locale=lang).values()))
    return found


# Names, not words: the store's data (its name, associates, the tests'
# accounts "owner" and "manager", a session's device), timezones, currency
# codes, the import formats' makers, the languages by their own names.
DATA = {"corner", "shop", "ana", "ben", "cxlog", "csv", "apptest", "owner", "manager", "local"}
DATA |= {"hikvision", "retailnext", "axis", "generic"}  # "generic": a --format value
DATA |= {"true", "false"}  # a table's yes/no column (a checkbox on the page)
DATA |= words_of(" ".join(available_timezones()))
DATA |= words_of(" ".join(list_currencies()))
DATA |= words_of(" ".join(words.LANGUAGES.values()))


def page_in(lang: str | None, storage, page: str) -> str:
    settings.set_language(storage, lang, actor="test")
    at = as_role(open_page(), "owner").run()
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    return drawn(at)


@pytest.fixture
def month(app_env, shop):
    return hand_month(app_env, shop)


def test_every_page_draws_the_language_s_words(app_env, month):
    left = {}
    for page in PAGES:
        english = page_in(None, app_env, page)
        for lang in ("de", "fr"):
            translated = page_in(lang, app_env, page)
            assert translated != english, (lang, page)
            found = (words_of(translated) & words_of(english)) - language_words(lang) - DATA
            if found:
                left[lang, page] = sorted(found)
    assert left == {}, "\n".join(f"{k}: {w}" for k, w in left.items())
