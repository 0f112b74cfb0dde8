"""The dashboard at chain scale: 10,000,000 visits, 100 stores, one year (issue #12).
Targets: ``dashboard_chain_year_ms`` ≤ 1,500 and ``dashboard_chain_peak_rss_mb``
≤ 400; the build itself ≤ 5 minutes on 2 cores.

The database is built once and kept under ``bench/results`` (a later run
reuses it): schema by the migrations, 100 stores in eight timezones, four
associates each, then each store's visits with one ``INSERT … SELECT`` from a
recursive CTE inside SQLite (a Python row loop would take ~10 minutes), in
time order with ordered ids so every index grows at its end, then the
rollups by ``cxlog.numbers.derived.rebuild``. Each visit's fields come from integer
hashes of its number, so the build is the same on every machine.

``dashboard_chain_year_ms`` is the Dashboard page (AppTest, as
``bench.dashboard`` measures the 1M year) for the last 365 days, all stores,
in a fresh process after one small view; ``dashboard_chain_peak_rss_mb`` is
that process's peak RSS. ``dashboard_chain_build_s`` is the build, when this
run made it (else the figure of the run that did, from the file's marker).

``chain_view_year_ms`` (issue #28) is the Stores page, the chain's view
(pages/chain.py, AppTest) of the owner's 100 stores for the last 365 days,
measured as the year page is (a fresh process, after one small view: here
today's), the median of three such processes; ``chain_view_year_data_ms``
is ``cxlog.coaching.chain.build`` alone in the same process. Target on
PostgreSQL (``bench.postgres``): ≤ 500 ms, the year page's.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import RESULTS, ROOT, fresh, report, run_child

DB = RESULTS / "chain_10m.db"
STORES, ASSOCIATES_PER_STORE, VISITS = 100, 4, 10_000_000
DAYS = 365
PASSWORD = "bench-manager-1"
VIEW_ROUNDS = 3
ZONES = (
    ("Europe/London", 0),
    ("Europe/Berlin", 1),
    ("America/New_York", -5),
    ("America/Chicago", -6),
    ("America/Los_Angeles", -8),
    ("Europe/Madrid", 1),
    ("Australia/Sydney", 10),
    ("America/Denver", -7),
)

# h(k): a well-mixed number 0..999 for visit n and salt k (Knuth's multiplicative hash).
_H = "((((n + {k} * 1000003 + :store * 7919) * 2654435761) % 4294967296) / 4096 % 1000)"


def _h(k: int) -> str:
    return _H.format(k=k)


INSERT = f"""
INSERT INTO visits (id, store_id, associate_id, started_at, first_engagement, reason_id,
    used_name, recommended, outcome, units, amount_cents, no_sale_reason_id, closed_at,
    closed_by, voided_at, void_reason, updated_at)
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1),
v AS (
    SELECT n,
        strftime('%Y-%m-%dT%H:%M:%S.000Z',
            :first_second + (n * :days / :count) * 86400 + {_h(1)} * 39, 'unixepoch') AS started,
        CASE WHEN {_h(2)} < 550 THEN 'warm' WHEN {_h(2)} < 850 THEN 'neutral'
             ELSE 'missed' END AS engagement,
        CASE WHEN {_h(3)} < 40 THEN NULL ELSE 1 + {_h(3)} % 6 END AS reason_id,
        {_h(4)} AS o,
        {_h(5)} AS extra
    FROM seq
),
w AS MATERIALIZED (
    SELECT *,
        CASE WHEN n >= :count - 3 THEN NULL
             WHEN o < (CASE engagement WHEN 'warm' THEN 480 WHEN 'neutral' THEN 320 ELSE 170 END)
                 + coalesce(reason_id BETWEEN 1 AND 5, 0) * 60 THEN 'purchased'
             ELSE 'no_purchase' END AS outcome
    FROM v
)
SELECT printf('%04x%028x', :store, n), :store, :first_associate + n % {ASSOCIATES_PER_STORE},
    started, engagement, reason_id,
    extra % 3 = 0, extra % 2 = 0, outcome,
    CASE WHEN outcome = 'purchased' THEN 1 + extra % 4 END,
    CASE WHEN outcome = 'purchased' AND extra % 7 != 0 THEN 500 + extra * 37 END,
    CASE WHEN outcome = 'no_purchase' AND extra % 5 != 0 THEN 7 + extra % 5 END,
    CASE WHEN outcome IS NOT NULL THEN started END,
    CASE WHEN outcome IS NOT NULL THEN :first_associate + n % {ASSOCIATES_PER_STORE} END,
    CASE WHEN extra = 999 THEN started END,
    CASE WHEN extra = 999 THEN 'bench: logged twice' END,
    started
FROM w
"""


def _ready() -> float | None:
    """The build's seconds when the cached file is complete, else None."""
    if not DB.exists():
        return None
    try:
        with sqlite3.connect(DB) as conn:
            row = conn.execute(
                "SELECT value FROM settings WHERE key = 'bench:chain_build'"
            ).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else float(json.loads(row[0])["seconds"])


