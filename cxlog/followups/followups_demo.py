"""Realistic follow-ups and return visits for the demo data (issue #15).

Called by cxlog.demo inside its one write transaction, on the visits it just
simulated, in bulk with numpy (a year of 1M visits adds ~40k follow-ups). The
patterns: no-purchase visits get more promises than sales; warm visits'
customers come back and buy more often; most follow-ups are done within a few
days of their due day, a few slip and stay overdue.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from cxlog.followups.followups import ALPHABET, CHANNELS, CODE_LENGTH

PROMISE_SHARE = {"purchased": 0.03, "no_purchase": 0.08}
BUY_BACK = {"warm": 0.34, "neutral": 0.24, "missed": 0.14}
DUE_DAYS = np.array([1, 3, 7, 14])
DUE_WEIGHTS = np.array([0.45, 0.3, 0.2, 0.05])


def _local_days(stamps: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Store-local calendar days (datetime64[D]) of UTC text stamps."""
    utc = pd.to_datetime(pd.Series(stamps), format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True)
    out = np.empty(len(stamps), dtype="datetime64[D]")
    for zone in np.unique(zones):
        mask = zones == zone
        local = utc[mask].dt.tz_convert(zone).dt.tz_localize(None)
        out[mask] = local.to_numpy().astype("datetime64[D]")
    return out


def _codes(rng: np.random.Generator, stores: np.ndarray) -> list[str]:
    """Distinct codes within each store (a demo year is inside one code lifetime)."""
    letters = np.array(list(ALPHABET))
    codes = [
        "".join(r) for r in letters[rng.integers(0, len(ALPHABET), (len(stores), CODE_LENGTH))]
    ]
    seen: set[tuple[int, str]] = set()
    for i, store in enumerate(stores.tolist()):
        while (store, codes[i]) in seen:
            codes[i] = "".join(letters[rng.integers(0, len(ALPHABET), CODE_LENGTH)])
        seen.add((store, codes[i]))
    return codes


