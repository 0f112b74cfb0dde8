"""The language catalogs (issue #29): every word cxlog writes is translated in
every language, with the same placeholders, nothing fuzzy shipped, and the
template extracted from the code as it is."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cxlog.language import words

pytestmark = pytest.mark.first_pass  # files, not storage

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = words.CATALOGS / f"{words.DOMAIN}.pot"
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None, "Nn_": (1, 2)}
OTHERS = sorted(set(words.LANGUAGES) - {words.ENGLISH})


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def _names(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def _extracted() -> set[str]:
    found = set()
    for folder in ("pages", "cxlog"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=[("app.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_language_has_a_catalog_and_every_catalog_a_language():
    folders = {p.name for p in words.CATALOGS.iterdir() if p.is_dir()}
    assert folders == set(OTHERS)
    for lang in OTHERS:
        assert words.catalog_file(lang).exists(), lang


def test_the_template_holds_exactly_the_code_s_words():
    """`make messages` was run after the last change of a word in the code."""
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(TEMPLATE) if m.id}
    code = _extracted()
    assert code - template == set(), "words in the code missing from the template: make messages"
    assert template - code == set(), "words in the template no longer in the code: make messages"
    assert len(template) > 300  # the whole app, not a sample


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_is_translated_with_its_placeholders(lang):
    template = [m for m in _read(TEMPLATE) if m.id]
    catalog = _read(words.catalog_file(lang), lang)
    plurals = catalog.num_plurals
    problems = []
    for entry in template:
        found = catalog.get(entry.id)
        if found is None:
            problems.append(f"missing: {entry.id!r}")
            continue
        if found.fuzzy:
            problems.append(f"fuzzy: {entry.id!r}")
        if isinstance(entry.id, str):
            forms, wanted = [found.string], [_names(entry.id)]
        else:
            forms = list(found.string) if isinstance(found.string, (list, tuple)) else []
            # A language's singular may spell the number out ("une visite"),
            # so {n} may be missing from the first form only.
            wanted = [_names(entry.id[1])] * plurals
            if len(forms) != plurals:
                problems.append(f"{len(forms)} of {plurals} plural forms: {entry.id!r}")
        for form, names in zip(forms, wanted, strict=False):
            if not form or not form.strip():
                problems.append(f"untranslated: {entry.id!r}")
            elif _names(form) != names and not (
                not isinstance(entry.id, str) and _names(form) == names - {"n"}
            ):
                problems.append(
                    f"placeholders {sorted(_names(form))} ≠ {sorted(names)}: {entry.id!r}"
                )
    assert problems == [], "\n".join(problems[:40])


@pytest.mark.parametrize("lang", OTHERS)
def test_no_fuzzy_entry_is_shipped(lang):
    text = words.catalog_file(lang).read_text(encoding="utf-8")
    assert "#, fuzzy" not in text and "#| msgid" not in text


@pytest.mark.parametrize("lang", OTHERS)
def test_the_catalog_s_plural_rule_is_the_language_s(lang):
    catalog = _read(words.catalog_file(lang), lang)
    expected = {"fr": "(n > 1)", "de": "(n != 1)", "es": "(n != 1)"}[lang]
    assert catalog.plural_expr == expected


def test_no_word_is_built_from_an_f_string_or_joined_pieces():
    """pybabel cannot read `_(f"...")`; a translated piece joined to another
    (`_("a") + _("b")`) cannot be reordered by a language; in `_(LABELS["key"])`
    pybabel takes "key" for a sentence (words.shown is for those)."""
    bad = re.compile(
        r"\b(?:_|n_|N_)\(\s*f[\"']"  # an f-string
        r"|\b_\([^()]*\)\s*\+\s*_\("  # two translated pieces joined
        r"|(?<![\w.])_\([A-Za-z_.]+\[[^\]]*[\"']"  # a table's key the extractor takes for a word
    )
    hits = []
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "cxlog").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if bad.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hits == []


def test_a_translation_is_used_and_english_is_the_code_s_own():
    with words.using("de"):
        german = words._("Who is logging?")
    with words.using("en"):
        english = words._("Who is logging?")
    assert english == "Who is logging?"
    assert german != english


@pytest.mark.parametrize("lang", OTHERS)
def test_the_catalog_compiles_without_errors(lang):
    """`make catalogs` (pybabel compile) fails on an entry its checks refuse,
    such as a "95% i…" it takes for a %-format: cxlog writes {ci} there."""
    catalog = _read(words.catalog_file(lang), lang)
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == []
