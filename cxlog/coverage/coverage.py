"""How much of the real traffic is logged, and when the moment numbers can be
trusted (issue #13). No Streamlit here.

Definitions:

- **visitors** of an hour = the counter's entries, or (entries + exits) / 2 for
  a two-way beam, less the store's staff allowance per hour (never below 0);
- **logging coverage** = logged visits (voided ones never count, open ones do)
  ÷ visitors, over the hours the counter has a figure for: a visit logged in
  an hour without counter data, or in an hour the counter counted nobody
  (a silent counter), is left out of both sides, and counted apart;
- **POS conversion** = POS transactions ÷ visitors, over the days that have
  both (POS totals may be whole days); per hour only where the POS is hourly;
- **logged conversion** (purchased ÷ closed logged visits, in the counted
  hours) and **logged units per sale** sit beside POS conversion and POS
  **units per transaction**.

Hours, days and weekdays are the store's local clock: a counter hour is kept
as the UTC instant its local hour starts, so DST changes need no special case
(the hour repeated in autumn is two rows with the same local label).

Two reads give the same numbers:

- ``build`` counts from the counter hours, POS lines and visits (the rollups'
  hour rows, or ``logged_per_hour`` joining the hours to the visits): every
  number, per day and per hour too (the Imports page, the summary CSV);
- ``overview`` reads the sums kept on every write (``cxlog.numbers.coverage_sums``):
  the totals, per store, the weekday × hour grid and the flags, for whole
  local days (the dashboard, the coaching warning). The tests hold it to
  ``build`` after random writes, imports and setting changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from babel.numbers import format_decimal

from cxlog.calendar import localday
from cxlog.core.model import to_utc_text
from cxlog.coverage.traffic import CounterSettings, counter_settings
from cxlog.language import formats
from cxlog.language.words import N_, _, current
from cxlog.numbers import coverage_sums, rollups
from cxlog.numbers.figures import decimal, percent
from cxlog.storage.db import Storage
from cxlog.stores import catalog

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
    "silent_logged",
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
    """A trust flag: its numbers are kept, its words written when shown
    (``detail``, in the reader's language), so a cached overview serves
    every language."""

    kind: str
    store_id: int
    day: date | None
    hour: int | None  # None: the whole day (or the period)
    # The numbers its words need: SILENT (logged, sales), OVER (logged,
    # visitors), POS_ONLY (transactions,), LOW (coverage and threshold as whole
    # percentages), UNMATCHED (unmatched visits,).
    figures: tuple = ()

    @property
    def detail(self) -> str:
        """What the flag found, in words."""
        if self.kind == SILENT:
            logged, sales = self.figures
            if sales:
                return _(
                    "the counter counted nobody while {logged} visits were logged and "
                    "{sales} sales rung up"
                ).format(logged=formats.number(logged), sales=formats.number(sales))
            return _("the counter counted nobody while {logged} visits were logged").format(
                logged=formats.number(logged)
            )
        if self.kind == OVER:
            logged, visitors = self.figures
            return _("{logged} visits logged but {visitors} visitors counted").format(
                logged=formats.number(logged), visitors=_visitors_text(visitors)
            )
        if self.kind == POS_ONLY:
            (transactions,) = self.figures
            return _("{n} POS transactions but no counter figure").format(
                n=formats.number(transactions)
            )
        if self.kind == LOW:
            share, threshold = self.figures  # whole percentages
            return _(
                "{coverage} of visitors logged, under the store's {threshold} threshold"
            ).format(coverage=percent(share / 100, 0), threshold=percent(threshold / 100, 0))
        (unmatched,) = self.figures
        return _("{n} logged visits fell in hours without counter data").format(
            n=formats.number(unmatched)
        )


def _visitors_text(visitors: float) -> str:
    """An hour's visitors as counted (3, 2.5), with the reader's decimal sign."""
    return format_decimal(visitors, format="0.#####", locale=current())


@dataclass(frozen=True)
class Overview:
    """A selection's coverage as the dashboard shows it: totals, per store, the
    weekday × hour grid and the trust flags (``overview`` reads it from the
    pre-summed tables)."""

    totals: Totals
    by_store: dict[int, Totals]
    heat: pd.DataFrame  # weekday, hour, visitors, logged, coverage
    flags: list[Flag]
    settings: dict[int, CounterSettings] = field(default_factory=dict)

    @property
    def has_traffic(self) -> bool:
        return self.totals.hours > 0


@dataclass(frozen=True)
class Coverage(Overview):
    """Every coverage number of a selection: the overview, and per day and per
    hour (store-local)."""

    hourly: pd.DataFrame = field(default_factory=pd.DataFrame)  # HOURLY_COLUMNS, per counter hour
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)  # store_id, day, sums, pos_*


# --- reading ------------------------------------------------------------------------


def logged_per_hour(storage: Storage, store_id: int, start: str, end: str) -> pd.DataFrame:
    """Logged (non-voided) visits in each of a store's counter hours in
    [start, end) (UTC text): hour_start, logged, closed, purchased, units."""
    with storage.read() as db:
        rows = _logged_rows(db, store_id, start, end)
    return pd.DataFrame(rows, columns=["hour_start", "logged", "closed", "purchased", "units"])


def _logged_rows(db, store_id: int, start: str, end: str) -> list[tuple]:
    """``logged_per_hour``'s rows on an open connection (hour_start in Unix seconds).

    One query: the counter's hours in key order, each joined to its range of
    the visits' (store, started_at) covering index, so no sort is needed.
    """
    return db.execute(
        """
        SELECT unixepoch(t.hour_start), count(*), count(v.outcome),
               count(CASE WHEN v.outcome = 'purchased' THEN 1 END), coalesce(sum(v.units), 0)
        FROM traffic_hours t
        JOIN visits v INDEXED BY visits_dashboard
          ON v.store_id = t.store_id AND v.started_at >= t.hour_start
         AND v.started_at < t.hour_end AND v.voided_at IS NULL
        WHERE t.store_id = ? AND t.hour_start >= ? AND t.hour_start < ?
        GROUP BY t.hour_start
        """,
        [store_id, start, end],
    ).fetchall()


def _from_rollups(
    db,
    store_id: int,
    counter: dict,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> tuple[np.ndarray, int] | None:
    """(n, 4) sums per counter hour and the store's logged visits in all, read
    from the rollups' local (day, hour) rows (cxlog/numbers/rollups.py), kept exact on
    every write: a year is ~4,400 rows, not a join of every visit.

    None (read the visits instead) when the range is not whole local days or
    a counter hour does not start on a local hour (imports snap to the
    store's clock hours, but the store's timezone may have changed since, to
    one with a :30 or :45 offset). The hour repeated when clocks go back is
    one local (day, hour) row for two counter hours: those few hours are read
    from the visits."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.time() != time(0) or last.time() != time(0):
        return None
    wall = _wall(counter["hour_start"], zone)
    if len(wall) and (wall % 3_600).any():
        return None
    first_day = localday.day_number(first.date())
    last_day = localday.day_number(last.date()) - 1
    rows = np.array(
        db.execute(
            "SELECT bucket * 24 + k1, visits, closed, purchased, units FROM rollups"
            " WHERE store_id = ? AND grain = ? AND bucket BETWEEN ? AND ? AND kind = ?",
            [store_id, rollups.DAY, first_day, last_day, rollups.KINDS["hour"].code],
        ).fetchall(),
        dtype=np.int64,
    ).reshape(-1, 5)
    order = np.argsort(rows[:, 0], kind="stable")
    keys, values = rows[order, 0], rows[order, 1:]
    wanted = wall // 3_600
    sums = np.zeros((len(wanted), 4), dtype=np.int64)  # an hour without visits: 0
    if len(keys):
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[at] == wanted
        sums[found] = values[at[found]]
    repeated = np.flatnonzero(pd.Series(wanted).duplicated(keep=False).to_numpy())
    if len(repeated):
        lo = int(counter["hour_start"][repeated].min())
        hi = int(counter["hour_start"][repeated].max()) + 3_600
        logged = np.array(
            _logged_rows(
                db,
                store_id,
                to_utc_text(datetime.fromtimestamp(lo, UTC)),
                to_utc_text(datetime.fromtimestamp(hi, UTC)),
            ),
            dtype=np.int64,
        ).reshape(-1, 5)
        sums[repeated] = 0
        sums[np.searchsorted(counter["hour_start"], logged[:, 0])] = logged[:, 1:]
    return sums, int(rows[:, 1].sum())


def _counter_hours(db, store_id: int, lo: str, hi: str) -> dict[str, np.ndarray]:
    """A store's counter hours in [lo, hi), in time order: hour_start, hour_end
    (Unix seconds), entries, exits (-1 when not counted).

    A year is ~8,760 rows. SQLite joins each column into one string (the
    stored times are fixed-width) and numpy parses them: a Python tuple per
    row, or SQLite's unixepoch() per row, each cost several times as long."""
    # hour_end is always hour_start + 1 h (cxlog.coverage.traffic writes it so): not read.
    count, starts, entries, exits = db.execute(
        "SELECT count(*), group_concat(hour_start, ''),"
        " group_concat(entries, ','), group_concat(coalesce(exits, -1), ',') FROM"
        " (SELECT * FROM traffic_hours WHERE store_id = ? AND hour_start >= ?"
        "  AND hour_start < ? ORDER BY hour_start) AS h",
        [store_id, lo, hi],
    ).fetchone()
    if not count:
        return {name: np.zeros(0, dtype=np.int64) for name in _COUNTER}

    _, start = coverage_sums.stamps(starts, count)
    return {
        "hour_start": start,
        "hour_end": start + 3_600,
        "entries": np.fromstring(entries, dtype=np.int64, sep=","),
        "exits": np.fromstring(exits, dtype=np.int64, sep=","),
    }


_COUNTER = ("hour_start", "hour_end", "entries", "exits")


def _read_store(
    storage: Storage,
    store_id: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, int]:
    """(counter hours as arrays, POS rows, logged visits in the range) of one store."""
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    lo, hi = to_utc_text(start), to_utc_text(end)
    with storage.read() as db:
        counter = _counter_hours(db, store_id, lo, hi)
        summed = (
            _from_rollups(db, store_id, counter, start, end, zone)
            if len(counter["hour_start"])
            else None
        )
        sold = db.execute(
            "SELECT day, hour, transactions, units, net_sales_cents FROM pos_totals"
            " WHERE store_id = ? AND day >= ? AND day <= ?",
            [store_id, first_day.isoformat(), last_day.isoformat()],
        ).fetchall()
        pos = (
            pd.DataFrame(sold, columns=["day", "hour", "transactions", "units", "net_sales_cents"])
            if sold
            else _NO_POS
        )
        # A store without counter hours in the range is simply not counted:
        # its visits are not "without counter data", and reading them costs time.
        (visits,) = (
            db.execute(
                "SELECT count(*) FROM visits WHERE store_id = ? AND started_at >= ?"
                " AND started_at < ? AND voided_at IS NULL",
                [store_id, lo, hi],
            ).fetchone()
            if len(counter["hour_start"]) and summed is None
            else (0,)
        )
    counted = len(counter["hour_start"])
    if summed is not None:
        sums, visits = summed
    else:
        sums = np.zeros((counted, 4), dtype=np.int64)
        if counted:
            logged = logged_per_hour(storage, store_id, lo, hi)
            at = np.searchsorted(counter["hour_start"], logged["hour_start"].to_numpy(np.int64))
            sums[at] = logged[["logged", "closed", "purchased", "units"]].to_numpy(np.int64)
    for i, name in enumerate(("logged", "closed", "purchased", "units")):
        counter[name] = sums[:, i]
    return counter, pos, int(visits)


_NO_POS = pd.DataFrame()  # never changed: build only reads a store's POS frame when it has rows


def _wall(hour_start: np.ndarray, zone: ZoneInfo | str) -> np.ndarray:
    """Unix seconds as the local wall clock reads them (seconds since
    1970-01-01 00:00 local), for the store's zone."""
    stamps = pd.to_datetime(hour_start, unit="s", utc=True)
    return pd.DatetimeIndex(stamps).tz_convert(zone).tz_localize(None).as_unit("s").asi8


def _local(counter: dict, zone: str) -> None:
    """Local day (days since 1970), hour and weekday (0 = Monday) of each hour."""
    wall = _wall(counter["hour_start"], zone)
    counter["day"] = wall // 86_400
    counter["hour"] = wall % 86_400 // 3_600
    counter["weekday"] = localday.weekday(counter["day"])


def _visitors(counter: dict, settings: CounterSettings) -> np.ndarray:
    return coverage_sums.visitors(
        counter["entries"], counter["exits"], settings.two_way, settings.staff_per_hour
    )


def _dates(days: pd.Series) -> list[date]:
    return [localday.day_of(d) for d in days]


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
        # Built-in sums only (a Python lambda per day took seconds for a year).
        grouped = pos.assign(no_units=pos["units"].isna()).groupby(["store_id", "day"])
        pos_days = grouped[["transactions", "no_units"]].sum()
        pos_days["units"] = grouped["units"].sum().where(pos_days["no_units"] == 0)
        pos_days["net"] = grouped["net_sales_cents"].sum(min_count=1)
        pos_days = pos_days.reset_index().rename(
            columns={
                "transactions": "pos_transactions",
                "units": "pos_units",
                "net": "pos_net_cents",
            }
        )[["store_id", "day", "pos_transactions", "pos_units", "pos_net_cents"]]
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
    sums = hourly.groupby(["weekday", "hour"])[["visitors", "logged"]].sum().reindex(grid)
    sums = sums.fillna(0)
    return _cells(sums["visitors"].to_numpy(), sums["logged"].to_numpy())


def _cells(visitors: np.ndarray, logged: np.ndarray) -> pd.DataFrame:
    """The weekday × hour frame from 168 visitors and logged figures, Monday
    00:00 first: weekday, hour, visitors, logged, coverage (None without visitors)."""
    cells = pd.DataFrame(
        {
            "weekday": np.repeat(np.arange(7), 24),
            "hour": np.tile(np.arange(24), 7),
            "visitors": visitors.astype(float),
            "logged": logged.astype(float),
        }
    )
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
    open_hours = (hourly["silent_logged"] > 0) | (hourly["pos_transactions"].fillna(0) > 0)
    for r in hourly[(hourly["visitors"] == 0) & open_hours].itertuples():
        sold = r.pos_transactions if r.pos_transactions == r.pos_transactions else None
        flags.append(_silent(r.store_id, int(r.day), r.hour, r.silent_logged, sold))
    for r in hourly[
        (hourly["visitors"] > 0) & (hourly["logged"] > hourly["visitors"])
    ].itertuples():
        flags.append(_over(r.store_id, int(r.day), r.hour, r.logged, r.visitors))
    flags.extend(_store_flags(by_store, settings))
    if len(pos):
        # POS lines without a counter figure: anti-joins, by hour or by day.
        sold = pos[pos["transactions"] > 0]
        hours = hourly[["store_id", "day", "hour"]].drop_duplicates()
        days = hourly[["store_id", "day"]].drop_duplicates()
        lone = pd.concat(
            [
                sold[sold["hour"] >= 0].merge(
                    hours, on=["store_id", "day", "hour"], how="left", indicator=True
                ),
                sold[sold["hour"] < 0].merge(
                    days, on=["store_id", "day"], how="left", indicator=True
                ),
            ]
        )
        for r in lone[lone["_merge"] == "left_only"].itertuples():
            flags.append(_pos_only(r.store_id, int(r.day), r.hour, r.transactions))
    return flags


# Each flag's words, the same whichever way its numbers were read.


def _silent(store_id: int, day: int, hour: int, logged: int, pos: float | None) -> Flag:
    return Flag(SILENT, store_id, localday.day_of(day), hour, (int(logged), int(pos or 0)))


def _over(store_id: int, day: int, hour: int, logged: int, visitors: float) -> Flag:
    # Rounded as shown: the two reads' visitors may differ in the last bits.
    visitors = round(float(visitors), 5)
    return Flag(OVER, store_id, localday.day_of(day), hour, (int(logged), visitors))


def _pos_only(store_id: int, day: int, hour: int, transactions: int) -> Flag:
    return Flag(
        POS_ONLY, store_id, localday.day_of(day), None if hour < 0 else hour, (int(transactions),)
    )


def _store_flags(
    by_store: Mapping[int, Totals], settings: Mapping[int, CounterSettings]
) -> list[Flag]:
    flags = []
    for store_id, totals in by_store.items():
        threshold = settings.get(store_id, CounterSettings()).coverage_threshold
        if totals.coverage is not None and totals.coverage < threshold:
            # Whole percentages, as shown (the two reads' sums may differ in the last bits).
            shown = (round(100 * totals.coverage), round(100 * threshold))
            flags.append(Flag(LOW, store_id, None, None, shown))
        if totals.unmatched:
            flags.append(Flag(UNMATCHED, store_id, None, None, (int(totals.unmatched),)))
    return flags


def build(
    storage: Storage,
    ranges: Mapping[int, tuple[datetime, datetime]],
) -> Coverage:
    """Coverage for each store's [start, end) UTC range (its local days),
    counted from the counter hours and the visits (the rollups' hour rows, or
    ``logged_per_hour``): every number, per day and per hour too. The
    dashboard reads ``overview`` instead; this is its oracle in the tests."""
    # One connection for every store's reads (each new one cost ~0.7 ms).
    with storage.one_connection():
        return _read_and_assemble(storage, ranges)


def _read_and_assemble(
    storage: Storage,
    ranges: Mapping[int, tuple[datetime, datetime]],
) -> Coverage:
    zones = {s["id"]: s["timezone"] for s in catalog.list_stores(storage)}
    settings = counter_settings(storage, ranges)
    hours, pos_rows, unmatched = [], [], {}
    for store_id, (start, end) in ranges.items():
        if store_id not in zones or end <= start:
            continue
        zone = localday.zone(zones[store_id])
        counter, pos, visits = _read_store(storage, store_id, start, end, zone)
        counter["store_id"] = np.full(len(counter["hour_start"]), store_id, dtype=np.int64)
        counter["visitors"] = _visitors(counter, settings[store_id])
        if len(counter["hour_start"]):
            _local(counter, zones[store_id])
        else:
            counter["day"] = counter["hour"] = counter["weekday"] = counter["hour_start"]
        hours.append(counter)
        if len(pos):
            pos["store_id"] = store_id
            pos["day"] = (pd.to_datetime(pos["day"]) - pd.Timestamp(localday.EPOCH)).dt.days
            pos_rows.append(pos)
        unmatched[store_id] = visits - int(counter["logged"].sum())
    if _nothing_imported(hours, pos_rows):
        # Nothing imported for these stores and days (every store without a
        # door counter): no frames to build. Building them empty still cost
        # the dashboard ~30 ms a page in pandas.
        return _nothing(settings, unmatched)
    return _assemble(hours, pos_rows, unmatched, settings)


def _nothing_imported(hours: list[dict[str, np.ndarray]], pos_rows: list) -> bool:
    return not pos_rows and not any(len(h["hour_start"]) for h in hours)


def _nothing(settings: dict[int, CounterSettings], unmatched: dict[int, int]) -> Coverage:
    """``_assemble``'s answer when no store has a counter hour or POS line."""
    if not _NO_FRAMES:
        _NO_FRAMES.append(_assemble([], [], {}, {}))
    none = _NO_FRAMES[0]
    return Coverage(
        totals=Totals(),
        by_store={store_id: Totals() for store_id in unmatched},
        hourly=none.hourly.copy(),
        daily=none.daily.copy(),
        heat=none.heat.copy(),
        flags=[],
        settings=settings,
    )


_NO_FRAMES: list[Coverage] = []  # made once, copied for each caller


def _assemble(
    hours: list[dict[str, np.ndarray]],
    pos_rows: list[pd.DataFrame],
    unmatched: dict[int, int],
    settings: dict[int, CounterSettings],
) -> Coverage:
    """Every number of ``build`` from each store's counter hours (with their
    logged sums) and POS rows."""
    # One frame from the stores' arrays (a column at a time per store was slow).
    hourly = pd.DataFrame(
        {
            name: np.concatenate([h[name] for h in hours])
            if hours
            else np.zeros(0, dtype=float if name == "visitors" else np.int64)
            for name in HOURLY_COLUMNS
            if name not in ("pos_transactions", "silent_logged")
        }
    )
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
    # An hour the counter counted nobody while visits were logged is a broken
    # counter, not 100% coverage: its visits count as without counter data.
    silent = ((hourly["visitors"] == 0) & (hourly["logged"] > 0)).to_numpy()
    hourly["silent_logged"] = np.where(silent, hourly["logged"], 0)
    hourly.loc[silent, ["logged", "closed", "purchased", "units"]] = 0
    for store_id, extra in hourly[silent].groupby("store_id")["silent_logged"].sum().items():
        unmatched[store_id] += int(extra)
    hourly = hourly[list(HOURLY_COLUMNS)]
    daily = _daily(hourly, pos)
    hourly_by_store = dict(tuple(hourly.groupby("store_id")))
    daily_by_store = dict(tuple(daily.groupby("store_id")))
    by_store = {
        store_id: _totals(
            hourly_by_store.get(store_id, hourly.iloc[:0]),
            daily_by_store.get(store_id, daily.iloc[:0]),
            unmatched.get(store_id, 0),
        )
        for store_id in unmatched
    }
    flags = _flags(hourly, daily, pos, by_store, settings)
    # Days as dates for the reader (days since 1970 inside, for fast joins).
    daily["day"] = _dates(daily["day"])
    hourly["day"] = hourly["day"].to_numpy().astype("datetime64[D]")
    return Coverage(
        totals=_totals(hourly, daily, sum(unmatched.values())),
        by_store=by_store,
        hourly=hourly,
        daily=daily,
        heat=_heat(hourly),
        flags=flags,
        settings=settings,
    )


# --- the dashboard's read: the pre-summed tables --------------------------------------


def overview(storage: Storage, ranges: Mapping[int, tuple[datetime, datetime]]) -> Overview:
    """``build``'s totals, per-store totals, weekday × hour grid and flags for
    each store's [start, end) UTC range, read from the sums kept on every
    write (cxlog/numbers/coverage_sums.py): per store a year is ~12 month rows and a
    few dozen day rows, not 8,760 counter hours joined to the visits.

    Ranges must be whole local days (the dashboard's periods are); any other
    range is answered by ``build``, whose numbers these equal (the property
    tests hold them to it)."""
    with storage.one_connection():
        zones = {s["id"]: s["timezone"] for s in catalog.list_stores(storage)}
        days: dict[int, tuple[int, int]] = {}
        for store_id, (start, end) in ranges.items():
            if store_id not in zones or end <= start:
                continue
            zone = localday.zone(zones[store_id])
            first, last = start.astimezone(zone), end.astimezone(zone)
            if first.time() != time(0) or last.time() != time(0):
                return build(storage, ranges)
            days[store_id] = (
                localday.day_number(first.date()),
                localday.day_number(last.date()) - 1,
            )
        settings = counter_settings(storage, ranges)
        with storage.read() as db:
            return _overview(db, ranges, days, settings)


_TOTALS_SQL = """
SELECT store_id, count(*), sum(hours), sum(visitors), sum(logged), sum(closed), sum(purchased),
    sum(units), sum(silent_logged) + sum(uncounted),
    count(CASE WHEN hours > 0 THEN pos_transactions END),
    coalesce(sum(CASE WHEN hours > 0 AND pos_transactions IS NOT NULL THEN visitors END), 0),
    coalesce(sum(CASE WHEN hours > 0 THEN pos_transactions END), 0),
    coalesce(sum(CASE WHEN hours > 0 THEN pos_units END), 0),
    coalesce(sum(CASE WHEN hours > 0 AND pos_units IS NOT NULL THEN pos_transactions END), 0),
    coalesce(sum(CASE WHEN hours > 0 THEN pos_net_cents END), 0)
FROM coverage_days WHERE store_id IN ({stores}) AND day BETWEEN ? AND ? GROUP BY store_id
"""


def _store_totals(db, store_ids: Iterable[int], first: int, last: int) -> dict[int, Totals]:
    """Totals of the stores that have day rows in local days [first, last]
    (day numbers): one ``GROUP BY store_id`` over ``coverage_days``."""
    ids = ", ".join(str(int(s)) for s in store_ids)
    found = {}
    for row in db.execute(_TOTALS_SQL.format(stores=ids), [first, last]):
        hours, visitors, sums = row[2], row[3], row[4:8]
        unmatched, pos_days, pos_visitors, pos = row[8], row[9], row[10], row[11:]
        # A store without counter hours in the range is not counted at
        # all: its visits are not "without counter data" (as in build).
        found[row[0]] = Totals(
            int(hours),
            float(visitors),
            *(int(x) for x in sums),
            int(unmatched) if hours else 0,
            int(pos_days),
            float(pos_visitors),
            *(int(x) for x in pos),
        )
    return found


def totals_by_store(db, days: Mapping[int, tuple[date, date]]) -> dict[int, Totals]:
    """``overview``'s per-store totals alone, inside the caller's read: {store
    id: Totals} for each store's local days (first, last), both included;
    stores with nothing counted in them are absent. One statement per run of
    stores with the same days (the chain's view, issue #28)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for store_id, (first, last) in days.items():
        span = (localday.day_number(first), localday.day_number(last))
        groups.setdefault(span, []).append(store_id)
    found: dict[int, Totals] = {}
    for (first, last), stores in groups.items():
        found.update(_store_totals(db, stores, first, last))
    return found


def _overview(
    db,
    ranges: Mapping[int, tuple[datetime, datetime]],
    days: Mapping[int, tuple[int, int]],
    settings: dict[int, CounterSettings],
) -> Overview:
    # Stores with the same local days (the usual case) are read together.
    groups: dict[tuple[int, int], list[int]] = {}
    for store_id, span in days.items():
        groups.setdefault(span, []).append(store_id)
    by_store = {store_id: Totals() for store_id in days}
    heat = np.zeros((2, 7, 24))
    silent, over, pos_lines = [], [], []
    for (first, last), stores in groups.items():
        found = _store_totals(db, stores, first, last)
        by_store.update(found)
        present = list(found)
        if not present:
            continue  # no counter hour, POS line or counted visit: nothing more to read
        ids = ", ".join(str(int(s)) for s in present)
        _add_heat(db, heat, ids, first, last)
        # The local day of an hour's start is in [first, last] exactly when
        # the hour starts in the store's [start, end) of whole local days.
        for store_id, day, hour, counted, logged, sold in db.execute(
            "SELECT store_id, day, hour, visitors, logged, pos_transactions FROM traffic_hours"
            f" INDEXED BY traffic_hours_flagged WHERE store_id IN ({ids})"
            f" AND {coverage_sums.FLAGGED} AND day BETWEEN ? AND ? ORDER BY store_id, hour_start",
            [first, last],
        ):
            if counted == 0:
                silent.append(_silent(store_id, day, hour, logged, sold))
            else:
                over.append(_over(store_id, day, hour, logged, counted))
        for store_id, text, hour, transactions in db.execute(
            "SELECT store_id, day, hour, transactions FROM pos_totals"
            f" WHERE store_id IN ({ids}) AND day BETWEEN ? AND ? AND lone = 1",
            [localday.day_of(first).isoformat(), localday.day_of(last).isoformat()],
        ):
            day = localday.day_number(date.fromisoformat(text))
            pos_lines.append(_pos_only(store_id, day, hour, transactions))
    # build's order: silent hours, hours over, each store's flags, POS lines
    # by the hour then by the day; each in store order (as ranges lists
    # them), then time.
    order = {store_id: i for i, store_id in enumerate(days)}

    def when(f: Flag) -> tuple:
        return (f.hour is None, order[f.store_id], f.day, -1 if f.hour is None else f.hour)

    flags = (
        sorted(silent, key=when)
        + sorted(over, key=when)
        + _store_flags(by_store, settings)
        + sorted(pos_lines, key=when)
    )
    cells = _cells(heat[0].ravel(), heat[1].ravel())
    return Overview(
        totals=_sum_totals(by_store.values()),
        by_store=by_store,
        heat=cells,
        flags=flags,
        settings=settings,
    )


def _add_heat(db, heat: np.ndarray, stores: str, first: int, last: int) -> None:
    """Add the stores' visitors and logged per weekday and hour of local days
    [first, last]: whole months from their rows, the days around them from
    theirs. ``stores``: their ids, comma-separated."""
    for grain, lo, hi in rollups.runs(first, last, (rollups.DAY, rollups.MONTH)):
        if grain == rollups.MONTH:
            blobs = b"".join(
                blob
                for (blob,) in db.execute(
                    f"SELECT heat FROM coverage_months WHERE store_id IN ({stores})"
                    " AND month BETWEEN ? AND ?",
                    [lo, hi],
                )
            )
            if blobs:
                heat += np.frombuffer(blobs).reshape(-1, 2, 7, 24).sum(axis=0)
            continue
        rows = db.execute(
            f"SELECT day, heat FROM coverage_days WHERE store_id IN ({stores})"
            " AND day BETWEEN ? AND ?",
            [lo, hi],
        ).fetchall()
        if rows:
            weekday = localday.weekday(np.array([r[0] for r in rows]))
            cells = np.frombuffer(b"".join(r[1] for r in rows)).reshape(-1, 2, 24)
            np.add.at(heat, (slice(None), weekday), cells.transpose(1, 0, 2))


def _sum_totals(parts: Iterable[Totals]) -> Totals:
    names = [f.name for f in fields(Totals)]
    sums = {name: getattr(Totals, name) for name in names}  # the defaults: 0 or 0.0
    for t in parts:
        for name in names:
            sums[name] += getattr(t, name)
    return Totals(**sums)


def day_ranges(
    storage: Storage, store_ids: Iterable[int] | None, first: date, last: date
) -> dict[int, tuple[datetime, datetime]]:
    """Each store's UTC range for its local days first..last (both included)."""
    wanted = None if store_ids is None else set(store_ids)
    result = {}
    for s in catalog.list_stores(storage):
        if wanted is None or s["id"] in wanted:
            zone = localday.zone(s["timezone"])
            result[s["id"]] = (
                localday.local_midnight_utc(first, zone),
                localday.local_midnight_utc(last + timedelta(days=1), zone),
            )
    return result


# --- in words ------------------------------------------------------------------------


def warning(cov: Overview, store_names: Mapping[int, str]) -> str | None:
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
        _("{store} logged {coverage} of {visitors} visitors (threshold {threshold})").format(
            store=_store_name(store_names, store_id),
            coverage=percent(t.coverage, 0),
            visitors=decimal(t.visitors),
            threshold=percent(cov.settings.get(store_id, CounterSettings()).coverage_threshold, 0),
        )
        for store_id, t in low
    ]
    return _(
        "Careful: these moment comparisons rest on partial logging. {stores}. Visits that were "
        "not logged may have gone differently, so read the comparisons as a sample, not the "
        "whole story."
    ).format(stores="; ".join(parts))


