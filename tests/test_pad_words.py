"""The tap pad's words (issue #29): its JavaScript writes no sentence of its
own; every word it shows is one of cxlog/web/pad_words.py, in the page's
language."""

from __future__ import annotations

import re

import pytest

from cxlog.language import words
from cxlog.web import pad_words
from tests.conftest import ROOT

pytestmark = pytest.mark.first_pass  # files, not storage

PAD_JS = (ROOT / "cxlog" / "web" / "pad" / "pad.js").read_text(encoding="utf-8")


def _code() -> str:
    """pad.js without its comments."""
    return re.sub(r"^\s*//.*$|\s//\s.*$", "", PAD_JS, flags=re.M)


def test_every_word_the_pad_asks_for_is_one_it_is_given_and_none_is_unused():
    code = _code()
    said = set(re.findall(r"\bt\(\"(\w+)\"", code)) | set(re.findall(r"say\(w, \"(\w+)\"", code))
    counted = set(re.findall(r"\btn\(\"(\w+)\"", code))
    counted |= set(re.findall(r"sayCount\(w, \"(\w+)\"", code))
    # Engagements and markers are drawn by their key: t(e), t(m), t(v.engagement).
    keyed = {"warm", "neutral", "missed", "used_name", "recommended"}
    assert said | keyed <= set(pad_words.TEXTS), (said | keyed) - set(pad_words.TEXTS)
    assert counted <= set(pad_words.COUNTED), counted - set(pad_words.COUNTED)
    assert set(pad_words.TEXTS) - said - keyed == set()
    assert set(pad_words.COUNTED) == counted


def test_no_english_sentence_is_written_in_the_pad_s_javascript():
    """A text literal that reads as words ("Save units", `Saved: ${what}`)
    would stay English on a German tablet."""
    literals = re.findall(r"\"([^\"\n]*)\"|`([^`\n]*)`", _code())
    wordy = re.compile(r"[A-Za-z]{3,} [a-z]{2,}|^[A-Z][a-z]+[.!?]?$")
    # For a developer's console, not for a person at the counter.
    allowed = {"cxlog pad: sending taps failed:", "Enter"}  # "Enter": a key's name
    found = [
        text
        for pair in literals
        for text in pair
        if text and text not in allowed and wordy.search(text) and "cx-" not in text
    ]
    assert found == []


def test_the_words_are_translated_with_their_placeholders():
    for lang in words.LANGUAGES:
        with words.using(lang):
            given = pad_words.pad_words()
        assert given["lang"] == lang
        for key, english in pad_words.TEXTS.items():
            names = set(re.findall(r"\{(\w+)\}", english))
            assert set(re.findall(r"\{(\w+)\}", given["text"][key])) == names, (lang, key)
        for forms in given["counted"].values():
            assert "other" in forms and all("{n}" in f or lang != "en" for f in forms.values())
    with words.using("de"):
        german = pad_words.pad_words()
    assert german["text"]["save_units"] != "Save units"
    assert german["counted"]["saving"]["other"] != "Saving {n} taps…"
