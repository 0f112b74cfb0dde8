"""How much of the real traffic is logged, and when the moment numbers can be
trusted (issue #13). No Streamlit here.

Definitions (PRODUCT.md, second version):

- **visitors** of an hour = the counter's entries, or (entries + exits) / 2 for
  a two-way beam, less the store's staff allowance per hour (never below 0);
- **logging coverage** = logged visits (voided ones never count, open ones do)
  ÷ visitors, over the hours the counter has a figure for: a visit logged in
  an hour without counter data is left out of both sides, and counted apart;
- **POS conversion** = POS transactions ÷ visitors, over the days that have
  both (POS totals may be whole days); per hour only where the POS is hourly;
- **logged conversion** (purchased ÷ closed logged visits, in the counted
  hours) and **logged units per sale** sit beside POS conversion and POS
  **units per transaction**.

Hours, days and weekdays are the store's local clock: a counter hour is kept
as the UTC instant its local hour starts, so DST changes need no special case
(the hour repeated in autumn is two rows with the same local label).

Logged visits per counter hour come from ``logged_per_hour`` only: one query
joining the counter's hours to the visits index. Pointing it at rollups later
changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from cxlog import catalog
from cxlog.db import Storage
from cxlog.model import to_utc_text
from cxlog.traffic import CounterSettings, counter_settings

SILENT, OVER, LOW, POS_ONLY, UNMATCHED = (
    "counter_silent",
    "more_logged_than_visitors",
    "low_coverage",
    "pos_without_traffic",
    "logged_without_traffic",
)
HOURLY_COLUMNS = (
    "store_id",
    "day",
    "hour",
    "weekday",
    "visitors",
    "logged",
    "closed",
    "purchased",
    "units",
    "pos_transactions",
)
_SUMS = ("visitors", "logged", "closed", "purchased", "units")


def _ratio(top: float, bottom: float) -> float | None:
    return None if not bottom else top / bottom


@dataclass(frozen=True)
class Totals:
    """Sums over a set of counter hours (and the POS days matched to them)."""

    hours: int = 0  # counter hours
    visitors: float = 0.0
    logged: int = 0  # logged visits in those hours
    closed: int = 0
    purchased: int = 0
    units: int = 0  # logged units over purchased visits
    unmatched: int = 0  # logged visits in hours without counter data
    pos_days: int = 0  # days with both POS totals and counter data
    pos_visitors: float = 0.0  # visitors of those days
    pos_transactions: int = 0
    pos_units: int = 0  # over transactions of days that report units
    pos_unit_transactions: int = 0
    pos_net_cents: int = 0

    @property
    def coverage(self) -> float | None:
        return _ratio(self.logged, self.visitors)

    @property
    def pos_conversion(self) -> float | None:
        return _ratio(self.pos_transactions, self.pos_visitors)

    @property
    def logged_conversion(self) -> float | None:
        return _ratio(self.purchased, self.closed)

    @property
    def units_per_transaction(self) -> float | None:
        return _ratio(self.pos_units, self.pos_unit_transactions)

    @property
    def logged_units_per_sale(self) -> float | None:
        return _ratio(self.units, self.purchased)


@dataclass(frozen=True)
class Flag:
    kind: str
    store_id: int
    day: date | None
    hour: int | None  # None: the whole day (or the period)
    detail: str


@dataclass(frozen=True)
class Coverage:
    """Every coverage number of a selection: totals, per store, per day, per
    hour (store-local), the weekday × hour grid and the trust flags."""

    totals: Totals
    by_store: dict[int, Totals]
    hourly: pd.DataFrame  # HOURLY_COLUMNS, one row per counter hour
    daily: pd.DataFrame  # store_id, day, the sums, pos_*; one row per store and day
    heat: pd.DataFrame  # weekday, hour, visitors, logged, coverage
    flags: list[Flag]
    settings: dict[int, CounterSettings] = field(default_factory=dict)

    @property
    def has_traffic(self) -> bool:
        return self.totals.hours > 0


# --- reading ------------------------------------------------------------------------


def logged_per_hour(storage: Storage, store_id: int, start: str, end: str) -> pd.DataFrame:
    """Logged (non-voided) visits in each of a store's counter hours in
    [start, end) (UTC text): hour_start, logged, closed, purchased, units.

    One query: the counter's hours in key order, each joined to its range of
    the visits' (store, started_at) covering index, so no sort is needed.
    """
    with storage.read() as db:
        rows = db.execute(
            """
            SELECT t.hour_start, count(*), count(v.outcome),
                   sum(v.outcome = 'purchased'), coalesce(sum(v.units), 0)
            FROM traffic_hours t
            JOIN visits v INDEXED BY visits_dashboard
              ON v.store_id = t.store_id AND v.started_at >= t.hour_start
             AND v.started_at < t.hour_end AND v.voided_at IS NULL
            WHERE t.store_id = ? AND t.hour_start >= ? AND t.hour_start < ?
            GROUP BY t.hour_start
            """,
            [store_id, start, end],
        ).fetchall()
    return pd.DataFrame(rows, columns=["hour_start", "logged", "closed", "purchased", "units"])


def _read_store(
    storage: Storage, store_id: int, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(counter hours, POS rows, logged visits in the range) of one store."""
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    lo, hi = to_utc_text(start), to_utc_text(end)
    with storage.read() as db:
        counter = pd.DataFrame(
            db.execute(
                "SELECT hour_start, entries, exits FROM traffic_hours"
                " WHERE store_id = ? AND hour_start >= ? AND hour_start < ?",
                [store_id, lo, hi],
            ).fetchall(),
            columns=["hour_start", "entries", "exits"],
        )
        pos = pd.DataFrame(
            db.execute(
                "SELECT day, hour, transactions, units, net_sales_cents FROM pos_totals"
                " WHERE store_id = ? AND day >= ? AND day <= ?",
                [store_id, first_day.isoformat(), last_day.isoformat()],
            ).fetchall(),
            columns=["day", "hour", "transactions", "units", "net_sales_cents"],
        )
        (visits,) = db.execute(
            "SELECT count(*) FROM visits WHERE store_id = ? AND started_at >= ?"
            " AND started_at < ? AND voided_at IS NULL",
            [store_id, lo, hi],
        ).fetchone()
    logged = logged_per_hour(storage, store_id, lo, hi) if len(counter) else None
    if logged is not None and len(logged):
        counter = counter.merge(logged, on="hour_start", how="left")
    for column in ("logged", "closed", "purchased", "units"):
        if column not in counter:
            counter[column] = 0
        counter[column] = counter[column].fillna(0).astype(np.int64)
    return counter, pos, int(visits)