def build(path=DB, *, stores: int = STORES, visits: int = VISITS, now: datetime | None = None):
    """Make the chain database; returns the seconds it took."""
    from cxlog.access import accounts
    from cxlog.core import roles
    from cxlog.numbers import derived
    from cxlog.storage import settings
    from cxlog.storage.db import Storage
    from cxlog.storage.engine import SqliteDatabase

    started = time.perf_counter()
    storage = Storage(fresh(path))
    storage.migrate()
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    first_day = (now - timedelta(days=DAYS)).replace(hour=0)
    per_store = visits // stores
    # One connection for the bulk load: a large page cache keeps the indexes'
    # last pages in memory, and a bench file needs no fsync per commit.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB
    # A rollback journal keeps only the few pages changed in place; WAL would
    # write every new page twice (WAL, then checkpoint). The app's WAL is set
    # back below.
    conn.execute("PRAGMA journal_mode = DELETE")
    db = SqliteDatabase(conn)
    conn.execute("BEGIN IMMEDIATE")
    for i in range(stores):
        conn.execute(
            "INSERT INTO stores (name, timezone, created_at) VALUES (?, ?, ?)",
            [f"Store {i + 1:03d}", ZONES[i % len(ZONES)][0], "2025-01-01T00:00:00.000Z"],
        )
    conn.executemany(
        "INSERT INTO associates (store_id, name, created_at) VALUES (?, ?, ?)",
        [
            (s, f"Associate {s}-{a + 1}", "2025-01-01T00:00:00.000Z")
            for s in range(1, stores + 1)
            for a in range(ASSOCIATES_PER_STORE)
        ],
    )
    for i in range(stores):
        _, offset = ZONES[i % len(ZONES)]
        # Each day's visits between 9:00 and 20:00 local (standard time).
        conn.execute(
            INSERT,
            {
                "store": i + 1,
                "count": per_store,
                "first_second": int(first_day.timestamp()) + (9 - offset) * 3600,
                "days": DAYS,
                "first_associate": i * ASSOCIATES_PER_STORE + 1,
            },
        )
    derived.rebuild(db)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    seconds = time.perf_counter() - started
    accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, PASSWORD, actor="bench")
    accounts.add_or_reset(storage, roles.MANAGER, roles.MANAGER, PASSWORD, actor="bench")
    settings.set_setting(
        storage, "bench:chain_build", json.dumps({"seconds": seconds}), actor="bench"
    )
    return seconds


def run() -> None:
    seconds = _ready()
    if seconds is None:
        # A process of its own, so the measured child's peak RSS is not the
        # build's (see bench.dashboard.run).
        subprocess.run([sys.executable, "-m", "bench.chain", "build"], check=True, cwd=ROOT)
        seconds = _ready()
    year = run_child("bench.dashboard", "year", DB)
    report("dashboard_chain_build_s", seconds)
    report("dashboard_chain_year_ms", year["year"])
    report("dashboard_chain_year_data_ms", year["year_data"])
    report("dashboard_chain_peak_rss_mb", year["rss"])
    view = chain_view(DB)
    report("chain_view_year_ms", view["year"])
    report("chain_view_year_data_ms", view["year_data"])
    report("chain_view_peak_rss_mb", view["rss"])


def chain_view(db: Path | str, rounds: int = VIEW_ROUNDS) -> dict:
    """The chain's view for the year: the median of ``rounds`` fresh processes
    (``child_view``); peak RSS the largest of them."""
    views = [run_child("bench.chain", "view", db) for _ in range(rounds)]
    middle = sorted(views, key=lambda v: v["year"])[len(views) // 2]
    return {**middle, "rss": max(v["rss"] for v in views), "all": [v["year"] for v in views]}


def child_view() -> dict:
    """In this new process: the Stores page for today (imports and first-run
    costs out of the way), then for the last 365 days (a cache miss), as the
    owner; then the data alone."""
    from bench.dashboard import page, timed
    from cxlog.coaching import chain
    from cxlog.core.model import utc_now
    from cxlog.dashboard.dashboard import DashboardFilters
    from cxlog.storage.db import open_storage

    storage = open_storage(os.environ["CXLOG_DB"])

    def stores_page(query: dict[str, str]):
        return page(query, "chain.py", "owner")

    timed(stores_page({"period": "today"}))
    today = utc_now().date()
    first = today - timedelta(days=364)
    year = stores_page({"period": "custom", "from": first.isoformat(), "to": today.isoformat()})
    page_ms = timed(year)
    shown = len(year.dataframe[0].value)
    started = time.perf_counter()
    chain.build(
        storage,
        DashboardFilters("custom", first, today),
        utc_now().replace(second=0, microsecond=0),
    )
    data_ms = (time.perf_counter() - started) * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"year": page_ms, "year_data": data_ms, "stores": shown, "rss": rss}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "build":
        print(f"built in {build():.1f} s")
    elif len(sys.argv) > 1 and sys.argv[1] == "view":
        print(json.dumps(child_view()))
    else:
        run()
