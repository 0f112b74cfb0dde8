"""Demo door-counter traffic and POS totals that fit the demo visits (#13).

Each store's counter sees more people than its associates log: per hour,
visitors = logged visits ÷ that hour's logging rate (around 80%, one store
logging less so the low-coverage warning has something to say), a few
walk-in in open hours nobody logged, and nobody at night. Realistic gaps:
about one hour in 200 the counter sent nothing, and one day per quarter a
store's counter was unplugged (zero all day while visits were logged). POS
totals are whole days: the logged purchases scaled up by the same rate.

Hours are UTC hours, which are the demo stores' local hours (every demo
timezone is a whole number of hours from UTC).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlog.core.model import to_utc_text, utc_now
from cxlog.numbers import coverage_sums
from cxlog.storage.db import Storage, audit

OPEN_HOURS = range(9, 21)  # demo.HOUR_WEIGHTS' opening hours, local
LOGGING_RATE = 0.8
LOW_STORE_RATE = 0.6  # the second store (when there is one)


def add(storage: Storage, *, seed: int = 0) -> tuple[int, int]:
    """Counter hours and POS days for every store's span of visits. Returns
    (hours, POS days) written."""
    rng = np.random.default_rng(seed + 13)
    with storage.read() as db:
        stores = {r["id"]: r["timezone"] for r in db.query("SELECT id, timezone FROM stores")}
        logged = pd.DataFrame(
            db.execute(
                "SELECT store_id, substr(started_at, 1, 13) AS hour, count(*),"
                " count(outcome = 'purchased' OR NULL), coalesce(sum(units), 0)"
                " FROM visits WHERE voided_at IS NULL GROUP BY store_id, hour"
            ).fetchall(),
            columns=["store_id", "hour", "logged", "purchased", "units"],
        )
    if logged.empty:
        return 0, 0
    logged["hour"] = pd.to_datetime(logged["hour"] + ":00:00", utc=True)
    frames = []
    for position, (store_id, zone) in enumerate(sorted(stores.items())):
        mine = logged[logged["store_id"] == store_id].set_index("hour")
        if mine.empty:
            continue
        hours = pd.date_range(mine.index.min().floor("D"), mine.index.max().ceil("D"), freq="h")
        frame = mine.reindex(hours, fill_value=0).rename_axis("hour").reset_index()
        frame["store_id"] = store_id
        local = pd.DatetimeIndex(frame["hour"]).tz_convert(zone)
        frame["day"] = local.date
        is_open = np.isin(local.hour, list(OPEN_HOURS))
        mean = LOW_STORE_RATE if position == 1 else LOGGING_RATE
        rate = np.clip(rng.normal(mean, 0.08, len(frame)), 0.35, 1.0)
        # An open hour nobody logged still had the odd walk-in.
        walk_ins = rng.poisson(0.5, len(frame)) * (is_open & (frame["logged"] == 0))
        visitors = np.maximum(np.rint(frame["logged"] / rate), frame["logged"]).astype(np.int64)
        visitors += walk_ins
        frame["entries"] = np.where(is_open | (frame["logged"] > 0), visitors, 0)
        # The counter was unplugged one day a quarter: zero while visits were logged.
        days = np.array(sorted(set(frame["day"])))
        unplugged = set(rng.choice(days, size=max(1, len(days) // 90), replace=False))
        frame.loc[frame["day"].isin(unplugged), "entries"] = 0
        frame["rate"] = rate
        frames.append(frame[rng.random(len(frame)) >= 0.005])  # ~1 hour in 200 missing
    hours = pd.concat(frames, ignore_index=True)
    now = to_utc_text(utc_now())
    traffic_rows = [
        (
            int(r.store_id),
            to_utc_text(r.hour),
            to_utc_text(r.hour + pd.Timedelta(hours=1)),
            int(r.entries),
            None,
            now,
        )
        for r in hours.itertuples()
    ]
    days = hours.groupby(["store_id", "day"], as_index=False).agg(
        purchased=("purchased", "sum"), units=("units", "sum"), rate=("rate", "mean")
    )
    days = days[days["purchased"] > 0]
    scale = 1 / days["rate"]
    tx = np.rint(days["purchased"] * scale).astype(np.int64)
    units = np.rint(days["units"] * scale).astype(np.int64)
    cents = np.rint(units * rng.normal(2500, 300, len(days))).astype(np.int64)
    pos_rows = [
        (int(s), d.isoformat(), -1, int(t), int(u), int(c), now)
        for s, d, t, u, c in zip(days["store_id"], days["day"], tx, units, cents, strict=True)
    ]
    with storage.write() as db:
        db.executemany(
            "INSERT INTO traffic_hours"
            " (store_id, hour_start, hour_end, entries, exits, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, hour_start) DO UPDATE SET"
            " hour_end = excluded.hour_end, entries = excluded.entries,"
            " exits = excluded.exits, imported_at = excluded.imported_at",
            traffic_rows,
        )
        db.executemany(
            "INSERT INTO pos_totals"
            " (store_id, day, hour, transactions, units, net_sales_cents, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, day, hour) DO UPDATE SET"
            " transactions = excluded.transactions, units = excluded.units,"
            " net_sales_cents = excluded.net_sales_cents, imported_at = excluded.imported_at",
            pos_rows,
        )
        audit(
            db,
            "demo",
            "generate",
            "traffic",
            "*",
            after={"hours": len(traffic_rows), "pos_days": len(pos_rows), "seed": seed},
        )
        coverage_sums.rebuild(db, sorted({r[0] for r in traffic_rows} | {r[0] for r in pos_rows}))
    return len(traffic_rows), len(pos_rows)
