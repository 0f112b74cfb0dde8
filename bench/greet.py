"""Time to greet on the dashboard's year (issue #30). Target: the year with the
section ≤ 1.1× the year without it.

The database is ``bench.dashboard``'s: 1,000,000 demo visits, 10 stores, 40
associates, every store with time to greet on and an arrival tap on about
half the visits (``cxlog.demo``: longer waits at busy hours, a few customers
who left before greeting).

What a run of the Dashboard page pays for its numbers on a cache miss (the
page caches both by the data version; a new visit misses both): the year,
all stores, the last 365 days, as ``bench.dashboard``'s ``dashboard_year_data_ms``
measures it.

- ``dashboard_year_without_greet_ms``: ``cxlog.dashboard.dashboard.build``.
- ``dashboard_year_with_greet_ms``: that, then what the page's section asks
  for (``cxlog.web.greeting_ui.load``): ``figures.section(storage,
  dash.spans, selection, dash.greet_tallies())`` (the store's rules, then
  the waits; the other sums the dashboard's rollup reads carried).
- ``dashboard_year_greet_ratio``: with ÷ without (target ≤ 1.10).
- ``dashboard_year_greet_ms``: the section's own part (with − without).

Both are measured side by side in one new process, after one small view of
each (imports and first-run costs out of the way, as ``bench.dashboard``'s
year): REPEATS rounds, the order of the two swapped every round so both see
the same machine noise; each figure is the median of its rounds.

The page itself, as ``bench.dashboard``'s ``dashboard_year_ms`` (the Dashboard
page through AppTest, a new process each, after one small view): with every
store's time to greet off (the page as before #30; the sums stay) and on,
PAGE_ROUNDS of each in turns, medians: ``dashboard_year_page_without_greet_ms``,
``dashboard_year_page_with_greet_ms``, ``dashboard_year_page_greet_ratio``.
The setting is put back on at the end.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.common import report, run_child

REPEATS = 31  # two interleaved medians of ~55 ms moved ±3 ms from run to run at 15
PAGE_ROUNDS = 5


def child_year() -> dict:
    from cxlog.core.model import utc_now
    from cxlog.dashboard import dashboard
    from cxlog.greeting import figures
    from cxlog.storage.db import open_storage

    storage = open_storage(os.environ["CXLOG_DB"])
    now = utc_now().replace(second=0, microsecond=0)
    today = now.date()
    year = dashboard.DashboardFilters("custom", today - timedelta(days=364), today)

    def without(selection) -> float:
        started = time.perf_counter()
        dashboard.build(storage, selection, now)
        return (time.perf_counter() - started) * 1000

    def with_(selection):
        started = time.perf_counter()
        dash = dashboard.build(storage, selection, now)
        greet = figures.section(storage, dash.spans, selection, dash.greet_tallies())
        return (time.perf_counter() - started) * 1000, dash, greet

    small = dashboard.DashboardFilters("today", store_id=1)
    without(small)
    with_(small)
    times: dict[str, list[float]] = {"without": [], "with": []}
    for i in range(REPEATS):
        for mode in ("without", "with") if i % 2 == 0 else ("with", "without"):
            if mode == "without":
                times[mode].append(without(year))
            else:
                elapsed, dash, greet = with_(year)
                times[mode].append(elapsed)
    # What was measured: the section's figures of a year with arrivals.
    if greet is None or not greet.totals.arrivals:
        raise RuntimeError("no time-to-greet figures: the demo data has no arrivals")
    return {
        "without": statistics.median(times["without"]),
        "with": statistics.median(times["with"]),
        "without_all": times["without"],
        "with_all": times["with"],
        "visits": dash.totals.visits,
        "arrivals": greet.totals.arrivals,
        "left": greet.totals.left_before,
        "median_wait": greet.median,
    }


def _greet_on(db: Path, on: bool) -> None:
    """Every store's time to greet on or off, its other rules kept."""
    from dataclasses import replace

    from cxlog.greeting import rules
    from cxlog.storage import settings
    from cxlog.storage.db import Storage
    from cxlog.stores import catalog

    storage = Storage(db)
    for store in catalog.list_stores(storage):
        current = settings.greet_rules(storage, store["id"])
        rules.save(storage, store["id"], replace(current, on=on), actor="bench")


def _pages(db: Path) -> tuple[list[float], list[float]]:
    """The year page with the section (on) and without (off), in turns."""
    without, with_ = [], []
    try:
        for _ in range(PAGE_ROUNDS):
            _greet_on(db, False)
            without.append(run_child("bench.dashboard", "year", db)["year"])
            _greet_on(db, True)
            with_.append(run_child("bench.dashboard", "year", db)["year"])
    finally:
        _greet_on(db, True)
    return without, with_


def run() -> None:
    # The 1M database is made in a process of its own (bench.dashboard's reason).
    subprocess.run(
        [sys.executable, "-c", "import bench.dashboard as b; b.prepare()"],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    from bench import dashboard

    year = run_child("bench.greet", "year", dashboard.DB)
    report("dashboard_year_without_greet_ms", year["without"])
    report("dashboard_year_with_greet_ms", year["with"])
    report("dashboard_year_greet_ms", year["with"] - year["without"])
    report("dashboard_year_greet_ratio", year["with"] / year["without"])
    without, with_ = _pages(dashboard.DB)
    report("dashboard_year_page_without_greet_ms", statistics.median(without))
    report("dashboard_year_page_with_greet_ms", statistics.median(with_))
    report("dashboard_year_page_greet_ratio", statistics.median(with_) / statistics.median(without))
    print(
        f"# {year['visits']:,} visits in the year, {year['arrivals']:,} with an arrival"
        f" ({year['left']:,} left before greeting), median wait {year['median_wait']} s",
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "year":
        print(json.dumps(child_year()))
    else:
        run()
