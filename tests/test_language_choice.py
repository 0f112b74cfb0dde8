"""Who picks the language (issue #29): the device's own choice, the store's,
the chain's, the browser's, English; and what the Log page hands the pad."""

from __future__ import annotations

from datetime import date

import pytest

from cxlog.core.errors import ValidationError
from cxlog.language import formats, words
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.web import language_ui
from cxlog.web.pad_words import pad_words
from tests.helpers.pages import device, pad_data


def test_the_device_s_choice_then_the_store_s_then_the_browser_s_then_english():
    assert language_ui.choose("de", "fr", "es") == ("de", "device")
    assert language_ui.choose("", "fr", "es") == ("fr", "store")
    assert language_ui.choose(None, None, "es") == ("es", "browser")
    assert language_ui.choose(None, None, "es-MX") == ("es", "browser")
    assert language_ui.choose(None, None, "ja-JP") == ("en", "browser")
    assert language_ui.choose("xx", None, None) == ("en", "browser")


def test_a_store_s_language_else_the_chain_s(storage, shop):
    store = shop["store"]
    other = catalog.create_store(storage, "Leipzig", "Europe/Berlin")
    assert settings.store_language(storage, store) is None
    settings.set_language(storage, "fr", actor="test")
    assert settings.store_language(storage, store) == "fr"
    assert settings.store_language(storage) == "fr"
    settings.set_store_language(storage, other, "de", actor="test")
    assert settings.store_language(storage, other) == "de"
    assert settings.store_language(storage, store) == "fr"
    settings.set_store_language(storage, other, None, actor="test")
    assert settings.store_language(storage, other) == "fr"
    settings.set_language(storage, None, actor="test")
    assert settings.store_language(storage, store) is None
    with pytest.raises(ValidationError):
        settings.set_language(storage, "tlh", actor="test")
    with pytest.raises(ValidationError):
        settings.set_store_language(storage, store, "tlh", actor="test")
    assert settings.store_language(storage, store) is None


def test_the_log_page_hands_the_pad_its_words_in_the_store_s_language(app_env, shop, monkeypatch):
    settings.set_store_language(app_env, shop["store"], "fr", actor="test")
    at = device(monkeypatch, app_env)
    data = pad_data(at)
    with words.using("fr"):
        expected = pad_words()
        who = words._("Who is logging?")
    assert data["words"] == expected
    assert data["words"]["lang"] == "fr"
    assert data["lang_source"] == "store"
    assert data["words"]["text"]["who"] == who != "Who is logging?"


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [
        ("en", "1 unit", "2 units"),
        ("fr", "1 article", "2 articles"),
        ("de", "1 Artikel", "2 Artikel"),
    ],
)
def test_counted_words_come_in_every_plural_form_of_the_language(lang, one, many):
    with words.using(lang):
        forms = pad_words()["counted"]["units"]
    assert forms["one"].format(n=1) == one
    assert forms["other"].format(n=2) == many


def test_dates_numbers_and_percentages_follow_the_language():
    day = date(2026, 11, 3)
    seen = {}
    for lang in ("en", "fr", "de", "es"):
        with words.using(lang):
            seen[lang] = (
                formats.day(day),
                formats.number(1234.5, 1),
                formats.percent(0.423),
                formats.weekday(0),
            )
    assert seen["en"] == ("Tue 3 Nov", "1,234.5", "42%", "Mon")
    assert seen["de"] == ("Di., 3. Nov.", "1.234,5", "42\xa0%", "Mo.")
    assert seen["fr"] == ("mar. 3 nov.", "1\u202f234,5", "42\xa0%", "lun.")
    assert seen["es"] == ("mar, 3 nov", "1.234,5", "42\xa0%", "lun")


def test_a_later_language_is_read_only_when_a_word_is_written():
    """The API answers a saved tap with no sentence: it never reads the
    store's language for it (words.using_later)."""
    asked = []

    def pick() -> str:
        asked.append(1)
        return "de"

    with words.using_later(pick):
        assert asked == []
    with words.using_later(pick):
        first, second = words._("Warm"), words._("Missed")
    assert asked == [1]
    with words.using("de"):
        assert (first, second) == (words._("Warm"), words._("Missed"))
