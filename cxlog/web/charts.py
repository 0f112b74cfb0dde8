"""Plotly figures for the dashboard (issue #5): plain data in, figures out.

Rates are bars with 95% Wilson intervals; the n of every bar is in its axis
label, so it is readable whatever the bar's height; a group under MIN_SAMPLE
closed visits gets no bar but the words "too few visits". The previous
period is a hollow marker on the same axis. Titles, legends, hover texts,
weekdays and numbers are in the reader's language (cxlog.language).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from babel.numbers import get_decimal_symbol, get_group_symbol

from cxlog.calendar import localday
from cxlog.dashboard.dashboard import ENGAGEMENT_LABELS, Group
from cxlog.language import formats
from cxlog.language.words import ENGLISH, _, current
from cxlog.numbers.figures import TOO_FEW, interval, percent, ups
from cxlog.numbers.metrics import Counts, Rate

ENGAGEMENT_COLOURS = {"warm": "#D55E00", "neutral": "#8C8C8C", "missed": "#0072B2"}
DEPTH_COLOURS = ["#C6DBEF", "#6BAED6", "#2171B5", "#08306B"]
BAR = "#4C78A8"
PREVIOUS = "#222222"
HEIGHT = 330


# Every figure is written as plain dicts and validated by plotly once
# (``_figure``). Built call by call through plotly's API (make_subplots,
# update_layout, add_hline …) the six dashboard charts took ~66 ms, half of a
# dashboard rerun; from dicts they take ~15 ms, with the same figure out.
_LAYOUT = {
    "margin": {"l": 8, "r": 8, "t": 64, "b": 8},
    # Above the subplot titles, so the two never overlap.
    "legend": {"orientation": "h", "y": 1.1, "yanchor": "bottom", "x": 0, "font": {"size": 12}},
    "hoverlabel": {"font": {"size": 13}},
}


def _figure(data: list[dict], layout: dict, height: int = HEIGHT) -> go.Figure:
    lang = current()
    if lang != ENGLISH:  # plotly's own numbers (axes, colour bars) with the language's signs
        layout = {**layout, "separators": get_decimal_symbol(lang) + get_group_symbol(lang)}
    return go.Figure({"data": data, "layout": {**layout, **_LAYOUT, "height": height}})


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
    lines = [f"<b>{label}</b>"]
    if counts.too_few:
        lines.append(
            _("too few visits: {closed} closed of {visits}").format(
                closed=formats.number(counts.closed), visits=formats.number(counts.visits)
            )
        )
    else:
        conv = counts.conversion
        lines += [
            _("Conversion {rate} ({ci}: {interval})").format(
                rate=percent(conv.value), ci=formats.confidence(), interval=interval(conv)
            ),
            _("n = {n} closed visits").format(n=formats.number(conv.n)),
            _("UPS {ups} over {n} sales").format(
                ups=ups(counts.units_per_sale or 0), n=formats.number(counts.purchased)
            ),
        ]
    if not previous.too_few:
        lines.append(_("Previous period: {rate}").format(rate=percent(previous.conversion.value)))
    return "<br>".join(lines)


GOAL = "#2E7D32"


def _previous(groups: list[Group], where: dict, axis: str, size: int, **cell: str) -> list[dict]:
    """The previous period's conversion as open diamonds, where it had enough
    visits; ``where`` places them on the groups' ticks, ``axis`` is the value's."""
    previous = [None if g.previous.too_few else 100 * g.previous.conversion.value for g in groups]
    if not any(p is not None for p in previous):
        return []
    marker = {"symbol": "diamond-open", "size": size, "color": PREVIOUS, "line": {"width": 2}}
    return [
        {
            "type": "scatter",
            **where,
            axis: previous,
            "mode": "markers",
            "marker": marker,
            "name": _("Previous period"),
            "hoverinfo": "skip",
            **cell,
        }
    ]


def _goal_line(value: float | None, text: str, x: str = "x", y: str = "y") -> dict:
    """A store's goal (issue #14) as a dashed line across the plot: its shape
    and its label, for the layout's ``shapes`` and ``annotations``."""
    if value is None:
        return {"shapes": [], "annotations": []}
    line = {"color": GOAL, "dash": "dash", "width": 1.5}
    across = {"xref": f"{x} domain", "yref": y}
    return {
        "shapes": [
            {"type": "line", "x0": 0, "x1": 1, "y0": value, "y1": value, "line": line, **across}
        ],
        "annotations": [
            {
                "text": text,
                "x": 0,
                "xanchor": "left",
                "y": value,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": GOAL},
                **across,
            }
        ],
    }


def _too_few(where: str, tick: str, value: str, anchor: dict, **axes: str) -> dict:
    """The words "too few visits" at the foot of a group that has no bar."""
    return {
        where: tick,
        value: 0,
        "text": _(TOO_FEW),
        "showarrow": False,
        **anchor,
        "font": {"size": 11, "color": "#666"},
        **axes,
    }


