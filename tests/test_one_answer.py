"""One answer, whatever the engine (#27): the same demo seed written through
cxlog into a SQLite file and into PostgreSQL gives the same dashboard (every
tile, n and interval, of a year and of a month, all stores and one), the
same huddle Markdown, and byte-identical visits, summary and follow-ups CSVs.

Runs on every machine with PostgreSQL's server binaries, whichever engine
the rest of the suite uses (CXLOG_TEST_ENGINE)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from cxlog import demo
from cxlog.calendar import periods
from cxlog.coaching import coaching
from cxlog.coverage import traffic_demo
from cxlog.dashboard import dashboard
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.export import export, followups_csv, summary
from cxlog.export.export import ExportSelection
from cxlog.storage.db import Storage
from cxlog.storage.postgres import PostgresStorage, close_pools

pytestmark = pytest.mark.first_pass  # uses both engines itself

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
SEED = 11


def written(storage) -> None:
    demo.generate(storage, visits=4_000, days=400, stores=3, associates=9, seed=SEED, now=NOW)
    traffic_demo.add(storage, seed=SEED)


@pytest.fixture(scope="module")
def engines(tmp_path_factory, pg_template):
    running, template = pg_template
    sqlite = Storage(tmp_path_factory.mktemp("one") / "cxlog.db")
    postgres = PostgresStorage(running.database("one_answer", template=template))
    for storage in (sqlite, postgres):
        written(storage)
    yield sqlite, postgres
    close_pools()


def plain(value):
    """A dashboard as nested plain values (its tables as their cells), so two
    compare with ==."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict("split"))
    if isinstance(value, pd.Series):
        return plain(value.to_dict())
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _periods():
    today = NOW.date()
    year = DashboardFilters(period=periods.CUSTOM, first=today - timedelta(days=364), last=today)
    return {"year": year, "month": DashboardFilters(period=periods.LAST_30)}


@pytest.mark.parametrize("period", ["year", "month"])
@pytest.mark.parametrize("store_id", [None, 2])
def test_the_dashboard_is_the_same_on_both_engines(engines, period, store_id):
    sqlite, postgres = engines
    selection = _periods()[period]
    selection = DashboardFilters(**{**selection.__dict__, "store_id": store_id})
    ours, theirs = (dashboard.build(s, selection, NOW) for s in (sqlite, postgres))
    assert plain(ours) == plain(theirs)
    assert ours.totals.visits > (1_000 if period == "year" else 100)


@pytest.mark.parametrize("store_id", [1, 2, 3])
def test_the_huddle_card_is_the_same_markdown(engines, store_id):
    cards = [
        coaching.markdown(coaching.huddle_card(s, store_id, NOW.date(), now=NOW)) for s in engines
    ]
    assert cards[0] == cards[1] and "Yesterday" in cards[0]


@pytest.mark.parametrize("voided", [False, True])
def test_every_csv_is_the_same_bytes(engines, voided):
    selection = ExportSelection(include_voided=voided)
    for make in (export.visits_csv, summary.summary_csv, followups_csv.followups_csv):
        files = [make(s, selection) for s in engines]
        assert files[0] == files[1], make.__name__
        assert files[0].count(b"\r\n") > 20, make.__name__