def _local(counter: pd.DataFrame, zone: str) -> pd.DataFrame:
    stamps = pd.to_datetime(counter["hour_start"], format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True)
    wall = pd.DatetimeIndex(stamps).tz_convert(zone).tz_localize(None)
    counter["day"] = wall.date
    counter["hour"] = wall.hour.astype(np.int64)
    counter["weekday"] = wall.day_of_week.astype(np.int64)
    return counter


def _visitors(counter: pd.DataFrame, settings: CounterSettings) -> pd.Series:
    entries = counter["entries"].astype(float)
    if settings.two_way:
        both = counter["exits"].notna()
        entries = entries.where(~both, (entries + counter["exits"].astype(float)) / 2)
    return (entries - settings.staff_per_hour).clip(lower=0)


# --- summing ------------------------------------------------------------------------


def _totals(hourly: pd.DataFrame, daily: pd.DataFrame, unmatched: int) -> Totals:
    both = daily[daily["counted"] & daily["pos_transactions"].notna()]
    with_units = both[both["pos_units"].notna()]
    return Totals(
        hours=len(hourly),
        visitors=float(hourly["visitors"].sum()),
        logged=int(hourly["logged"].sum()),
        closed=int(hourly["closed"].sum()),
        purchased=int(hourly["purchased"].sum()),
        units=int(hourly["units"].sum()),
        unmatched=unmatched,
        pos_days=len(both),
        pos_visitors=float(both["visitors"].sum()),
        pos_transactions=int(both["pos_transactions"].sum()),
        pos_units=int(with_units["pos_units"].sum()),
        pos_unit_transactions=int(with_units["pos_transactions"].sum()),
        pos_net_cents=int(both["pos_net_cents"].fillna(0).sum()),
    )


def _daily(hourly: pd.DataFrame, pos: pd.DataFrame) -> pd.DataFrame:
    days = hourly.groupby(["store_id", "day"], as_index=False)[list(_SUMS)].sum()
    days["counted"] = True
    if len(pos):
        pos_days = pos.groupby(["store_id", "day"], as_index=False).agg(
            pos_transactions=("transactions", "sum"),
            pos_units=("units", lambda s: s.sum() if s.notna().all() else np.nan),
            pos_net_cents=("net_sales_cents", lambda s: s.sum(min_count=1)),
        )
        days = days.merge(pos_days, on=["store_id", "day"], how="outer")
    else:
        for column in ("pos_transactions", "pos_units", "pos_net_cents"):
            days[column] = pd.Series(dtype=float)
    days["counted"] = days["counted"].astype("boolean").fillna(False).astype(bool)
    for column in _SUMS:
        days[column] = days[column].fillna(0)
    days["coverage"] = days["logged"] / days["visitors"].where(days["visitors"] > 0)
    days["pos_conversion"] = (days["pos_transactions"] / days["visitors"]).where(
        days["counted"] & (days["visitors"] > 0)
    )
    return days.sort_values(["store_id", "day"]).reset_index(drop=True)


