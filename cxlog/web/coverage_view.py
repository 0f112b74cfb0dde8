"""Coverage in tiles, words, a table and a figure (issue #13): plain data in,
plain data or plotly figures out; no Streamlit (the pages draw them). Words,
weekdays and numbers in the reader's language (cxlog.language)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cxlog.calendar import localday
from cxlog.coverage.coverage import Coverage, Overview, Totals
from cxlog.dashboard.takeaways import Tile
from cxlog.language import formats
from cxlog.language.words import _
from cxlog.numbers.figures import decimal, percent, ups
from cxlog.web.charts import week_hours


def tiles(t: Totals) -> list[Tile]:
    """Logging coverage, POS conversion (logged conversion beside it) and POS
    units per transaction (logged units per sale beside it)."""
    logged_conversion = percent(t.logged_conversion)
    return [
        Tile(
            _("Logging coverage"),
            percent(t.coverage, 0),
            None,
            _("{logged} logged of {visitors} visitors · {hours} counter hours").format(
                logged=formats.number(t.logged),
                visitors=decimal(t.visitors),
                hours=formats.number(t.hours),
            ),
        ),
        Tile(
            _("POS conversion"),
            percent(t.pos_conversion),
            None,
            _("{transactions} transactions over {days} days · logged conversion {rate}").format(
                transactions=formats.number(t.pos_transactions),
                days=formats.number(t.pos_days),
                rate=logged_conversion,
            )
            if t.pos_days
            else _("no POS totals for counted days · logged conversion {rate}").format(
                rate=logged_conversion
            ),
        ),
        Tile(
            _("Units per transaction"),
            ups(t.units_per_transaction),
            None,
            _("POS · logged units per sale {ups}").format(ups=ups(t.logged_units_per_sale)),
        ),
    ]


def _grid(cov: Overview) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Visitors, logged and coverage as 7 × 24 arrays (Monday first): the heat
    frame's rows are weekday-major, as ``coverage`` builds it."""
    cells = cov.heat
    if len(cells) != 7 * 24:
        raise ValueError("The coverage grid has one row per weekday and hour.")
    return tuple(cells[name].to_numpy(dtype=float).reshape(7, 24) for name in _CELLS)


_CELLS = ("visitors", "logged", "coverage")


def heat_sentence(cov: Overview, threshold: float) -> str:
    """Where logging is thinnest, in one line."""
    visitors, _logged, share = _grid(cov)
    days, hours = np.nonzero((visitors >= 1) & ~np.isnan(share))
    if not len(days):
        return _("No counter hours in this period.")
    people, rate = visitors[days, hours], share[days, hours]
    # Lowest coverage first; among equals the busiest; then Monday, early hours first.
    worst = np.lexsort((-people, rate))[0]
    where = f"{formats.weekday(int(days[worst]))} {int(hours[worst]):02d}:00"
    low = rate < threshold
    if not low.any():
        return _(
            "Every weekday-hour is at or above {threshold} logged; the thinnest is "
            "{where} at {rate}."
        ).format(threshold=percent(threshold, 0), where=where, rate=percent(rate[worst], 0))
    share_low = people[low].sum() / people.sum()
    return _(
        "{low} of {n} weekday-hours are under {threshold} logged, holding {share} of the "
        "visitors; the thinnest is {where} at {rate} of {visitors} visitors."
    ).format(
        low=formats.number(int(low.sum())),
        n=formats.number(len(rate)),
        threshold=percent(threshold, 0),
        share=percent(share_low, 0),
        where=where,
        rate=percent(rate[worst], 0),
        visitors=decimal(people[worst]),
    )


def heatmap(cov: Overview) -> go.Figure:
    """Coverage per local weekday and hour (hours the counter counted visitors in)."""
    visitors, logged, share = _grid(cov)
    busy = np.flatnonzero((visitors > 0).any(axis=0))
    hours = list(range(busy[0], busy[-1] + 1)) if len(busy) else list(range(9, 18))
    counted = visitors[:, hours] > 0
    grid = np.where(counted, np.minimum(100 * np.nan_to_num(share[:, hours]), 150), np.nan)
    text = [
        [
            _("{rate}: {logged} logged of {visitors}").format(
                rate=percent(share[d, h], 0),
                logged=decimal(logged[d, h]),
                visitors=decimal(visitors[d, h]),
            )
            if counted[d, col]
            else ""
            for col, h in enumerate(hours)
        ]
        for d in range(7)
    ]
    return week_hours(grid, hours, text, colorscale="RdYlGn", suffix="%", zmin=0, zmax=100)


def day_table(cov: Coverage, store_names: dict[int, str]) -> pd.DataFrame:
    """One row per store and local day: the day's numbers, as text for a table
    (for people: its columns are named in their language)."""
    d = cov.daily
    several = d["store_id"].nunique() > 1
    rows = []
    for r in d.sort_values(["day", "store_id"], ascending=[False, True]).itertuples():
        row = {_("Day"): localday.day_text(r.day, year=True)}
        if several:
            row[_("Store")] = store_names.get(r.store_id, str(r.store_id))
        row |= {
            _("Visitors"): decimal(r.visitors) if r.counted else "—",
            _("Logged"): decimal(r.logged) if r.counted else "—",
            # A day the counter counted nobody has no coverage (not "nan%").
            _("Coverage"): percent(None if pd.isna(r.coverage) else r.coverage, 0)
            if r.counted
            else _("no counter data"),
            _("POS transactions"): "—"
            if pd.isna(r.pos_transactions)
            else decimal(r.pos_transactions),
            _("POS conversion"): percent(None if pd.isna(r.pos_conversion) else r.pos_conversion),
            _("Logged conversion"): percent(r.purchased / r.closed if r.closed else None),
        }
        rows.append(row)
    return pd.DataFrame(rows)