def add(db, rng: np.random.Generator, columns: dict, zones: dict[int, str], now: datetime) -> int:
    """Insert follow-ups, visit codes and return links for the demo visits;
    returns how many follow-ups."""
    outcome = np.array(columns["outcome"], dtype=object)
    voided = np.array([v is not None for v in columns["voided_at"]])
    closed = np.array([o is not None for o in outcome]) & ~voided
    share = np.where(outcome == "purchased", PROMISE_SHARE["purchased"], 0.0)
    share = np.where(outcome == "no_purchase", PROMISE_SHARE["no_purchase"], share)
    pick = np.flatnonzero(closed & (rng.random(len(outcome)) < share))
    n = len(pick)
    if n == 0:
        return 0
    ids = np.array(columns["id"], dtype=object)[pick]
    stores = np.array(columns["store_id"])[pick]
    who = np.array(columns["associate_id"])[pick]
    engagement = np.array(columns["first_engagement"], dtype=object)[pick]
    closed_at = np.array(columns["closed_at"], dtype=object)[pick]
    store_zone = np.array([zones[s] for s in stores.tolist()], dtype=object)
    promised_on = _local_days(closed_at, store_zone)
    today = {
        s: np.datetime64(pd.Timestamp(now).tz_convert(z).date(), "D") for s, z in zones.items()
    }
    today_of = np.array([today[s] for s in stores.tolist()], dtype="datetime64[D]")

    due = promised_on + rng.choice(DUE_DAYS, n, p=DUE_WEIGHTS).astype("timedelta64[D]")
    age = (today_of - due).astype(int)  # days past due (negative: not due yet)
    # Done a day early to three days late; the older, the likelier done.
    done = (age >= 0) & (rng.random(n) < np.where(age > 14, 0.99, 0.85))
    done_on = np.minimum(due + rng.integers(-1, 4, n).astype("timedelta64[D]"), today_of)
    done_on = np.maximum(done_on, promised_on)
    attempts = np.where(rng.random(n) < 0.25, rng.integers(1, 3, n), 0)
    bought = rng.random(n) < np.array([BUY_BACK[e] for e in engagement])
    came_back = ~bought & (rng.random(n) < 0.15)
    reached = ~bought & ~came_back & (rng.random(n) < 0.7)
    result = np.where(
        bought,
        "bought",
        np.where(came_back, "came_back", np.where(reached, "reached", "not_needed")),
    )
    units = np.minimum(1 + rng.poisson(0.8, n), 99)
    amount = np.round(units * np.exp(rng.normal(np.log(2500), 0.5, n))).astype(np.int64)
    channel = rng.choice(list(CHANNELS), n, p=[0.45, 0.3, 0.1, 0.15])
    # Results at a local afternoon hour of their day (UTC text, near enough).
    hour = rng.integers(10, 18, n).astype("timedelta64[h]")
    result_at = np.datetime_as_string(done_on.astype("datetime64[ms]") + hour, unit="ms")
    codes = _codes(rng, stores)

    rows, code_rows = [], []
    for i in range(n):
        is_done = bool(done[i])
        res = result[i] if is_done else None
        stamp = closed_at[i]
        result_at[i] = max(result_at[i] + "Z", stamp)[:-1]  # never before the promise
        rows.append(
            (
                int(stores[i]),
                ids[i],
                str(channel[i]),
                stamp,
                str(promised_on[i]),
                int(who[i]),
                str(due[i]),
                str(due[i]),
                str(done_on[i]) if is_done or attempts[i] else None,
                int(attempts[i]),
                res,
                result_at[i] + "Z" if is_done else None,
                str(done_on[i]) if is_done else None,
                int(who[i]) if is_done else None,
                int(units[i]) if res == "bought" else None,
                int(amount[i]) if res == "bought" and rng.random() < 0.8 else None,
                result_at[i] + "Z" if is_done else stamp,
            )
        )
        code_rows.append((int(stores[i]), codes[i], ids[i], stamp))
    db.executemany(
        "INSERT INTO visit_codes (store_id, code, visit_id, assigned_at) VALUES (?, ?, ?, ?)",
        code_rows,
    )
    db.executemany(
        "INSERT INTO followups (store_id, visit_id, channel, promised_at, promised_on,"
        " promised_by, promised_due_on, due_on, first_action_on, attempts, result, result_at,"
        " result_on, result_by, units, amount_cents, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    _returns(db, columns, rows)
    return n


def _returns(db, columns: dict, rows: list[tuple]) -> None:
    """Link each "came back" result to a visit of its store that started that
    day at or after the result time (the customer's return), when one exists."""
    started = np.array(columns["started_at"], dtype=object)
    store_of = np.array(columns["store_id"])
    ids = np.array(columns["id"], dtype=object)
    order = np.lexsort((started, store_of))
    # "000003" + started text: string order is (store, time) order.
    keys = np.char.add(np.char.zfill(store_of[order].astype(str), 6), started[order].astype("U24"))
    links, taken = [], set()
    for row in rows:
        if row[10] not in ("bought", "came_back"):
            continue
        store, original, at = row[0], row[1], row[11]
        prefix = f"{store:06d}"
        i = int(np.searchsorted(keys, prefix + at))
        if i < len(keys) and keys[i][:6] == prefix and keys[i][6:16] == at[:10]:
            visit = ids[order[i]]
            if visit != original and visit not in taken:
                taken.add(visit)
                links.append((store, visit, original, at, row[13]))
    db.executemany(
        "INSERT INTO visit_returns (store_id, visit_id, original_visit_id, linked_at, linked_by)"
        " VALUES (?, ?, ?, ?, ?)",
        links,
    )
    db.executemany(
        "UPDATE followups SET return_visit_id = ? WHERE store_id = ? AND visit_id = ?",
        [(visit, store, original) for store, visit, original, _, _ in links],
    )
