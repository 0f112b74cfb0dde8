"""Realistic demo data, generated in bulk with numpy (issue #2: 1,000,000 visits
in under 60 s; row-by-row Python with uuid4 took ~67 s, docs/stack-facts.md).

The patterns are the ones the dashboard should reveal: warm first engagements
convert better than neutral, neutral better than missed; units per sale rise
with connection depth; afternoons and weekends are busier; associates differ.
Since issue #30 every store has time to greet on and about half the visits
had their arrival tapped: customers wait longer at the store's busy hours, a
few leave before anyone greets them, and conversion falls a little with the
wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from cxlog.calendar.offsets import offset_text
from cxlog.core.errors import ValidationError
from cxlog.core.model import NO_SALE_REASON, NOT_LEARNED, REASON, utc_now
from cxlog.followups import followups_demo
from cxlog.numbers import derived
from cxlog.storage import settings
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog

TIMEZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/Madrid",
    "Australia/Sydney",
    "America/Denver",
)
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
)
# Opening hours 9–20 local; afternoon peak.
HOUR_WEIGHTS = {9: 3, 10: 5, 11: 7, 12: 8, 13: 9, 14: 10, 15: 11, 16: 11, 17: 10, 18: 8, 19: 5}
# Monday=0 … Sunday=6; Saturdays busiest.
WEEKDAY_WEIGHTS = np.array([0.8, 0.8, 0.85, 0.9, 1.1, 1.6, 1.2])
BASE_CONVERSION = {"warm": 0.48, "neutral": 0.32, "missed": 0.17}
OPEN_WINDOW = timedelta(minutes=40)

# Issue #30: time to greet. Every demo store has it on, with the default
# standard (30 s) and bands, and a goal the waits at busy hours miss.
GREET_RULES = GreetRules(on=True, goal=0.8)
ARRIVAL_SHARE = 0.5  # visits whose arrival someone tapped
# How busy the store is at a visit's local hour and weekday, 0 (its quietest
# hour) to 1 (Saturday afternoon), moves each of these from its first value
# to its second: customers wait longer and leave more often when it is busy.
WAIT_MEDIAN = (12.0, 40.0)  # seconds, of a lognormal
WAIT_SIGMA = 0.5
LEFT_SHARE = (0.015, 0.06)  # of arrivals: left before greeting
LEFT_WAIT_MEDIAN = (60.0, 150.0)  # seconds a customer who left had waited
# A few wait minutes whatever the hour (everyone with a customer already).
TAIL_SHARE, TAIL_MEAN = 0.05, 120.0
LONGEST_WAIT = 25 * 60.0  # seconds: under the store's limit (30 min)
# Conversion falls with the wait: minus WAIT_COST × (1 − e^(−wait / WAIT_SCALE)),
# plus SHORT_BONUS: on time a point or two more, over 2 minutes 6–11 points less.
WAIT_COST, WAIT_SCALE, SHORT_BONUS = 0.15, 120.0, 0.03


@dataclass(frozen=True)
class DemoResult:
    visits: int
    stores: int
    associates: int
    followups: int = 0  # issue #15


def generate(
    storage: Storage,
    *,
    visits: int,
    days: int = 365,
    stores: int = 1,
    associates: int = 6,
    seed: int = 0,
    now: datetime | None = None,
) -> DemoResult:
    if visits < 0 or days < 1 or stores < 1 or associates < stores:
        raise ValidationError(
            "Demo needs visits ≥ 0, days ≥ 1, stores ≥ 1 and at least one associate per store."
        )
    storage.migrate()
    if catalog.list_stores(storage):
        raise ValidationError(
            f"{storage.shown} already has stores; write demo data to a new database."
        )
    now = now or utc_now()
    rng = np.random.default_rng(seed)

    zones = [TIMEZONES[i % len(TIMEZONES)] for i in range(stores)]
    store_ids = [
        catalog.create_store(storage, f"Demo Store {i + 1}", zone, actor="demo")
        for i, zone in enumerate(zones)
    ]
    staff: list[list[int]] = [[] for _ in store_ids]
    for i in range(associates):
        s = i % stores
        name = FIRST_NAMES[i % len(FIRST_NAMES)] + (
            f" {i // len(FIRST_NAMES) + 1}" if i >= len(FIRST_NAMES) else ""
        )
        staff[s].append(catalog.add_associate(storage, store_ids[s], name, actor="demo"))

    reasons = catalog.list_reasons(storage, REASON)
    learned_ids = np.array([r["id"] for r in reasons if r["name"] != NOT_LEARNED])
    not_learned_id = next(r["id"] for r in reasons if r["name"] == NOT_LEARNED)
    no_sale_ids = np.array([r["id"] for r in catalog.list_reasons(storage, NO_SALE_REASON)])

    # Issue #30's draws come from a generator of their own, so the visits'
    # other draws stay as they were for a seed.
    greet_rng = np.random.default_rng([seed, 30])
    columns = _simulate(
        rng,
        visits,
        days,
        store_ids,
        zones,
        staff,
        learned_ids,
        not_learned_id,
        no_sale_ids,
        now,
        greet_rng,
    )
    columns["id"] = _ids(visits, seed)
    rows = zip(*columns.values(), strict=True)
    # A customer who left before greeting made no promise: follow-ups pick
    # from the other closed visits.
    outcome = list(columns["outcome"])
    for i in np.flatnonzero(columns["left_before_greeting"]).tolist():
        outcome[i] = None
    promising = dict(columns, outcome=outcome)
    with storage.write() as db:
        db.load("visits", list(columns), rows)
        # Issue #15: follow-ups and return visits on the same visits.
        promised = followups_demo.add(
            db, rng, promising, dict(zip(store_ids, zones, strict=True)), now
        )
        # Written before the rebuild: the greet sums count on time against it.
        for store_id in store_ids:
            settings.put_setting(
                db, settings.store_key(settings.TIME_TO_GREET, store_id), GREET_RULES.as_json()
            )
        derived.rebuild(db)  # bulk rows bypass the per-visit hook (#12)
        audit(
            db,
            "demo",
            "generate",
            "visit",
            "*",
            after={
                "visits": visits,
                "days": days,
                "seed": seed,
                "followups": promised,
                "time_to_greet": GREET_RULES.as_json(),
            },
        )
    return DemoResult(visits=visits, stores=stores, associates=associates, followups=promised)


def _simulate(
    rng, n, days, store_ids, zones, staff, learned_ids, not_learned_id, no_sale_ids, now, greet_rng
):
    store_weights = rng.uniform(0.6, 1.4, len(store_ids))
    store_idx = rng.choice(len(store_ids), size=n, p=store_weights / store_weights.sum())
    staff_sizes = np.array([len(s) for s in staff])
    flat_staff = np.array([a for s in staff for a in s])
    offsets = np.concatenate([[0], np.cumsum(staff_sizes)[:-1]])
    associate_idx = offsets[store_idx] + (rng.random(n) * staff_sizes[store_idx]).astype(int)
    associate_id = flat_staff[associate_idx]

    started, busy = _start_times(rng, n, days, zones, store_idx, now)
    arrived, wait, left = _arrivals(greet_rng, n, busy, len(store_ids), store_idx)

    # Associates differ in how often they welcome warmly and close a sale.
    warm_skill = rng.beta(6, 4, len(flat_staff))
    sell_skill = rng.normal(0, 0.05, len(flat_staff))
    warm = rng.random(n) < warm_skill[associate_idx]
    missed = ~warm & (rng.random(n) < 0.3)
    warm &= ~left  # nobody greeted a customer who left: a missed first engagement
    missed |= left
    engagement = np.where(warm, "warm", np.where(missed, "missed", "neutral"))

    learn_p = np.where(warm, 0.85, np.where(missed, 0.4, 0.6))
    learned = rng.random(n) < learn_p
    tapped_reason = rng.random(n) < 0.96
    reason_weights = np.array([0.22, 0.18, 0.3, 0.2, 0.1])[: len(learned_ids)]
    reason_pick = learned_ids[
        rng.choice(len(learned_ids), size=n, p=reason_weights / reason_weights.sum())
    ]
    reason_id = np.where(learned, reason_pick, not_learned_id).astype(float)
    reason_id[~tapped_reason | left] = np.nan
    learned &= tapped_reason & ~left
    used_name = ~left & (rng.random(n) < np.where(warm, 0.5, np.where(missed, 0.05, 0.15)))
    recommended = ~left & (rng.random(n) < 0.25 + 0.3 * learned + 0.1 * warm)
    depth = warm.astype(int) + learned + recommended

    base = np.select(
        [warm, missed],
        [BASE_CONVERSION["warm"], BASE_CONVERSION["missed"]],
        BASE_CONVERSION["neutral"],
    )
    # Issue #30: the longer the wait before the first moment, the fewer buy
    # (waits unknown without an arrival: no change).
    wait_cost = np.where(
        arrived & ~left, WAIT_COST * -np.expm1(-wait / WAIT_SCALE) - SHORT_BONUS, 0.0
    )
    p_buy = np.clip(
        base + 0.06 * learned + 0.06 * recommended + sell_skill[associate_idx] - wait_cost,
        0.02,
        0.95,
    )
    purchased = (rng.random(n) < p_buy) & ~left
    units = np.minimum(1 + rng.poisson(0.4 + 0.7 * depth), 99)
    price = np.exp(rng.normal(np.log(2500), 0.6, n))  # cents per unit
    amount = np.round(units * price).astype(np.int64)
    has_amount = rng.random(n) < 0.85
    no_sale = np.where(
        rng.random(n) < 0.7, rng.choice(no_sale_ids, size=n, p=[0.3, 0.15, 0.3, 0.15, 0.1]), 0
    )
    no_sale[left] = 0  # a "left before greeting" tap asks for no reason

    started_ns = started.astype("datetime64[ns]").astype(np.int64)
    is_open = started_ns > np.datetime64(now.replace(tzinfo=None) - OPEN_WINDOW, "ns").astype(
        np.int64
    )
    closed_ns = started_ns + rng.integers(3 * 60, 25 * 60, n) * 1_000_000_000
    voided = rng.random(n) < 0.005
    # Left before greeting: started and closed at that tap (arrival + wait).
    is_open &= ~left
    closed_ns[left] = started_ns[left]
    arrived_ns = started_ns - np.round(wait * 1000).astype(np.int64) * 1_000_000
    arrived_text = np.full(n, None, dtype=object)
    arrived_text[arrived] = _utc_text(arrived_ns[arrived])
    # Whole seconds, as a greeting tap stores them (waiting.seconds_between).
    greet_seconds = np.where(arrived & ~left, (started_ns - arrived_ns) // 1_000_000_000, None)

    closed_text = _utc_text(closed_ns)
    started_text = _utc_text(started_ns)
    outcome = np.where(is_open, None, np.where(purchased, "purchased", "no_purchase"))
    buy = ~is_open & purchased
    nobuy = ~is_open & ~purchased
    none = np.full(n, None, dtype=object)
    return {
        "id": [],  # from the seed, by generate
        "store_id": np.array(store_ids)[store_idx].tolist(),
        "associate_id": associate_id.tolist(),
        "started_at": started_text.tolist(),
        "first_engagement": engagement.tolist(),
        "reason_id": [None if r != r else int(r) for r in reason_id.tolist()],
        "used_name": used_name.astype(int).tolist(),
        "recommended": recommended.astype(int).tolist(),
        "outcome": outcome.tolist(),
        "units": np.where(buy, units, None).tolist(),
        "amount_cents": np.where(buy & has_amount, amount, None).tolist(),
        "no_sale_reason_id": np.where(nobuy & (no_sale > 0), no_sale, None).tolist(),
        "closed_at": np.where(is_open, none, closed_text).tolist(),
        "closed_by": np.where(is_open, None, associate_id).tolist(),
        "voided_at": np.where(voided, closed_text, none).tolist(),
        "void_reason": np.where(voided, "Demo: logged twice", none).tolist(),
        "updated_at": np.where(is_open, started_text, closed_text).tolist(),
        "started_local": _local_text(started_ns, store_idx, zones).tolist(),
        "closed_local": np.where(is_open, none, _local_text(closed_ns, store_idx, zones)).tolist(),
        "arrived_at": arrived_text.tolist(),
        "arrived_local": np.where(
            arrived, _local_text(arrived_ns, store_idx, zones), none
        ).tolist(),
        "greet_seconds": greet_seconds.tolist(),
        "left_before_greeting": left.astype(int).tolist(),
    }


def _arrivals(
    rng: np.random.Generator, n: int, busy: np.ndarray, stores: int, store_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which visits had an arrival tap, how many seconds each waited before
    the first moment (or before leaving), and which left before greeting.
    ``busy`` is how busy the visit's hour was, 0 to 1: waits lengthen with
    it, and stores differ in how well they are staffed."""
    arrived = rng.random(n) < ARRIVAL_SHARE
    staffing = rng.uniform(0.8, 1.25, stores)[store_idx]
    low, high = WAIT_MEDIAN
    wait = (low + (high - low) * busy) * staffing * rng.lognormal(0.0, WAIT_SIGMA, n)
    tail = rng.random(n) < TAIL_SHARE
    wait[tail] += rng.exponential(TAIL_MEAN, int(tail.sum()))
    low, high = LEFT_SHARE
    left = arrived & (rng.random(n) < low + (high - low) * busy)
    low, high = LEFT_WAIT_MEDIAN
    left_wait = (low + (high - low) * busy) * rng.lognormal(0.0, WAIT_SIGMA, n)
    wait = np.clip(np.where(left, left_wait, wait), 1.0, LONGEST_WAIT)
    return arrived, np.where(arrived, wait, 0.0), left