def _heat(hourly: pd.DataFrame) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    cells = hourly.groupby(["weekday", "hour"])[["visitors", "logged"]].sum().reindex(grid)
    cells = cells.fillna(0).reset_index()
    cells["coverage"] = cells["logged"] / cells["visitors"].where(cells["visitors"] > 0)
    return cells


def _flags(
    hourly: pd.DataFrame,
    daily: pd.DataFrame,
    pos: pd.DataFrame,
    by_store: dict[int, Totals],
    settings: dict[int, CounterSettings],
) -> list[Flag]:
    flags: list[Flag] = []
    open_hours = (hourly["logged"] > 0) | (hourly["pos_transactions"].fillna(0) > 0)
    for r in hourly[(hourly["visitors"] == 0) & open_hours].itertuples():
        flags.append(
            Flag(
                SILENT,
                r.store_id,
                r.day,
                r.hour,
                f"the counter counted nobody while {r.logged:,} visits were logged"
                + (
                    f" and {int(r.pos_transactions):,} sales rung up"
                    if r.pos_transactions == r.pos_transactions and r.pos_transactions
                    else ""
                ),
            )
        )
    for r in hourly[
        (hourly["visitors"] > 0) & (hourly["logged"] > hourly["visitors"])
    ].itertuples():
        flags.append(
            Flag(
                OVER,
                r.store_id,
                r.day,
                r.hour,
                f"{r.logged:,} visits logged but {r.visitors:g} visitors counted",
            )
        )
    for store_id, totals in by_store.items():
        threshold = settings.get(store_id, CounterSettings()).coverage_threshold
        if totals.coverage is not None and totals.coverage < threshold:
            flags.append(
                Flag(
                    LOW,
                    store_id,
                    None,
                    None,
                    f"{totals.coverage:.0%} of visitors logged, under the store's "
                    f"{threshold:.0%} threshold",
                )
            )
        if totals.unmatched:
            flags.append(
                Flag(
                    UNMATCHED,
                    store_id,
                    None,
                    None,
                    f"{totals.unmatched:,} logged visits fell in hours without counter data",
                )
            )
    if len(pos):
        counted_hours = set(zip(hourly["store_id"], hourly["day"], hourly["hour"], strict=True))
        counted_days = set(zip(hourly["store_id"], hourly["day"], strict=True))
        for r in pos[pos["transactions"] > 0].itertuples():
            whole_day = r.hour < 0
            missing = (
                (r.store_id, r.day) not in counted_days
                if whole_day
                else (r.store_id, r.day, r.hour) not in counted_hours
            )
            if missing:
                flags.append(
                    Flag(
                        POS_ONLY,
                        r.store_id,
                        r.day,
                        None if whole_day else r.hour,
                        f"{r.transactions:,} POS transactions but no counter figure",
                    )
                )
    return flags


def build(
    storage: Storage,
    ranges: Mapping[int, tuple[datetime, datetime]],
) -> Coverage:
    """Coverage for each store's [start, end) UTC range (its local days)."""
    zones = {s["id"]: s["timezone"] for s in catalog.list_stores(storage)}
    settings = counter_settings(storage, ranges)
    hours, pos_rows, unmatched = [], [], {}
    for store_id, (start, end) in ranges.items():
        if store_id not in zones or end <= start:
            continue
        counter, pos, visits = _read_store(storage, store_id, start, end, ZoneInfo(zones[store_id]))
        counter["store_id"] = store_id
        counter["visitors"] = _visitors(counter, settings[store_id])
        hours.append(_local(counter, zones[store_id]))
        if len(pos):
            pos["store_id"] = store_id
            pos["day"] = pd.to_datetime(pos["day"]).dt.date
            pos_rows.append(pos)
        unmatched[store_id] = visits - int(counter["logged"].sum())
    hourly = pd.concat(hours, ignore_index=True) if hours else pd.DataFrame(columns=HOURLY_COLUMNS)
    pos = pd.concat(pos_rows, ignore_index=True) if pos_rows else pd.DataFrame()
    hourly_pos = pos[pos["hour"] >= 0] if len(pos) else pd.DataFrame()
    if len(hourly_pos):
        hourly = hourly.merge(
            hourly_pos[["store_id", "day", "hour", "transactions"]]
            .groupby(["store_id", "day", "hour"], as_index=False)
            .sum()
            .rename(columns={"transactions": "pos_transactions"}),
            on=["store_id", "day", "hour"],
            how="left",
        )
        # The hour repeated when clocks go back is one POS hour: keep it once.
        again = hourly.duplicated(["store_id", "day", "hour"])
        hourly.loc[again, "pos_transactions"] = np.nan
    else:
        hourly["pos_transactions"] = np.nan
    for column in _SUMS:
        hourly[column] = pd.to_numeric(hourly[column]).fillna(0)
    hourly = hourly[list(HOURLY_COLUMNS)]
    daily = _daily(hourly, pos)
    by_store = {
        store_id: _totals(
            hourly[hourly["store_id"] == store_id],
            daily[daily["store_id"] == store_id],
            unmatched.get(store_id, 0),
        )
        for store_id in unmatched
    }
    return Coverage(
        totals=_totals(hourly, daily, sum(unmatched.values())),
        by_store=by_store,
        hourly=hourly,
        daily=daily,
        heat=_heat(hourly),
        flags=_flags(hourly, daily, pos, by_store, settings),
        settings=settings,
    )


