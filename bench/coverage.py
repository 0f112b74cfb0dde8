"""Door-counter traffic (issue #13). Targets: a year of hourly traffic for 10
stores imported in ≤ 2 s; the dashboard's year figure with coverage included
within 10% of the figure without.

- ``import_traffic_year_s``: ten counter files (one per store, 8,760 hourly
  lines each, local times with their UTC offsets, so both DST changes are in
  them) written beforehand, then imported one after the other through
  ``cxlog.coverage.traffic.import_file`` (read, check every line, one transaction per
  file) into a fresh database of 10 stores, in a process of its own.
- ``dashboard_year_without_coverage_ms`` / ``dashboard_year_with_coverage_ms``:
  ``bench.dashboard``'s year figure (the Dashboard page through AppTest, all
  stores, the last 365 days, a cache miss) on the 1M-visit database as it is,
  and on a copy of it with a year of counter hours and POS days
  (``cxlog.coverage.traffic_demo``), where the page also draws the coverage tiles,
  warning and hour × weekday view. Each figure is the median of three runs,
  taken in turns, each in a new process.
- ``dashboard_year_coverage_ratio``: with ÷ without (target ≤ 1.10).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import RESULTS, fresh, report, run_child

STORES = 10
COVERAGE_DB = RESULTS / "coverage_1m.db"


def _counter_file(name: str, zone: str, first: datetime) -> str:
    tz = ZoneInfo(zone)
    lines = ["store,start,end,in,out"]
    for i in range(365 * 24):
        start = (first + timedelta(hours=i)).astimezone(tz)
        end = (first + timedelta(hours=i + 1)).astimezone(tz)
        people = (i * 7919) % 40 if 9 <= start.hour < 21 else 0
        lines.append(f"{name},{start.isoformat()},{end.isoformat()},{people},{people}")
    return "\n".join(lines) + "\n"


def child_import() -> dict:
    from cxlog.coverage import traffic
    from cxlog.demo import TIMEZONES
    from cxlog.storage.db import Storage
    from cxlog.stores import catalog

    storage = Storage(fresh(RESULTS / "traffic_import.db"))
    storage.migrate()
    first = datetime(2025, 12, 1, tzinfo=UTC)
    files = []
    for i in range(STORES):
        zone = TIMEZONES[i % len(TIMEZONES)]
        store_id = catalog.create_store(storage, f"Bench Store {i + 1}", zone, actor="bench")
        files.append((store_id, _counter_file(f"Bench Store {i + 1}", zone, first).encode()))
    started = time.perf_counter()
    hours = 0
    for store_id, data in files:
        hours += traffic.import_file(storage, "traffic", store_id, data, actor="bench").periods
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "hours": hours}


def _with_traffic() -> Path:
    """A copy of the dashboard's 1M-visit database with a year of counter hours."""
    from bench import dashboard

    source = dashboard.prepare()
    if COVERAGE_DB.exists():
        try:
            with sqlite3.connect(COVERAGE_DB) as conn:
                (hours,) = conn.execute("SELECT count(*) FROM traffic_hours").fetchone()
                (visits,) = conn.execute("SELECT count(*) FROM visits").fetchone()
            if hours > 80_000 and visits == dashboard.VISITS:
                return COVERAGE_DB
        except sqlite3.Error:
            pass
    from cxlog.coverage import traffic_demo
    from cxlog.storage.db import Storage

    shutil.copyfile(source, fresh(COVERAGE_DB))
    storage = Storage(COVERAGE_DB)
    storage.migrate()
    traffic_demo.add(storage, seed=1)
    with sqlite3.connect(COVERAGE_DB) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return COVERAGE_DB


def _year(db: Path) -> float:
    return run_child("bench.dashboard", "year", db)["year"]


def run() -> None:
    imported = run_child("bench.coverage", "import")
    assert imported["hours"] == STORES * 365 * 24, imported
    report("import_traffic_year_s", imported["seconds"])
    from bench import dashboard

    without_db, with_db = dashboard.prepare(), _with_traffic()
    without, with_ = [], []
    for _ in range(3):
        without.append(_year(without_db))
        with_.append(_year(with_db))
    report("dashboard_year_without_coverage_ms", statistics.median(without))
    report("dashboard_year_with_coverage_ms", statistics.median(with_))
    report("dashboard_year_coverage_ratio", statistics.median(with_) / statistics.median(without))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "import":
        print(json.dumps(child_import()))
    else:
        run()
