"""Plotly figures for the dashboard (issue #5): plain data in, figures out.

Rates are bars with 95% Wilson intervals; the n of every bar is in its axis
label, so it is readable whatever the bar's height; a group under MIN_SAMPLE
closed visits gets no bar but the words "too few visits". The previous
period is a hollow marker on the same axis.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cxlog.dashboard import WEEKDAYS, Group
from cxlog.metrics import Counts, Rate
from cxlog.takeaways import TOO_FEW, interval, percent

ENGAGEMENT_COLOURS = {"warm": "#D55E00", "neutral": "#8C8C8C", "missed": "#0072B2"}
DEPTH_COLOURS = ["#C6DBEF", "#6BAED6", "#2171B5", "#08306B"]
BAR = "#4C78A8"
PREVIOUS = "#222222"
HEIGHT = 330


def _layout(fig: go.Figure, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 64, "b": 8},
        # Above the subplot titles, so the two never overlap.
        legend={"orientation": "h", "y": 1.1, "yanchor": "bottom", "x": 0, "font_size": 12},
        hoverlabel={"font_size": 13},
    )
    return fig


def _rate_error(rates: list[Rate], shown: list[bool]) -> dict:
    upper, lower = [], []
    for rate, show in zip(rates, shown, strict=True):
        bounds = rate.interval if show else None
        upper.append(None if bounds is None else 100 * (bounds[1] - rate.value))
        lower.append(None if bounds is None else 100 * (rate.value - bounds[0]))
    return {"type": "data", "array": upper, "arrayminus": lower, "color": "#333", "thickness": 1.2}


def _safe(label: str) -> str:
    """A typed name for plotly's text, which reads <b>, <a href> and the like
    as markup: escaped, it shows as typed (#11)."""
    return html.escape(label, quote=False)


def _hover(label: str, counts: Counts, previous: Counts) -> str:
    text = f"<b>{label}</b><br>"
    if counts.too_few:
        text += f"{TOO_FEW}: {counts.closed:,} closed of {counts.visits:,}"
    else:
        conv = counts.conversion
        text += (
            f"Conversion {percent(conv.value)} (95%: {interval(conv)})<br>"
            f"n = {conv.n:,} closed visits<br>UPS {counts.units_per_sale or 0:.2f}"
            f" over {counts.purchased:,} sales"
        )
    if not previous.too_few:
        text += f"<br>Previous period: {percent(previous.conversion.value)}"
    return text


GOAL = "#2E7D32"


def _previous(
    fig: go.Figure, groups: list[Group], where: dict, axis: str, size: int, **cell: int
) -> None:
    """The previous period's conversion as open diamonds, where it had enough
    visits; ``where`` places them on the groups' ticks, ``axis`` is the value's."""
    previous = [None if g.previous.too_few else 100 * g.previous.conversion.value for g in groups]
    if any(p is not None for p in previous):
        fig.add_scatter(
            **where,
            **{axis: previous},
            mode="markers",
            marker={"symbol": "diamond-open", "size": size, "color": PREVIOUS, "line_width": 2},
            name="Previous period",
            hoverinfo="skip",
            **cell,
        )


def _goal_line(fig: go.Figure, value: float | None, text: str, **where) -> None:
    """A store's goal (issue #14) as a dashed line across the plot."""
    if value is not None:
        fig.add_hline(
            y=value,
            line={"color": GOAL, "dash": "dash", "width": 1.5},
            annotation_text=text,
            annotation_position="top left",
            annotation_font={"size": 11, "color": GOAL},
            **where,
        )


def moment_bars(
    groups: list[Group],
    colours: list[str],
    conversion_goal: float | None = None,
    ups_goal: float | None = None,
) -> go.Figure:
    """Conversion (left) and units per sale (right) per group, side by side;
    the store's goals as dashed lines when given (fractions / units)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Conversion", "Units per sale"),
        horizontal_spacing=0.1,
    )
    shown = [not g.counts.too_few for g in groups]
    conv_ticks = [f"{_safe(g.label)}<br>n = {g.counts.closed:,}" for g in groups]
    ups_ticks = [f"{_safe(g.label)}<br>n = {g.counts.purchased:,}" for g in groups]
    rates = [g.counts.conversion for g in groups]
    fig.add_bar(
        x=conv_ticks,
        y=[100 * r.value if s else None for r, s in zip(rates, shown, strict=True)],
        marker_color=colours,
        error_y=_rate_error(rates, shown),
        text=[percent(r.value, 0) if s else "" for r, s in zip(rates, shown, strict=True)],
        textposition="inside",
        insidetextanchor="start",
        hovertext=[_hover(_safe(g.label), g.counts, g.previous) for g in groups],
        hoverinfo="text",
        name="This period",
        showlegend=False,
        row=1,
        col=1,
    )
    _previous(fig, groups, {"x": conv_ticks}, "y", 11, row=1, col=1)
    values = [g.counts.units_per_sale if s else None for g, s in zip(groups, shown, strict=True)]
    fig.add_bar(
        x=ups_ticks,
        y=values,
        marker_color=colours,
        text=[f"{v:.2f}" if v is not None else "" for v in values],
        textposition="inside",
        insidetextanchor="start",
        hoverinfo="skip",
        showlegend=False,
        row=1,
        col=2,
    )
    for col, ticks in ((1, conv_ticks), (2, ups_ticks)):
        for tick, show in zip(ticks, shown, strict=True):
            if not show:
                fig.add_annotation(
                    x=tick,
                    y=0,
                    text=TOO_FEW,
                    showarrow=False,
                    yanchor="bottom",
                    font={"size": 11, "color": "#666"},
                    row=1,
                    col=col,
                )
    fig.update_yaxes(ticksuffix="%", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    if conversion_goal is not None:
        _goal_line(fig, 100 * conversion_goal, f"goal {percent(conversion_goal, 0)}", row=1, col=1)
    _goal_line(fig, ups_goal, f"goal {ups_goal:.2f}" if ups_goal else "", row=1, col=2)
    return _layout(fig)


def reason_bars(groups: list[Group]) -> go.Figure:
    """Conversion per reason for visit, best first, the too-few last."""
    groups = list(reversed(groups))  # plotly draws the first category at the bottom
    shown = [not g.counts.too_few for g in groups]
    ticks = [f"{_safe(g.label)} (n = {g.counts.closed:,})" for g in groups]
    rates = [g.counts.conversion for g in groups]
    fig = go.Figure()
    error = _rate_error(rates, shown)
    fig.add_bar(
        y=ticks,
        x=[100 * r.value if s else None for r, s in zip(rates, shown, strict=True)],
        orientation="h",
        marker_color=BAR,
        error_x={**error},
        text=[percent(r.value, 0) if s else "" for r, s in zip(rates, shown, strict=True)],
        textposition="inside",
        insidetextanchor="start",
        hovertext=[_hover(_safe(g.label), g.counts, g.previous) for g in groups],
        hoverinfo="text",
        showlegend=False,
    )
    _previous(fig, groups, {"y": ticks}, "x", 10)
    for tick, show in zip(ticks, shown, strict=True):
        if not show:
            fig.add_annotation(
                y=tick,
                x=0,
                text=TOO_FEW,
                showarrow=False,
                xanchor="left",
                font={"size": 11, "color": "#666"},
            )
    fig.update_xaxes(ticksuffix="%", rangemode="tozero")
    return _layout(fig, max(220, 44 * len(groups) + 80))


def no_sale_bars(rows: list[tuple[str, Rate]]) -> go.Figure:
    """Share of no-purchase visits per no-sale reason, most common on top."""
    rows = list(reversed(rows))
    rates = [share for _, share in rows]
    fig = go.Figure()
    fig.add_bar(
        y=[_safe(label) for label, _ in rows],
        x=[100 * r.value for r in rates],
        orientation="h",
        marker_color="#9C755F",
        error_x=_rate_error(rates, [True] * len(rates)),
        text=[f"{percent(r.value, 0)} · {r.successes:,}" for r in rates],
        textposition="inside",
        insidetextanchor="start",
        hovertext=[
            f"{_safe(label)}: {r.successes:,} of {r.n:,} no-purchase visits (95%: {interval(r)})"
            for label, r in rows
        ],
        hoverinfo="text",
        showlegend=False,
    )
    fig.update_xaxes(ticksuffix="%", rangemode="tozero")
    return _layout(fig, max(200, 40 * len(rows) + 70))


def trend_lines(points: pd.DataFrame, conversion_goal: float | None = None) -> go.Figure:
    """Weekly conversion per first engagement; too-few weeks leave a gap; the
    store's conversion goal as a dashed line when given."""
    fig = go.Figure()
    for name, colour in ENGAGEMENT_COLOURS.items():
        mine = points[points["engagement"] == name]
        counts = list(mine["counts"])
        fig.add_scatter(
            x=list(mine["week"]),
            y=[None if c.too_few else 100 * c.conversion.value for c in counts],
            mode="lines+markers",
            name=name.capitalize(),
            line={"color": colour, "width": 2},
            connectgaps=False,
            hovertext=[
                f"{name.capitalize()}, week of {w:%-d %b}: "
                + (TOO_FEW if c.too_few else f"{percent(c.conversion.value)} of {c.closed:,}")
                for w, c in zip(mine["week"], counts, strict=True)
            ],
            hoverinfo="text",
        )
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(tickformat="%-d %b")
    if conversion_goal is not None:
        _goal_line(fig, 100 * conversion_goal, f"conversion goal {percent(conversion_goal, 0)}")
    return _layout(fig)


def heatmap(cells: pd.DataFrame, measure: str) -> go.Figure:
    """Visits or conversion per local weekday and hour (hours with visits only)."""
    counts = cells["counts"]
    busy = sorted({int(h) for h, c in zip(cells["hour"], counts, strict=True) if c.visits})
    hours = list(range(busy[0], busy[-1] + 1)) if busy else list(range(9, 18))
    grid = np.full((7, len(hours)), np.nan)
    text = [["" for _ in hours] for _ in range(7)]
    for day, hour, c in zip(cells["weekday"], cells["hour"], counts, strict=True):
        if hour not in hours:
            continue
        col = hours.index(hour)
        if measure == "visits":
            grid[day, col] = c.visits
            text[day][col] = f"{c.visits:,} visits"
        elif not c.too_few:
            grid[day, col] = 100 * c.conversion.value
            text[day][col] = f"{percent(c.conversion.value)} of {c.closed:,}"
        else:
            text[day][col] = f"{TOO_FEW} ({c.closed})"
    if measure == "visits":
        return week_hours(grid, hours, text, colorscale="Blues", suffix="")
    return week_hours(grid, hours, text, colorscale="RdYlGn", suffix="%")


def week_hours(
    grid: np.ndarray,
    hours: list[int],
    text: list[list[str]],
    *,
    colorscale: str,
    suffix: str,
    **scale: float,
) -> go.Figure:
    """A weekday × local-hour heatmap (the dashboard's, coverage's): ``grid``
    rows Monday first, ``text`` the hover line of each cell."""
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=[f"{h:02d}" for h in hours],
            y=list(WEEKDAYS),
            colorscale=colorscale,
            hovertext=text,
            hoverinfo="text+x+y",
            xgap=2,
            ygap=2,
            colorbar={"ticksuffix": suffix, "thickness": 12},
            **scale,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Hour (store local time)", title_font_size=12)
    return _layout(fig, 320)