def moment_bars(
    groups: list[Group],
    colours: list[str],
    conversion_goal: float | None = None,
    ups_goal: float | None = None,
) -> go.Figure:
    """Conversion (left) and units per sale (right) per group, side by side;
    the store's goals as dashed lines when given (fractions / units)."""
    shown = [not g.counts.too_few for g in groups]
    conv_ticks = [f"{_safe(g.label)}<br>n = {formats.number(g.counts.closed)}" for g in groups]
    ups_ticks = [f"{_safe(g.label)}<br>n = {formats.number(g.counts.purchased)}" for g in groups]
    rates = [g.counts.conversion for g in groups]
    left, right = {"xaxis": "x", "yaxis": "y"}, {"xaxis": "x2", "yaxis": "y2"}
    values = [g.counts.units_per_sale if s else None for g, s in zip(groups, shown, strict=True)]
    bars = {"textposition": "inside", "insidetextanchor": "start", "showlegend": False}
    data = [
        {
            "type": "bar",
            "x": conv_ticks,
            "y": [100 * r.value if s else None for r, s in zip(rates, shown, strict=True)],
            "marker": {"color": colours},
            "error_y": _rate_error(rates, shown),
            "text": [percent(r.value, 0) if s else "" for r, s in zip(rates, shown, strict=True)],
            "hovertext": [_hover(_safe(g.label), g.counts, g.previous) for g in groups],
            "hoverinfo": "text",
            "name": _("This period"),
            **bars,
            **left,
        },
        *_previous(groups, {"x": conv_ticks}, "y", 11, **left),
        {
            "type": "bar",
            "x": ups_ticks,
            "y": values,
            "marker": {"color": colours},
            "text": [ups(v) if v is not None else "" for v in values],
            "hoverinfo": "skip",
            **bars,
            **right,
        },
    ]
    # The two titles as make_subplots places them: centred above each half.
    titles = [
        {
            "text": text,
            "x": x,
            "xanchor": "center",
            "xref": "paper",
            "y": 1.0,
            "yanchor": "bottom",
            "yref": "paper",
            "showarrow": False,
            "font": {"size": 16},
        }
        for text, x in ((_("Conversion"), 0.225), (_("Units per sale"), 0.775))
    ]
    too_few = [
        _too_few("x", tick, "y", {"yanchor": "bottom"}, xref=x, yref=y)
        for ticks, (x, y) in ((conv_ticks, ("x", "y")), (ups_ticks, ("x2", "y2")))
        for tick, show in zip(ticks, shown, strict=True)
        if not show
    ]
    goals = [
        _goal_line(
            None if conversion_goal is None else 100 * conversion_goal,
            _("goal {value}").format(value=percent(conversion_goal, 0))
            if conversion_goal is not None
            else "",
        ),
        _goal_line(
            ups_goal, _("goal {value}").format(value=ups(ups_goal)) if ups_goal else "", "x2", "y2"
        ),
    ]
    layout = {
        "xaxis": {"anchor": "y", "domain": [0.0, 0.45]},
        "xaxis2": {"anchor": "y2", "domain": [0.55, 1.0]},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "ticksuffix": "%", "rangemode": "tozero"},
        "yaxis2": {"anchor": "x2", "domain": [0.0, 1.0], "rangemode": "tozero"},
        "annotations": titles + too_few + [a for g in goals for a in g["annotations"]],
        "shapes": [shape for g in goals for shape in g["shapes"]],
    }
    return _figure(data, layout)


def reason_bars(groups: list[Group]) -> go.Figure:
    """Conversion per reason for visit, best first, the too-few last."""
    groups = list(reversed(groups))  # plotly draws the first category at the bottom
    shown = [not g.counts.too_few for g in groups]
    ticks = [f"{_safe(g.label)} (n = {formats.number(g.counts.closed)})" for g in groups]
    rates = [g.counts.conversion for g in groups]
    data = [
        {
            "type": "bar",
            "y": ticks,
            "x": [100 * r.value if s else None for r, s in zip(rates, shown, strict=True)],
            "orientation": "h",
            "marker": {"color": BAR},
            "error_x": _rate_error(rates, shown),
            "text": [percent(r.value, 0) if s else "" for r, s in zip(rates, shown, strict=True)],
            "textposition": "inside",
            "insidetextanchor": "start",
            "hovertext": [_hover(_safe(g.label), g.counts, g.previous) for g in groups],
            "hoverinfo": "text",
            "showlegend": False,
        },
        *_previous(groups, {"y": ticks}, "x", 10),
    ]
    layout = {
        "xaxis": {"ticksuffix": "%", "rangemode": "tozero"},
        "annotations": [
            _too_few("y", tick, "x", {"xanchor": "left"})
            for tick, show in zip(ticks, shown, strict=True)
            if not show
        ],
    }
    return _figure(data, layout, max(220, 44 * len(groups) + 80))


