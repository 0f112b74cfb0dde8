"""Drawing coverage on the manager pages (issue #13): the dashboard's tiles,
low-coverage warning and hour × weekday view. A small Streamlit module, so
the dashboard page gains two calls, not a section of code."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from cxlog.core.text import plain
from cxlog.coverage import coverage
from cxlog.language import formats
from cxlog.language.words import _
from cxlog.storage.db import Storage, open_storage
from cxlog.web import coverage_view, ui


@st.cache_data(ttl=600, max_entries=48, show_spinner=False)
def _overview(path: str, version: tuple, ranges: tuple[tuple[int, datetime, datetime], ...]):
    # Keyed by the dashboard's data version (an import writes an audit row).
    return coverage.overview(open_storage(path), {k: (start, end) for k, start, end in ranges})


def load(storage: Storage, version: tuple, dash) -> coverage.Overview | None:
    """Coverage of the dashboard's stores and periods, for whole stores (the
    counter knows no associates or reasons), from the pre-summed tables."""
    ranges = tuple((k, s.start, s.end) for k, s in sorted(dash.spans.items()))
    return ui.attempt("coverage", lambda: _overview(storage.address, version, ranges))


# The tiles' containers' keys, in the order coverage_view.tiles gives them
# (their English names, as before the labels followed the language).
TILE_KEYS = ("Logging coverage", "POS conversion", "Units per transaction")


def draw_tiles(cov: coverage.Overview | None, store_names: dict[int, str]) -> None:
    """The three tiles and, under the threshold, the warning in words."""
    ui.show_error("coverage")
    if cov is None or not cov.has_traffic:
        return
    tiles = coverage_view.tiles(cov.totals)
    for column, tile, name in zip(st.columns(3), tiles, TILE_KEYS, strict=True):
        with column, st.container(border=True, key=f"coverage-tile-{name}"):
            st.metric(tile.label, tile.value, tile.delta, tile.delta_color)
            st.caption(tile.caption)
    # Names are typed by managers: escaped; the rest is our own Markdown.
    note = coverage.warning(cov, {k: plain(v) for k, v in store_names.items()})
    if note:
        st.warning(note, icon=":material/warning:")


def draw_heat(cov: coverage.Overview | None, store_names: dict[int, str]) -> None:
    """The hour × weekday coverage view and the trust flags."""
    if cov is None or not cov.has_traffic:
        return
    threshold = min(s.coverage_threshold for s in cov.settings.values())
    st.subheader(_("Logging coverage, hour × weekday"))
    st.markdown(coverage_view.heat_sentence(cov, threshold))
    st.plotly_chart(coverage_view.heatmap(cov), key="chart-coverage")
    st.caption(
        _(
            "Logged visits ÷ visitors counted at the door, per hour and weekday in each store's "
            "local time, for whole stores (the associate and reason filters do not apply). "
            "Hours without counter figures are left out."
        )
    )
    lines = coverage.flag_lines(cov, {k: plain(v) for k, v in store_names.items()})
    if lines:
        with st.expander(_("Trust flags ({n})").format(n=formats.number(len(cov.flags)))):
            for line in lines:
                st.markdown(line)
