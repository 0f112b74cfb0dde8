"""Coverage in tiles, words, a table and a figure (issue #13): plain data in,
plain data or plotly figures out; no Streamlit (the pages draw them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cxlog.calendar import localday
from cxlog.coverage.coverage import Coverage, Overview, Totals
from cxlog.dashboard.dashboard import WEEKDAYS
from cxlog.dashboard.takeaways import Tile
from cxlog.numbers.figures import percent, ups
from cxlog.web.charts import week_hours


def tiles(t: Totals) -> list[Tile]:
    """Logging coverage, POS conversion (logged conversion beside it) and POS
    units per transaction (logged units per sale beside it)."""
    return [
        Tile(
            "Logging coverage",
            percent(t.coverage, 0),
            None,
            f"{t.logged:,} logged of {t.visitors:,.0f} visitors · {t.hours:,} counter hours",
        ),
        Tile(
            "POS conversion",
            percent(t.pos_conversion),
            None,
            f"{t.pos_transactions:,} transactions over {t.pos_days:,} days · "
            f"logged conversion {percent(t.logged_conversion)}"
            if t.pos_days
            else f"no POS totals for counted days · logged conversion "
            f"{percent(t.logged_conversion)}",
        ),
        Tile(
            "Units per transaction",
            ups(t.units_per_transaction),
            None,
            f"POS · logged units per sale {ups(t.logged_units_per_sale)}",
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
    visitors, _, share = _grid(cov)
    days, hours = np.nonzero((visitors >= 1) & ~np.isnan(share))
    if not len(days):
        return "No counter hours in this period."
    people, rate = visitors[days, hours], share[days, hours]
    # Lowest coverage first; among equals the busiest; then Monday, early hours first.
    worst = np.lexsort((-people, rate))[0]
    where = f"{WEEKDAYS[int(days[worst])]} {int(hours[worst]):02d}:00"
    low = rate < threshold
    if not low.any():
        return (
            f"Every weekday-hour is at or above {percent(threshold, 0)} logged; the thinnest is "
            f"{where} at {percent(rate[worst], 0)}."
        )
    share_low = people[low].sum() / people.sum()
    return (
        f"{int(low.sum()):,} of {len(rate):,} weekday-hours are under"
        f" {percent(threshold, 0)} logged, "
        f"holding {percent(share_low, 0)} of the visitors; the thinnest is {where} at "
        f"{percent(rate[worst], 0)} of {people[worst]:,.0f} visitors."
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
            f"{percent(share[d, h], 0)}: {logged[d, h]:,.0f} logged of {visitors[d, h]:,.0f}"
            if counted[d, col]
            else ""
            for col, h in enumerate(hours)
        ]
        for d in range(7)
    ]
    return week_hours(grid, hours, text, colorscale="RdYlGn", suffix="%", zmin=0, zmax=100)


def day_table(cov: Coverage, store_names: dict[int, str]) -> pd.DataFrame:
    """One row per store and local day: the day's numbers, as text for a table."""
    d = cov.daily
    several = d["store_id"].nunique() > 1
    rows = []
    for r in d.sort_values(["day", "store_id"], ascending=[False, True]).itertuples():
        row = {"Day": localday.day_text(r.day, year=True)}
        if several:
            row["Store"] = store_names.get(r.store_id, str(r.store_id))
        row |= {
            "Visitors": f"{r.visitors:,.0f}" if r.counted else "—",
            "Logged": f"{r.logged:,.0f}" if r.counted else "—",
            # A day the counter counted nobody has no coverage (not "nan%").
            "Coverage": percent(None if pd.isna(r.coverage) else r.coverage, 0)
            if r.counted
            else "no counter data",
            "POS transactions": "—"
            if pd.isna(r.pos_transactions)
            else f"{r.pos_transactions:,.0f}",
            "POS conversion": percent(None if pd.isna(r.pos_conversion) else r.pos_conversion),
            "Logged conversion": percent(r.purchased / r.closed if r.closed else None),
        }
        rows.append(row)
    return pd.DataFrame(rows)
