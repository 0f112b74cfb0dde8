"""The dashboard's figures, written as plain dicts (cxlog/web/charts.py), against
plotly's own layout of the same figure."""

from __future__ import annotations

from plotly.subplots import make_subplots

from cxlog.dashboard.dashboard import Group
from cxlog.numbers.figures import TOO_FEW
from cxlog.numbers.metrics import Counts
from cxlog.web import charts

MANY = Counts(visits=50, closed=40, purchased=20, units=30)
FEW = Counts(visits=5, closed=4, purchased=1, units=1)


def groups() -> list[Group]:
    return [
        Group("warm", "Warm", MANY, MANY),
        Group("neutral", "Neutral", FEW, MANY),
        Group("missed", "Missed", MANY, FEW),
    ]


def test_moment_bars_place_their_halves_titles_and_goals_as_plotly_does():
    fig = charts.moment_bars(groups(), ["#111", "#222", "#333"], 0.3, 2.5)
    plotly = make_subplots(
        rows=1, cols=2, subplot_titles=("Conversion", "Units per sale"), horizontal_spacing=0.1
    )
    plotly.add_bar(x=["a"], y=[1], row=1, col=1)  # plotly draws lines on subplots with data
    plotly.add_bar(x=["a"], y=[1], row=1, col=2)
    plotly.add_hline(y=30, line_dash="dash", row=1, col=1, annotation_text="goal")
    plotly.add_hline(y=2.5, line_dash="dash", row=1, col=2, annotation_text="goal")
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        assert fig.layout[axis].domain == plotly.layout[axis].domain, axis
        assert fig.layout[axis].anchor == plotly.layout[axis].anchor, axis
    titles = [a for a in fig.layout.annotations if a.text in ("Conversion", "Units per sale")]
    assert [(a.text, a.x, a.y, a.xanchor, a.yanchor) for a in titles] == [
        (a.text, a.x, a.y, a.xanchor, a.yanchor) for a in plotly.layout.annotations[:2]
    ]
    # Conversion on the left axes, units per sale on the right; the
    # previous period only where it had enough visits.
    bars = [t for t in fig.data if t.type == "bar"]
    assert [(t.xaxis, t.yaxis) for t in bars] == [("x", "y"), ("x2", "y2")]
    assert bars[0].y[0] == 50.0 and bars[0].y[1] is None and bars[1].y[0] == 1.5
    previous = next(t for t in fig.data if t.name == "Previous period")
    assert list(previous.y) == [50.0, 50.0, None]
    # The group with too few visits says so under each half, at its own tick.
    few = [(a.x, a.xref) for a in fig.layout.annotations if a.text == TOO_FEW]
    assert few == [(bars[0].x[1], "x"), (bars[1].x[1], "x2")]
    # The goals as plotly's add_hline draws them: across each half's domain.
    assert [(s.xref, s.yref, s.y0, s.x0, s.x1) for s in fig.layout.shapes] == [
        (s.xref, s.yref, s.y0, s.x0, s.x1) for s in plotly.layout.shapes
    ]
    assert [a.xref for a in fig.layout.annotations if a.text.startswith("goal")] == [
        "x domain",
        "x2 domain",
    ]


def test_charts_without_goals_or_groups_still_make_figures():
    fig = charts.moment_bars(groups(), ["#111"] * 3)
    assert not fig.layout.shapes and len(fig.layout.annotations) == 4  # 2 titles, 2 too few
    empty = charts.reason_bars([])
    assert empty.layout.height == 220 and list(empty.data[0].y) == []
    reasons = charts.reason_bars(groups())
    assert [a.y for a in reasons.layout.annotations] == [reasons.data[0].y[1]]
    assert reasons.layout.height == 220  # at least 220 px
    assert charts.reason_bars(groups() + groups()).layout.height == 44 * 6 + 80