def _store_name(store_names: Mapping[int, str], store_id: int) -> str:
    if store_id in store_names:
        return store_names[store_id]
    return _("store {id}").format(id=store_id)


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
    cov = overview(storage, ranges)  # build's numbers; a range of whole days reads the sums
    return warning(cov, {s["id"]: s["name"] for s in catalog.list_stores(storage)})


# Each kind of flag's title (shown through ``_``).
FLAG_TITLES = {
    SILENT: N_("Counter silent while the store was open"),
    OVER: N_("More logged visits than visitors"),
    LOW: N_("Coverage under the store's threshold"),
    POS_ONLY: N_("POS sales but no counter figure"),
    UNMATCHED: N_("Logged visits without counter data"),
}


def flag_lines(cov: Overview, store_names: Mapping[int, str], limit: int = 5) -> list[str]:
    """One sentence per kind of flag, naming up to ``limit`` of its hours."""
    lines = []
    for kind, title in FLAG_TITLES.items():
        found = [f for f in cov.flags if f.kind == kind]
        if not found:
            continue
        shown = []
        for f in found[:limit]:
            where = _store_name(store_names, f.store_id)
            when = "" if f.day is None else f" {localday.day_text(f.day)}"
            when += "" if f.hour is None else f" {f.hour:02d}:00"
            shown.append(f"{where}{when}: {f.detail}")
        listed = "; ".join(shown)
        if len(found) > limit:
            listed = _("{flags}; and {n} more").format(
                flags=listed, n=formats.number(len(found) - limit)
            )
        lines.append(f"**{_(title)}** ({formats.number(len(found))}) — {listed}.")
    return lines