def day_ranges(
    storage: Storage, store_ids: Iterable[int] | None, first: date, last: date
) -> dict[int, tuple[datetime, datetime]]:
    """Each store's UTC range for its local days first..last (both included)."""
    wanted = None if store_ids is None else set(store_ids)
    result = {}
    for s in catalog.list_stores(storage):
        if wanted is None or s["id"] in wanted:
            zone = ZoneInfo(s["timezone"])
            result[s["id"]] = (
                datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
                datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC),
            )
    return result


# --- in words ------------------------------------------------------------------------


def warning(cov: Coverage, store_names: Mapping[int, str]) -> str | None:
    """A sentence when moment comparisons rest on a low-coverage period: any
    selected store whose coverage is under its own threshold. None when every
    store is at or above it, or no counter data covers the period."""
    low = [
        (store_id, t)
        for store_id, t in cov.by_store.items()
        if t.coverage is not None
        and t.coverage < cov.settings.get(store_id, CounterSettings()).coverage_threshold
    ]
    if not low:
        return None
    parts = [
        f"{store_names.get(store_id, f'store {store_id}')} logged {t.coverage:.0%} of "
        f"{t.visitors:,.0f} visitors (threshold "
        f"{cov.settings.get(store_id, CounterSettings()).coverage_threshold:.0%})"
        for store_id, t in low
    ]
    return (
        "Careful: these moment comparisons rest on partial logging. "
        + "; ".join(parts)
        + ". Visits that were not logged may have gone differently, so read the "
        "comparisons as a sample, not the whole story."
    )


def low_coverage_warning(
    storage: Storage, store_ids: Iterable[int] | None, start: date | datetime, end: date | datetime
) -> str | None:
    """The low-coverage warning for other pages (e.g. the huddle, issue #14).

    ``start``/``end`` are either store-local days (``date``, both included) or
    UTC instants (``datetime``, end excluded). None when coverage is fine or
    there is no counter data for the period.
    """
    if isinstance(start, datetime) and isinstance(end, datetime):
        stores = catalog.list_stores(storage)
        wanted = None if store_ids is None else set(store_ids)
        ranges = {s["id"]: (start, end) for s in stores if wanted is None or s["id"] in wanted}
    else:
        ranges = day_ranges(storage, store_ids, start, end)
    cov = build(storage, ranges)
    return warning(cov, {s["id"]: s["name"] for s in catalog.list_stores(storage)})


FLAG_TITLES = {
    SILENT: "Counter silent while the store was open",
    OVER: "More logged visits than visitors",
    LOW: "Coverage under the store's threshold",
    POS_ONLY: "POS sales but no counter figure",
    UNMATCHED: "Logged visits without counter data",
}


def flag_lines(cov: Coverage, store_names: Mapping[int, str], limit: int = 5) -> list[str]:
    """One sentence per kind of flag, naming up to ``limit`` of its hours."""
    lines = []
    for kind, title in FLAG_TITLES.items():
        found = [f for f in cov.flags if f.kind == kind]
        if not found:
            continue
        shown = []
        for f in found[:limit]:
            where = store_names.get(f.store_id, f"store {f.store_id}")
            when = "" if f.day is None else f" {f.day:%a %-d %b}"
            when += "" if f.hour is None else f" {f.hour:02d}:00"
            shown.append(f"{where}{when}: {f.detail}")
        more = f"; and {len(found) - limit:,} more" if len(found) > limit else ""
        lines.append(f"**{title}** ({len(found):,}) — " + "; ".join(shown) + more + ".")
    return lines