def _start_times(rng, n, days, zones, store_idx, now) -> tuple[np.ndarray, np.ndarray]:
    """UTC start times (datetime64[ms]) from local opening hours in each
    store's zone, and how busy each one's local hour and weekday is (0 the
    quietest, 1 the busiest: issue #30's waits)."""
    today = np.datetime64(now.date(), "D")
    day_offsets = np.arange(days)
    day_dates = today - day_offsets
    weekday = (day_dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 = Thu
    p_day = WEEKDAY_WEIGHTS[weekday] / WEEKDAY_WEIGHTS[weekday].sum()
    picked = rng.choice(days, size=n, p=p_day)
    day = day_dates[picked]
    hours = np.array(list(HOUR_WEIGHTS))
    hw = np.array(list(HOUR_WEIGHTS.values()), dtype=float)
    hour_idx = rng.choice(len(hours), size=n, p=hw / hw.sum())
    hour = hours[hour_idx]
    # Traffic at the visit's local hour and weekday (a week's wrap below keeps both).
    traffic = hw[hour_idx] * WEEKDAY_WEIGHTS[weekday[picked]]
    least, most = hw.min() * WEEKDAY_WEIGHTS.min(), hw.max() * WEEKDAY_WEIGHTS.max()
    busy = (traffic - least) / (most - least)
    local = (
        day.astype("datetime64[ms]")
        + hour.astype("timedelta64[h]")
        + rng.integers(0, 3_600_000, n).astype("timedelta64[ms]")
    )
    result = np.empty(n, dtype="datetime64[ms]")
    for s, tz in enumerate(zones):
        mask = store_idx == s
        stamps = (
            pd.DatetimeIndex(local[mask])
            .tz_localize(
                tz, ambiguous=np.zeros(mask.sum(), dtype=bool), nonexistent="shift_forward"
            )
            .tz_convert("UTC")
            .tz_localize(None)
        )
        result[mask] = stamps.to_numpy().astype("datetime64[ms]")
    # Times after now wrap back one week, keeping their weekday and hour.
    future = result > np.datetime64(now.replace(tzinfo=None), "ms")
    result[future] -= np.timedelta64(7, "D")
    return result, busy


def _local_text(ns: np.ndarray, store_idx: np.ndarray, zones: list[str]) -> np.ndarray:
    """Each UTC time as its store's local text with offset, as
    cxlog.calendar.localtimes.local_text writes it for a visit, for all at
    once: an UPDATE of every loaded visit afterwards (localtimes.fill) took
    15 s per 200,000 visits on PostgreSQL."""
    result = np.empty(len(ns), dtype=object)
    utc = ns.view("datetime64[ns]")
    for s, tz in enumerate(zones):
        mask = store_idx == s
        local = (
            pd.DatetimeIndex(utc[mask]).tz_localize("UTC").tz_convert(tz).tz_localize(None)
        ).to_numpy()
        seconds = ((local - utc[mask]) // np.timedelta64(1, "s")).astype(np.int64)
        offsets = {int(x): offset_text(int(x)) for x in np.unique(seconds)}
        shift = np.array([offsets[int(x)] for x in seconds], dtype=object)
        clock = np.datetime_as_string(local.astype("datetime64[s]"), unit="s").astype(object)
        result[mask] = clock + shift
    return result


def _utc_text(ns: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(ns.view("datetime64[ns]").astype("datetime64[ms]"), unit="ms")
    return np.char.add(text, "Z")


def _ids(n: int, seed: int) -> list[str]:
    """Random ids, in ascending order: the primary key's B-tree is then
    appended to, not split at random places (several seconds at 1M). From
    the seed, by a generator of their own (the visits' draws stay as they
    were): one seed writes the same visits into either engine (#27)."""
    raw = np.random.default_rng([seed, 27]).bytes(16 * n).hex()
    return sorted(raw[i : i + 32] for i in range(0, 32 * n, 32))


def describe(result: DemoResult) -> str:
    return (
        f"Wrote {result.visits:,} demo visits for {result.stores} store(s) and "
        f"{result.associates} associates, with {result.followups:,} follow-ups."
    )
