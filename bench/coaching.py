"""The coaching loop on a chain's year (issue #14): the same 1,000,000 demo
visits, 10 stores, 40 associates as ``bench.dashboard`` (made once, shared).

- ``huddle_ms`` (target ≤ 300): in a new Python process with Streamlit and
  the router's modules already imported (a started server, as for
  ``dashboard_cold_ms``), one
  store's huddle card cold: importing cxlog's coaching modules and Babel,
  Babel's first load of its locale data, every query and the Markdown.
- ``huddle_cli_ms``: the same from a bare process (what ``python -m cxlog
  huddle`` pays: sqlite-utils alone imports pandas).
- ``huddle_warm_ms``: then another store's card in the same process.
- ``cost_ms`` (target ≤ 300 beyond the dashboard's year): in another new
  process, after ``cxlog.dashboard.dashboard.build`` for the whole last year of all
  stores, what the cost section adds: the counts per store by first
  engagement (one more rollups read in ``build`` since #12; those per
  associate come with the team table's read) split per store, plus the cost
  section and its sentences for every store and associate (Babel's locale
  data already loaded by the page's tiles).
- ``cost_dashboard_year_data_ms``: that ``build`` itself, for scale.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

from bench.common import report, run_child
from bench.dashboard import prepare


def child_huddle(server: bool = True) -> dict:
    if server:
        # What a started server has imported once app.py ran: Streamlit and the
        # router's modules (cxlog.web.ui, cxlog.access.access, cxlog.storage.db with sqlite-utils).
        import streamlit  # noqa: F401

        from cxlog.access import access  # noqa: F401
        from cxlog.storage import db  # noqa: F401
        from cxlog.web import ui  # noqa: F401
    started = time.perf_counter()
    from cxlog.coaching import coaching
    from cxlog.storage.db import Storage

    storage = Storage(os.environ["CXLOG_DB"])
    card = coaching.huddle_card(storage, 1)
    text = coaching.markdown(card)
    cold = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    coaching.markdown(coaching.huddle_card(storage, 2))
    warm = (time.perf_counter() - started) * 1000
    return {"cold": cold, "warm": warm, "visits": card.week_counts.visits, "chars": len(text)}


def child_cost() -> dict:
    import numpy as np

    from cxlog.calendar import periods
    from cxlog.coaching import coaching, goals
    from cxlog.core import money
    from cxlog.core.model import utc_now
    from cxlog.dashboard import dashboard, takeaways
    from cxlog.numbers import rollups
    from cxlog.storage.db import Storage
    from cxlog.stores import catalog

    storage = Storage(os.environ["CXLOG_DB"])
    now = utc_now().replace(second=0, microsecond=0)
    today = now.date()
    first = today - timedelta(days=364)
    selection = dashboard.DashboardFilters("custom", first, today)
    dashboard.build(
        storage, dashboard.DashboardFilters("today", store_id=1), now
    )  # imports, caches
    started = time.perf_counter()
    dash = dashboard.build(storage, selection, now)
    build_ms = (time.perf_counter() - started) * 1000

    # What build reads for the cost section alone, timed again: since #12 the
    # counts per store and first engagement are one more rollups read (those
    # per associate come with the team table's read), then split per id.
    current = {
        s["id"]: (span.first_day, span.last_day)
        for s in catalog.list_stores(storage)
        for span in [periods.resolve("custom", s["timezone"], now, first, today)]
    }
    started = time.perf_counter()
    with storage.read() as db:
        per_store = rollups.counts(db, current, by=("store", "first_engagement"))
    by_store = dashboard.by_engagement(per_store)
    by_associate = dash.engagement_by_associate
    split_ms = (time.perf_counter() - started) * 1000
    assert by_store == dash.engagement_by_store

    # The page formats the tiles' amounts before this section: Babel's locale
    # data is loaded by then, so it is not the cost section's to pay.
    takeaways.tiles(dash.totals, dash.previous, "GBP")
    started = time.perf_counter()
    currencies = goals.currencies(storage)
    currency = money.shared(currencies.values())
    section = coaching.cost_section(
        {g.key: g.counts for g in dash.by_engagement},
        dash.engagement_by_store,
        dash.engagement_by_associate,
        currency,
    )
    words = [coaching.cost_sentence(c, currency) for c in section.selection.values()]
    words += [
        coaching.cost_sentence(c["neutral"], currencies.get(k)) for k, c in section.by_store.items()
    ]
    section_ms = (time.perf_counter() - started) * 1000
    return {
        "build": build_ms,
        "split": split_ms,
        "section": section_ms,
        "cost": split_ms + section_ms,
        "words": len(words),
        "associates": len(by_associate),
        "visits": int(np.int64(dash.totals.visits)),
    }


CHILDREN = {
    "huddle": child_huddle,
    "huddle_cli": lambda: child_huddle(server=False),
    "cost": child_cost,
}


def run() -> None:
    db = prepare()
    from cxlog.storage.db import Storage

    Storage(db).migrate()  # the coaching tables, on a file made before issue #14
    huddle = run_child("bench.coaching", "huddle", db)
    bare = run_child("bench.coaching", "huddle_cli", db)
    cost = run_child("bench.coaching", "cost", db)
    report("huddle_ms", huddle["cold"])
    report("huddle_warm_ms", huddle["warm"])
    report("huddle_cli_ms", bare["cold"])
    report("cost_ms", cost["cost"])
    report("cost_dashboard_year_data_ms", cost["build"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILDREN:
        print(json.dumps(CHILDREN[sys.argv[1]]()))
    else:
        run()