def no_sale_bars(rows: list[tuple[str, Rate]]) -> go.Figure:
    """Share of no-purchase visits per no-sale reason, most common on top."""
    rows = list(reversed(rows))
    rates = [share for _label, share in rows]
    bar = {
        "type": "bar",
        "y": [_safe(label) for label, _share in rows],
        "x": [100 * r.value for r in rates],
        "orientation": "h",
        "marker": {"color": "#9C755F"},
        "error_x": _rate_error(rates, [True] * len(rates)),
        "text": [f"{percent(r.value, 0)} · {formats.number(r.successes)}" for r in rates],
        "textposition": "inside",
        "insidetextanchor": "start",
        "hovertext": [
            _("{reason}: {n} of {total} no-purchase visits ({ci}: {interval})").format(
                reason=_safe(label),
                ci=formats.confidence(),
                n=formats.number(r.successes),
                total=formats.number(r.n),
                interval=interval(r),
            )
            for label, r in rows
        ],
        "hoverinfo": "text",
        "showlegend": False,
    }
    layout = {"xaxis": {"ticksuffix": "%", "rangemode": "tozero"}}
    return _figure([bar], layout, max(200, 40 * len(rows) + 70))


def trend_lines(points: pd.DataFrame, conversion_goal: float | None = None) -> go.Figure:
    """Weekly conversion per first engagement; too-few weeks leave a gap; the
    store's conversion goal as a dashed line when given."""
    data = []
    for name, colour in ENGAGEMENT_COLOURS.items():
        mine = points[points["engagement"] == name]
        counts = list(mine["counts"])
        label = _(ENGAGEMENT_LABELS[name])
        data.append(
            {
                "type": "scatter",
                "x": list(mine["week"]),
                "y": [None if c.too_few else 100 * c.conversion.value for c in counts],
                "mode": "lines+markers",
                "name": label,
                "line": {"color": colour, "width": 2},
                "connectgaps": False,
                "hovertext": [
                    _("{engagement}, week of {day}: {rate}").format(
                        engagement=label,
                        day=localday.day_text(w, weekday=False),
                        rate=_(TOO_FEW)
                        if c.too_few
                        else _("{rate} of {n}").format(
                            rate=percent(c.conversion.value), n=formats.number(c.closed)
                        ),
                    )
                    for w, c in zip(mine["week"], counts, strict=True)
                ],
                "hoverinfo": "text",
            }
        )
    goal = _goal_line(
        None if conversion_goal is None else 100 * conversion_goal,
        _("conversion goal {value}").format(value=percent(conversion_goal, 0))
        if conversion_goal is not None
        else "",
    )
    layout = {
        "yaxis": {"ticksuffix": "%", "rangemode": "tozero"},
        "xaxis": _week_ticks(sorted(set(points["week"])) if len(points) else []),
        **{k: v for k, v in goal.items() if v},
    }
    return _figure(data, layout)


def _week_ticks(weeks: list) -> dict:
    """The trend's date axis: plotly's own day-month ticks in English; in
    another language plotly knows no month names, so the Mondays are named
    by cxlog.language.formats (at most about ten of them)."""
    if current() == ENGLISH or not weeks:
        return {"tickformat": "%-d %b"}
    shown = weeks[:: max(1, -(-len(weeks) // 10))]
    return {
        "tickvals": shown,
        "ticktext": [localday.day_text(w, weekday=False) for w in shown],
    }


def heatmap(cells: pd.DataFrame, measure: str) -> go.Figure:
    """Visits or conversion per local weekday and hour (hours with visits only)."""
    counts = cells["counts"]
    busy = sorted({int(h) for h, c in zip(cells["hour"], counts, strict=True) if c.visits})
    hours = list(range(busy[0], busy[-1] + 1)) if busy else list(range(9, 18))
    grid = np.full((7, len(hours)), np.nan)
    text = [["" for _hour in hours] for _day in range(7)]
    for day, hour, c in zip(cells["weekday"], cells["hour"], counts, strict=True):
        if hour not in hours:
            continue
        col = hours.index(hour)
        if measure == "visits":
            grid[day, col] = c.visits
            text[day][col] = _("{n} visits").format(n=formats.number(c.visits))
        elif not c.too_few:
            grid[day, col] = 100 * c.conversion.value
            text[day][col] = _("{rate} of {n}").format(
                rate=percent(c.conversion.value), n=formats.number(c.closed)
            )
        else:
            text[day][col] = f"{_(TOO_FEW)} ({formats.number(c.closed)})"
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
    heat = {
        "type": "heatmap",
        "z": grid,
        "x": [f"{h:02d}" for h in hours],
        "y": list(formats.weekdays()),
        "colorscale": colorscale,
        "hovertext": text,
        "hoverinfo": "text+x+y",
        "xgap": 2,
        "ygap": 2,
        "colorbar": {"ticksuffix": suffix, "thickness": 12},
        **scale,
    }
    layout = {
        "yaxis": {"autorange": "reversed"},
        "xaxis": {"title": {"text": _("Hour (store local time)"), "font": {"size": 12}}},
    }
    return _figure([heat], layout, 320)
