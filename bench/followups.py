"""An associate's follow-up list with 1,000,000 visits stored (issue #15:
target ≤ 100 ms).

Uses the dashboard benchmark's cached demo year (1M visits, 10 stores, 40
associates), whose demo data now includes ~40k follow-ups; a file cached
before follow-ups existed gets them added once, by the demo's own generator.

``followups_list_ms``: the median of 25 calls of ``followups.followup_list``
(Today / Overdue / Upcoming / Done, with each item's code, channel, who
promised and the original visit's reason and outcome) for the store with the
most follow-ups, each call on a fresh connection as the page makes it.
``followups_list_max_ms``: the slowest of those calls.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from bench.common import report
from bench.dashboard import prepare

CALLS = 25


def _ensure_followups(path) -> None:
    import numpy as np

    from cxlog.followups import followups_demo
    from cxlog.storage.db import Storage

    storage = Storage(path)
    storage.migrate()
    with storage.read() as db:
        if db.execute("SELECT count(*) FROM followups").fetchone()[0]:
            return
        names = ("id", "store_id", "associate_id", "first_engagement", "outcome")
        names += ("closed_at", "voided_at", "started_at")
        rows = db.execute(f"SELECT {', '.join(names)} FROM visits").fetchall()
        zones = dict(db.execute("SELECT id, timezone FROM stores").fetchall())
    columns = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    with storage.write() as db:
        followups_demo.add(db, np.random.default_rng(1), columns, zones, datetime.now(UTC))


def run() -> None:
    from cxlog.followups import followups
    from cxlog.storage.db import Storage

    path = prepare()
    _ensure_followups(path)
    storage = Storage(path)
    with storage.read() as db:
        store_id, count = db.execute(
            "SELECT store_id, count(*) FROM followups GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        visits = db.execute("SELECT count(*) FROM visits").fetchone()[0]
    followups.followup_list(storage, store_id)  # first read: page cache, imports
    times, shown = [], 0
    for _ in range(CALLS):
        started = time.perf_counter()
        lists = followups.followup_list(storage, store_id)
        times.append((time.perf_counter() - started) * 1000)
        shown = sum(len(v) for v in lists.values())
    print(
        f"# {visits:,} visits; store {store_id} has {count:,} follow-ups, {shown} on its list",
        flush=True,
    )
    report("followups_list_ms", statistics.median(times))
    report("followups_list_max_ms", max(times))


if __name__ == "__main__":
    run()
