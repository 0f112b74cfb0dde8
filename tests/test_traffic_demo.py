"""`python -m cxlog demo --traffic` (#13): counter hours and POS totals that fit
the demo visits, with realistic gaps, checked by recounting the rows."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from cxlog.core.model import utc_now
from cxlog.coverage import coverage
from cxlog.storage.db import Storage
from tests.conftest import ROOT


def test_demo_traffic_fits_the_visits(tmp_path):
    path = tmp_path / "demo.db"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "cxlog", "demo", "--db", str(path), "--visits", "12000"),
            *("--days", "60", "--stores", "3", "--associates", "6", "--traffic"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "counter hours and" in done.stdout
    storage = Storage(path)
    with storage.read() as db:
        # Recount: per store, the hours the counter covers and the ones it lacks.
        spans = db.execute(
            "SELECT store_id, count(*), min(hour_start), max(hour_start) FROM traffic_hours"
            " GROUP BY store_id ORDER BY store_id"
        ).fetchall()
        pos_days = db.execute("SELECT count(*) FROM pos_totals WHERE hour = -1").fetchone()[0]
    assert [s for s, *_ in spans] == [1, 2, 3]
    for _, count, first, last in spans:
        hours_in_span = (
            utc_now().fromisoformat(last.replace("Z", "+00:00"))
            - utc_now().fromisoformat(first.replace("Z", "+00:00"))
        ) // timedelta(hours=1) + 1
        assert 0 < hours_in_span - count < 0.02 * hours_in_span  # a few missing hours
    assert pos_days >= 3 * 50
    today = utc_now().date()
    cov = coverage.build(
        storage, coverage.day_ranges(storage, None, today - timedelta(days=59), today)
    )
    shares = {k: t.coverage for k, t in cov.by_store.items()}
    assert 0.72 <= shares[1] <= 0.88 and 0.72 <= shares[3] <= 0.88  # around 80%
    assert shares[2] < 0.7  # the store that logs less, so the warning shows
    said = coverage.warning(cov, {1: "Ash", 2: "Birch", 3: "Cedar"})
    assert "Birch logged" in said and "Ash logged" not in said and "Cedar logged" not in said
    # The unplugged days: a local day the counter counted nobody, in every store.
    unplugged = cov.daily[cov.daily["counted"] & (cov.daily["visitors"] == 0)]
    assert set(unplugged["store_id"]) == {1, 2, 3}
    for t in cov.by_store.values():
        # POS conversion and units per transaction sit near the logged ones.
        assert 0.8 <= t.pos_conversion / t.logged_conversion <= 1.25
        assert abs(t.units_per_transaction - t.logged_units_per_sale) < 0.2
    kinds = {f.kind for f in cov.flags}
    assert {coverage.SILENT, coverage.UNMATCHED, coverage.LOW} <= kinds
