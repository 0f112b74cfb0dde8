"""A tap's server-side write path with and without rollup maintenance (issue #12:
it may grow by at most 2 ms).

The server's work for one logged visit of the Log page: ``create_visit``
(Warm), ``set_reason``, ``record_purchase`` — three taps, three transactions,
on a database of 100,000 demo visits with its rollups, ``synchronous=FULL``
as in the app. Rounds alternate *with* (the real code) and *without*
(``derived.apply``, which moves the rollups and coverage sums, replaced by
a no-op for that round) so both see the same
machine noise; each reports the median per tap.
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.common import RESULTS, fresh, report

ROUNDS, VISITS_PER_ROUND = 20, 10


def run() -> None:
    from cxlog import demo
    from cxlog.core.model import REASON
    from cxlog.numbers import derived
    from cxlog.storage.db import Storage
    from cxlog.stores import catalog
    from cxlog.visits import visits

    storage = Storage(fresh(RESULTS / "tap_server_100k.db"))
    demo.generate(storage, visits=100_000, days=365, stores=1, associates=6, seed=3)
    storage.keep_open()  # as the server does
    store = catalog.list_stores(storage)[0]["id"]
    associate = catalog.list_associates(storage, store)[0]["id"]
    gift = catalog.list_reasons(storage, REASON)[0]["id"]
    actor = f"associate:{associate}"
    real_apply = derived.apply
    per_tap: dict[str, list[float]] = {"with": [], "without": []}

    def one_visit() -> float:
        vid = uuid.uuid4().hex
        started = time.perf_counter()
        visits.create_visit(storage, vid, store, associate, "warm")
        visits.set_reason(storage, vid, gift, actor=actor)
        visits.record_purchase(storage, vid, 2, actor=actor, amount_cents=4200)
        return (time.perf_counter() - started) * 1000 / 3

    def skip(db, before, after, timezone) -> None:
        return None

    for _ in range(ROUNDS):
        for mode in ("with", "without"):
            derived.apply = (
                real_apply if mode == "with" else (lambda db, before, after, timezone: None)
            )
            try:
                per_tap[mode].extend(one_visit() for _ in range(VISITS_PER_ROUND))
            finally:
                derived.apply = real_apply
    with_ms = statistics.median(per_tap["with"])
    without_ms = statistics.median(per_tap["without"])
    report("tap_server_ms_with_rollups", with_ms)
    report("tap_server_ms_without_rollups", without_ms)
    report("tap_server_rollup_growth_ms", with_ms - without_ms)


if __name__ == "__main__":
    run()
