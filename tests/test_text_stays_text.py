"""Typed names stay text in the dashboard's charts and team table and in both
CSVs, whatever they start with (#11)."""

from __future__ import annotations

import csv
import io
from datetime import date

from cxlog.core.model import utc_now
from cxlog.dashboard import takeaways as words
from cxlog.dashboard.dashboard import Group, TeamRow
from cxlog.export import export, summary
from cxlog.export.export import ExportSelection
from cxlog.numbers.metrics import Counts, Rate
from cxlog.stores import catalog
from cxlog.visits import visits
from cxlog.web import charts
from tests.conftest import new_id

LINK = "[won](http://evil.example)"
IMAGE = "![x](http://evil.example/a.png)"
HTML = '<a href="http://evil.example">Ana</a><img src=x onerror=alert(1)>'


def test_hostile_names_are_escaped_in_chart_text():
    many = Counts(visits=40, closed=40, purchased=20, units=30)
    groups = [Group(i, name, many) for i, name in enumerate((LINK, IMAGE, HTML))]
    for figure in (charts.reason_bars(groups), charts.moment_bars(groups, ["#111"] * 3)):
        texts = []
        for trace in figure.data:
            for attr in ("hovertext", "x", "y"):
                values = getattr(trace, attr, None)
                if values is not None:
                    texts += [v for v in values if isinstance(v, str)]
        joined = " ".join(texts)
        assert "<a href" not in joined and "<img" not in joined
        assert "&lt;a href=&quot;" in joined or '&lt;a href="http' in joined
        assert LINK in joined  # markdown means nothing to plotly: kept as typed
    bars = charts.no_sale_bars([(HTML, Rate(3, 10))])
    assert "<img" not in bars.data[0].hovertext[0] and "&lt;img" in bars.data[0].hovertext[0]
    assert bars.data[0].y[0].startswith("&lt;a href")


def test_hostile_names_are_escaped_in_the_team_table():
    rows = [
        TeamRow(1, LINK, IMAGE, True, Counts(visits=30, closed=30, purchased=9), Counts(), 1),
        TeamRow(2, HTML, IMAGE, False, Counts(visits=3, closed=3, purchased=1), Counts(), None),
    ]
    table = words.team_table(rows, Counts(visits=33, closed=33, purchased=10), Counts())
    names, stores = list(table["Associate"]), list(table["Store"])
    # Markdown punctuation is backslash-escaped: st.table shows it as typed.
    assert names[1].startswith(r"\[won\]") and "](" not in names[1]
    assert stores[1].startswith(r"\!\[x\]") and "](" not in stores[1]
    assert names[2].startswith(r"\<a href") and names[2].endswith(r"(inactive)")


def test_a_formula_behind_an_invisible_character_is_neutralised_in_both_csvs(storage, shop):
    hidden = '\u200b=HYPERLINK("http://evil.example","Click")'
    with storage.write() as db:  # straight in: a restored or hand-edited file
        db.execute("UPDATE associates SET name = ? WHERE id = ?", [hidden, shop["ana"]])
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm", at=utc_now())
    visits.record_purchase(storage, vid, 2, actor="test")
    today = utc_now().date()
    selection = ExportSelection(first_day=date(today.year, 1, 1), last_day=today)
    cells = [
        cell
        for row in csv.reader(io.StringIO(export.visits_csv(storage, selection).decode()))
        for cell in row
    ]
    assert "'" + hidden in cells and hidden not in cells
    summary_cells = [
        cell
        for row in csv.reader(io.StringIO(summary.summary_csv(storage, ExportSelection()).decode()))
        for cell in row
    ]
    assert "'" + hidden in summary_cells and hidden not in summary_cells
    assert catalog.get_store(storage, shop["store"])  # nothing else disturbed
