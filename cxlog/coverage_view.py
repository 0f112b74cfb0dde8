"""Coverage in tiles, words, a table and a figure (issue #13): plain data in,
plain data or plotly figures out; no Streamlit (the pages draw them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cxlog.charts import week_hours
from cxlog.coverage import Coverage, Totals
from cxlog.dashboard import WEEKDAYS
from cxlog.takeaways import Tile, percent, ups


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


def heat_sentence(cov: Coverage, threshold: float) -> str:
    """Where logging is thinnest, in one line."""
    cells = cov.heat[cov.heat["visitors"] >= 1].dropna(subset=["coverage"])
    if cells.empty:
        return "No counter hours in this period."
    low = cells[cells["coverage"] < threshold]
    worst = cells.sort_values(["coverage", "visitors"], ascending=[True, False]).iloc[0]
    where = f"{WEEKDAYS[int(worst['weekday'])]} {int(worst['hour']):02d}:00"
    if low.empty:
        return (
            f"Every weekday-hour is at or above {threshold:.0%} logged; the thinnest is "
            f"{where} at {percent(worst['coverage'], 0)}."
        )
    share = low["visitors"].sum() / cells["visitors"].sum()
    return (
        f"{len(low):,} of {len(cells):,} weekday-hours are under {threshold:.0%} logged, "
        f"holding {percent(share, 0)} of the visitors; the thinnest is {where} at "
        f"{percent(worst['coverage'], 0)} of {worst['visitors']:,.0f} visitors."
    )


def heatmap(cov: Coverage) -> go.Figure:
    """Coverage per local weekday and hour (hours the counter counted visitors in)."""
    cells = cov.heat
    busy = sorted(int(h) for h in cells.loc[cells["visitors"] > 0, "hour"].unique())
    hours = list(range(busy[0], busy[-1] + 1)) if busy else list(range(9, 18))
    grid = np.full((7, len(hours)), np.nan)
    text = [["" for _ in hours] for _ in range(7)]
    for day, hour, visitors, logged, share in cells[
        ["weekday", "hour", "visitors", "logged", "coverage"]
    ].itertuples(index=False, name=None):
        if hour not in hours or not visitors:
            continue
        col = hours.index(hour)
        grid[day, col] = min(100 * share, 150)
        text[day][col] = f"{percent(share, 0)}: {logged:,.0f} logged of {visitors:,.0f}"
    return week_hours(grid, hours, text, colorscale="RdYlGn", suffix="%", zmin=0, zmax=100)


def day_table(cov: Coverage, store_names: dict[int, str]) -> pd.DataFrame:
    """One row per store and local day: the day's numbers, as text for a table."""
    d = cov.daily
    several = d["store_id"].nunique() > 1
    rows = []
    for r in d.sort_values(["day", "store_id"], ascending=[False, True]).itertuples():
        row = {"Day": f"{r.day:%a %-d %b %Y}"}
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
