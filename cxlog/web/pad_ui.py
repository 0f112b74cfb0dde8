"""The tap pad as a Streamlit component (issue #10): the one place that
mounts cxlog/web/pad/ (plain JS and CSS, no build step, no framework) with
``st.components.v2``. The Log page passes it data; the pad sends taps to the
JSON API itself, so this module only draws.

Not shadow-isolated: the pad's CSS is scoped by its own ``.cx-pad`` class,
and its JS must reach Streamlit's page around it (the connection dialog).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cxlog.web import language_ui, pad_words

_FOLDER = Path(__file__).resolve().parent / "pad"

_mount = st.components.v2.component(
    "cxlog_pad",
    html="",
    css=(_FOLDER / "pad.css").read_text(encoding="utf-8"),
    js=(_FOLDER / "pad.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)


def pad(data: dict) -> None:
    """Draw the pad with ``data`` (cxlog.visits.taps.pad_data) and its words
    in this page's language (issue #29). The pad asks for a rerun (its
    "language" trigger) when the board says the store's language changed."""
    data = {**data, "words": pad_words.pad_words(), **language_ui.for_pad()}
    _mount(key="pad", data=data, on_language_change=lambda: None)
