"""The dashboard in German (issue #29): the same figures as the English page,
whose numbers tests/test_dashboard_page.py checks by hand, written the German
way: labels translated, decimal commas, the same numbers everywhere."""

from __future__ import annotations

import re

import pytest

from cxlog.language import words
from cxlog.storage import settings
from tests.helpers.pages import open_dashboard
from tests.helpers.rows import RANGE, hand_month

pytestmark = (
    pytest.mark.first_pass
)  # formats, not storage: tests/test_dashboard_page.py checks the numbers on both engines

# A number as each language writes it: its digit groups and decimal sign.
NUMBER = {
    "en": re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"),
    "de": re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"),
}


def numbers(text: str, lang: str) -> list[float]:
    found = NUMBER[lang].findall(text)
    if lang == "de":
        found = [n.replace(".", "").replace(",", ".") for n in found]
    else:
        found = [n.replace(",", "") for n in found]
    return [float(n) for n in found]


@pytest.fixture
def month(app_env, shop):
    return hand_month(app_env, shop)


def page_in(lang: str | None, storage):
    settings.set_language(storage, lang, actor="test")
    return open_dashboard(RANGE)


def test_the_same_figures_appear_formatted_in_german(app_env, month):
    english = page_in(None, app_env)
    german = page_in("de", app_env)

    tiles_en = {m.label: (m.value, m.delta or "") for m in english.metric}
    tiles_de = {m.label: (m.value, m.delta or "") for m in german.metric}
    assert tiles_en["Conversion"] == ("53.3%", "+13.3 pts")  # by hand: 32 of 60
    with words.using("de"):
        labels = {words._(label): label for label in tiles_en}
    assert set(tiles_de) == set(labels)
    assert set(tiles_de).isdisjoint({"Visits", "Units per sale", "Warm rate"})
    for label_de, label_en in labels.items():
        for text_de, text_en in zip(tiles_de[label_de], tiles_en[label_en], strict=True):
            assert numbers(text_de, "de") == numbers(text_en, "en"), (label_en, text_de)
    conversion = tiles_de[next(k for k, v in labels.items() if v == "Conversion")]
    assert conversion[0] == "53,3\xa0%"

    # The team table, cell by cell; the captions and the takeaway sentences,
    # number by number (a sentence may put its numbers in another order).
    team_en, team_de = english.table[0].value, german.table[0].value
    assert team_en.shape == team_de.shape
    for row_en, row_de in zip(
        team_en.astype(str).values.tolist(), team_de.astype(str).values.tolist(), strict=True
    ):
        for cell_en, cell_de in zip(row_en, row_de, strict=True):
            assert numbers(cell_de, "de") == numbers(cell_en, "en"), (cell_en, cell_de)
    # Every caption and sentence in turn: the same numbers (a sentence may put
    # them in another order).
    for kind in ("caption", "markdown"):
        texts_en = [e.value for e in getattr(english, kind)]
        texts_de = [e.value for e in getattr(german, kind)]
        assert len(texts_de) == len(texts_en), kind
        for text_en, text_de in zip(texts_en, texts_de, strict=True):
            assert sorted(numbers(text_de, "de")) == sorted(numbers(text_en, "en")), (
                text_en,
                text_de,
            )
    takeaways = [t.value for t in english.markdown if "converted" in t.value]
    assert takeaways  # the sentences are on the page, and not left in English:
    assert not any("converted" in t.value for t in german.markdown)
