"""Showing text a person typed (names, reasons, notes) exactly as typed.

Streamlit renders labels, captions and messages as Markdown; pure functions
here, so every page and the dashboard's sentences escape typed text the same way.
"""

from __future__ import annotations

import re
import unicodedata

# Every ASCII punctuation mark: CommonMark lets a backslash escape each one.
_MARKDOWN = re.compile(r"([!-/:-@\[-`{-~])")
_WORD_JOINER, _ISOLATE, _END_ISOLATE = "\u2060", "\u2068", "\u2069"
# Right-to-left letters and the explicit embeddings, overrides and isolates.
_RIGHT_TO_LEFT = {"R", "AL", "RLE", "LRE", "RLO", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"}


def plain(text: str) -> str:
    """Text a person typed (a name, a reason), for a label Streamlit renders as
    Markdown, shown exactly as typed (issue #7). Unescaped, a name became bold,
    a link, an icon, LaTeX, or an image fetched from another site. An invisible
    word joiner before '.', ':' and '@' stops web and mail addresses turning
    into links, which backslashes alone do not. Right-to-left text is put in a
    bidi isolate, so an override inside a name cannot reverse the rest of the line."""
    escaped = re.sub(r"\\([.:@])", _WORD_JOINER + r"\\\1", _MARKDOWN.sub(r"\\\1", text))
    if any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT for ch in text):
        return _ISOLATE + escaped + _END_ISOLATE
    return escaped
