"""The summary CSV: the dashboard's tables for an export's selection (issue #6).

One long table with a ``table`` column (rather than one section per table), so
a spreadsheet can filter or pivot it and every row has the same columns. The
sums are the rollups the dashboard reads (cxlog.numbers.rollups, issue #12) and the
rates cxlog.numbers.metrics', so they match the dashboard exactly; voided visits
never count. Small enough (tens of rows) to use Python's ``csv`` writer.
Every table is read in one read transaction, so the file is one snapshot
even while tablets keep logging.

Column names, group keys and numbers never change with the language (issue
#29, docs/data-dictionary.md), except in the Excel variant (``for_excel``)
in a language that writes "," for decimals (French, German, Spanish): there
Excel opens a CSV split by ";" with "," decimals, so that variant is written
so (``excel_signs``). English keeps "." and ",".

Issue #30: when a selected store has time to greet on, or the selection has
visits with an arrival, the file gains the GREET_COLUMNS (filled on the
``all`` and ``store`` rows, cxlog.greeting.figures from the greet sums) and
the ``wait_band`` rows; otherwise it is exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

from babel.numbers import get_decimal_symbol

from cxlog.coaching import coaching, goals
from cxlog.core import money
from cxlog.core.model import FIRST_ENGAGEMENTS
from cxlog.coverage import coverage
from cxlog.export.csvlines import fraction_cell, in_memory, interval_cells, write_rows
from cxlog.export.export import ExportSelection, require_schema, store_ranges
from cxlog.export.followups_csv import SUMMARY_COLUMNS, summary_cells
from cxlog.greeting import figures
from cxlog.language import words
from cxlog.numbers import metrics, rollups
from cxlog.numbers.metrics import Counts
from cxlog.storage import settings
from cxlog.storage.atomic import write_file
from cxlog.storage.db import Storage

# The tables, in file order. "all" is the totals; "lift" holds the two lifts.
BREAKDOWNS: tuple[str, ...] = (
    "first_engagement",
    "connection_depth",
    "reason",
    "no_sale_reason",
    "associate",
)
COUNTED: tuple[str, ...] = ("all", *BREAKDOWNS, "store")
# Issue #14: "cost" is what neutral and missed moments cost for the selection,
# "store_cost" the same per store (cxlog.coaching.coaching, docs/cost-of-neutral.md).
TABLES: tuple[str, ...] = (*COUNTED, "lift", "cost", "store_cost")
# Issue #13: door-counter and POS figures, on the `all` and `store` rows only
# (cxlog.coverage.coverage); empty without counter data.
COVERAGE_COLUMNS: tuple[str, ...] = (
    "visitors",
    "coverage",
    "pos_transactions",
    "pos_conversion",
    "units_per_transaction",
)
COLUMNS: tuple[str, ...] = (
    "table",
    "group",
    "visits",
    "open",
    "closed",
    "purchased",
    "no_purchase",
    "conversion",
    "conversion_low",
    "conversion_high",
    "units_per_sale",
    "average_sale",
    "warm_rate",
    *COVERAGE_COLUMNS,
    "too_few",
    "lift",
    # Issue #14: the currency of the row's amounts, and the cost rows' numbers.
    "currency",
    "extra_purchases",
    "extra_purchases_low",
    "extra_purchases_high",
    "extra_units",
    "extra_revenue",
    "purchases_with_amount",
    *SUMMARY_COLUMNS,  # issue #15: follow-ups
)
COST_COLUMNS = 6  # the cost numbers after "currency"
# Issue #30: time to greet, after every other column and only in a file whose
# selection has it (``greeting``). Filled on the `all` and `store` rows.
GREET_COLUMNS: tuple[str, ...] = (
    "arrivals",
    "arrival_share",
    "greet_standard_seconds",
    "greeted_on_time",
    "on_time_rate",
    "on_time_rate_low",
    "on_time_rate_high",
    "left_before_greeting",
    "greet_median_seconds",
    "greet_p90_seconds",
)
# Its rows, after the cost rows: one per wait band, over greeted visits.
WAIT_BAND = "wait_band"
NONE_GIVEN = "(none)"  # the group of visits with no reason / no no-sale reason


# Each table's group as cxlog.numbers.rollups keys it.
_ROLLUP_BY = {
    "all": (),
    "store": ("store",),
    "first_engagement": ("first_engagement",),
    "connection_depth": ("connection_depth",),
    "reason": ("reason",),
    "no_sale_reason": ("no_sale_reason",),
    "associate": ("associate",),
    # Issue #14: first engagement per store, for each store's cost of moments.
    "store_engagement": ("store", "first_engagement"),
}


def _key(table: str, key: tuple) -> object:
    """A rollup key as the summary names it: engagement words, None for none."""
    if table == "all":
        return "all"
    if table == "store_engagement":
        store_id, engagement = key
        return (store_id, FIRST_ENGAGEMENTS[engagement])
    (value,) = key
    if table == "first_engagement":
        return FIRST_ENGAGEMENTS[value]
    if table in ("reason", "no_sale_reason"):
        return value or None
    return value


def tables(storage: Storage, selection: ExportSelection) -> dict[str, dict[object, Counts]]:
    """Counts per table and group for the selection, from the rollups (issue
    #12): whole local days of each store, one read, the dashboard's engine."""
    with storage.snapshot() as db:  # one moment for every table
        require_schema(db)
        ranges = store_ranges(db, selection)
        first = selection.first_day or date.min
        last = selection.last_day or date.max
        days = {r.store_id: (first, last) for r in ranges}
        return {
            table: {_key(table, k): c for k, c in rollups.counts(db, days, by=by).items()}
            for table, by in _ROLLUP_BY.items()
        }


def _money(value: float | None, currency: str | None = None) -> float | str:
    """Rounded to the currency's minor unit (none for JPY; issue #14)."""
    return "" if value is None else money.rounded(value, currency)


@dataclass(frozen=True)
class Greet:
    """Time to greet's figures of a selection: its stores together
    (``whole``), and each store's local days (``days``), from which a
    store row's own figures are worked out when it is written."""

    whole: figures.Greeting
    days: dict[int, tuple[date, date]]


def greeting(storage: Storage, selection: ExportSelection) -> Greet | None:
    """The selection's time-to-greet figures, from the greet sums over its
    stores' whole local days (as ``tables``); None, and a file as before #30,
    when no selected store has time to greet on and none of the selected
    visits had an arrival."""
    with storage.read() as db:
        if not db.has_table("greet_sums"):  # a file from before #30
            return None
        ranges = store_ranges(db, selection)
        ids = [r.store_id for r in ranges]
        if not ids:
            return None
        on = any(r.on for r in settings.greet_rules_in(db, ids).values())
        # The sums' key starts with the store: one index probe per store, so
        # a chain that never used the arrival tap pays nothing more.
        ever = on or any(
            db.execute("SELECT 1 FROM greet_sums WHERE store_id = ? LIMIT 1", [i]).fetchone()
            for i in ids
        )
    if not ever:
        return None
    first = selection.first_day or date.min
    last = selection.last_day or date.max
    days = {i: (first, last) for i in ids}
    whole = figures.from_sums(storage, days)
    if not on and not whole.totals.arrivals:
        return None
    return Greet(whole, days)


def header(greet: Greet | None) -> list[str]:
    """The file's columns: the time-to-greet ones only with its figures."""
    return [*COLUMNS, *(GREET_COLUMNS if greet is not None else ())]


def _greet_cells(found: figures.Greeting) -> list[object]:
    """The GREET_COLUMNS of one row (the selection's, or a store's)."""
    t = found.totals
    low, high = interval_cells(t.on_time_rate)
    # A store that never used time to greet has no standard worth naming.
    used = t.arrivals or any(r.on for r in found.rules.values())
    return [
        t.arrivals,
        fraction_cell(found.share.value),
        "" if found.standard is None or not used else found.standard,
        t.on_time,
        fraction_cell(t.on_time_rate.value),
        low,
        high,
        t.left_before,
        "" if found.median is None else found.median,
        "" if found.p90 is None else found.p90,
    ]


def _band_group(low: int, high: int | None) -> str:
    """A wait band as the file names it, in seconds: "0-30", "31-120", "121+"."""
    return f"{low}+" if high is None else f"{low}-{high}"


_ASK = object()  # rows() works the time-to-greet figures out itself


def rows(
    storage: Storage, selection: ExportSelection, *, greet: Greet | object | None = _ASK
) -> Iterable[list[object]]:
    """The summary's rows (without the header), numbers as numbers.
    ``greet``: ``greeting``'s answer, when the caller has it already."""
    if greet is _ASK:
        greet = greeting(storage, selection)
    counted = tables(storage, selection)
    with storage.read() as db:
        stores = {r["id"]: r["name"] for r in db.query("SELECT id, name FROM stores")}
        reasons = {
            r["id"]: (r["name"], r["position"])
            for r in db.query("SELECT id, name, position FROM reasons")
        }
        staff = {
            r["id"]: (r["name"], r["store_id"])
            for r in db.query("SELECT id, name, store_id FROM associates")
        }
    several_stores = len(counted["store"]) > 1
    follow = summary_cells(storage, selection)
    no_follow = [""] * len(SUMMARY_COLUMNS)
    door = _coverage_cells(storage, selection)
    currency_of = goals.currencies(storage)
    shared = money.shared(currency_of.get(k) for k in counted["store"])

    def currency(table: str, key: object) -> str | None:
        if table == "store":
            return currency_of.get(key)
        if table == "associate":
            return currency_of.get(staff.get(key, (None, None))[1])
        return shared

    def label(table: str, key: object) -> str:
        if table == "associate":
            name, store_id = staff.get(key, (f"#{key}", None))
            # The same first name can work in two stores.
            return f"{name} ({stores.get(store_id, '?')})" if several_stores else name
        if table == "store":
            return stores.get(key, f"#{key}")
        if table in ("reason", "no_sale_reason"):
            return NONE_GIVEN if key is None else reasons.get(key, (f"#{key}", 0))[0]
        return str(key)

    def label_of_store(store_id: int) -> str:
        return stores.get(store_id, f"#{store_id}")

    def order(table: str, key: object) -> tuple:
        # The dashboard's order: the vocabulary, the lists' own order, names.
        if table == "first_engagement":
            return (FIRST_ENGAGEMENTS.index(key) if key in FIRST_ENGAGEMENTS else 9,)
        if table in ("reason", "no_sale_reason"):
            return (key is None, reasons.get(key, ("", 0))[1], str(key))
        if table == "associate":
            return (label(table, key).casefold(), str(key))
        return (str(key),) if table == "store" else (key,)

    no_cost = [""] * COST_COLUMNS
    no_greet = [] if greet is None else [""] * len(GREET_COLUMNS)
    per_store: dict[int, figures.Greeting] = {}

    def greet_cells(table: str, key: object) -> list[object]:
        if greet is None or table not in ("all", "store"):
            return no_greet
        if table == "all" or len(greet.days) == 1:
            return _greet_cells(greet.whole)
        if key not in per_store:  # a store's own median and 90th percentile
            per_store[key] = figures.from_sums(storage, {key: greet.days[key]})
        return _greet_cells(per_store[key])

    for table in COUNTED:
        for key in sorted(counted[table], key=lambda k, t=table: order(t, k)):
            c = counted[table][key]
            code = currency(table, key)
            yield [
                table,
                label(table, key),
                *_count_cells(c, _money(c.average_sale, code), fraction_cell(c.warm_rate.value)),
                *door.get((table, key), [""] * len(COVERAGE_COLUMNS)),
                int(c.too_few),
                "",
                code or "",
                *no_cost,
                *follow.get((table, key), no_follow),
                *greet_cells(table, key),
            ]
    for lift in metrics.lifts(counted["first_engagement"]):
        blank = [""] * (COLUMNS.index("too_few") - 2)
        yield [
            "lift",
            f"{lift.better} vs {lift.worse}",
            *blank,
            int(lift.too_few),
            fraction_cell(lift.value),
            shared or "",
            *no_cost,
            *no_follow,
            *no_greet,
        ]
    by_store: dict[int, dict[str, Counts]] = {}
    for (store_id, key), c in counted["store_engagement"].items():
        by_store.setdefault(store_id, {})[key] = c
    cost_tables = [("cost", None, coaching.costs(counted["first_engagement"]), shared)]
    for store_id in sorted(by_store, key=lambda k: order("store", k)):
        cost_tables.append(
            ("store_cost", store_id, coaching.costs(by_store[store_id]), currency_of.get(store_id))
        )
    for table, store_id, found, code in cost_tables:
        for group, c in found.items():
            label = group if store_id is None else f"{label_of_store(store_id)}: {group}"
            # A cost row stops at its own columns; with time to greet's it
            # is padded to them, so each greet cell stays in its column.
            yield [*_cost_row(table, label, c, code), *(no_follow + no_greet if greet else [])]
    if greet is not None:
        yield from _band_rows(greet.whole, shared, no_follow + no_greet)


def _band_rows(found: figures.Greeting, code: str | None, tail: list) -> Iterable[list[object]]:
    """One row per wait band: the greeted visits whose seconds to greet fall
    in it (each store's own standard and edges; stores with other rules add
    into the band of the same rank, as on the dashboard), as a group of
    visits is written."""
    blank_cost = [""] * COST_COLUMNS
    for band in found.bands:
        c = band.counts.counts
        yield [
            WAIT_BAND,
            _band_group(band.low, band.high),
            # The greet sums keep no amounts and no first engagements.
            *_count_cells(c, "", ""),
            *[""] * len(COVERAGE_COLUMNS),
            int(c.too_few),
            "",
            code or "",
            *blank_cost,
            *tail,
        ]


def _count_cells(c: Counts, average: object, warm: object) -> list[object]:
    """A group's cells from ``visits`` to ``warm_rate`` (``average`` and
    ``warm``: those two cells, as the row's kind writes them)."""
    low, high = interval_cells(c.conversion)
    return [
        c.visits,
        c.open,
        c.closed,
        c.purchased,
        c.closed - c.purchased,
        fraction_cell(c.conversion.value),
        low,
        high,
        _money(c.units_per_sale),
        average,
        warm,
    ]


def _cost_row(table: str, label: str, c: coaching.Cost, code: str | None) -> list[object]:
    """A cost row: the group's closed visits, too_few, and the cost columns."""

    def number(value: float | None, digits: int = 2) -> float | str:
        return "" if value is None else round(value, digits)

    blank = [""] * (COLUMNS.index("too_few") - COLUMNS.index("closed") - 1)
    interval = c.purchases_interval or (None, None)
    return [
        table,
        label,
        "",
        "",
        c.closed,
        *blank,
        int(c.too_few),
        "",
        code or "",
        number(c.purchases),
        number(interval[0]),
        number(interval[1]),
        number(c.units),
        _money(c.revenue, code),
        c.priced if not c.too_few else "",
    ]


def _coverage_cells(storage: Storage, selection: ExportSelection) -> dict[tuple, list]:
    """{("all", "all") or ("store", id): the COVERAGE_COLUMNS cells} (#13)."""
    with storage.read() as db:
        ranges = store_ranges(db, selection)
    everything = (datetime(1970, 1, 2, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    cov = coverage.build(
        storage,
        {r.store_id: (r.start_at or everything[0], r.end_at or everything[1]) for r in ranges},
    )

    def cells(t: coverage.Totals) -> list:
        if not t.hours:
            return [""] * len(COVERAGE_COLUMNS)
        return [
            round(t.visitors, 1),
            fraction_cell(t.coverage),
            t.pos_transactions if t.pos_days else "",
            fraction_cell(t.pos_conversion),
            _money(t.units_per_transaction),
        ]

    result = {("store", k): cells(t) for k, t in cov.by_store.items()}
    result[("all", "all")] = cells(cov.totals)
    return result


def excel_signs() -> tuple[str, str]:
    """The decimal sign and field separator of the summary's Excel variant in
    the current language: "," and ";" where the language writes "," for
    decimals (what Excel there expects of a CSV), else "." and ","."""
    decimal = get_decimal_symbol(words.current())
    return (",", ";") if decimal == "," else (".", ",")


def write_summary(
    storage: Storage, out: BinaryIO, selection: ExportSelection, *, for_excel: bool = False
) -> int:
    """Write the summary CSV (UTF-8; for Excel a BOM, and the current
    language's decimal sign and separator: ``excel_signs``). Returns its row
    count."""
    decimal, delimiter = excel_signs() if for_excel else (".", ",")
    greet = greeting(storage, selection)
    return write_rows(
        out,
        header(greet),
        rows(storage, selection, greet=greet),
        for_excel=for_excel,
        decimal=decimal,
        delimiter=delimiter,
    )


def summary_csv(storage: Storage, selection: ExportSelection, *, for_excel: bool = False) -> bytes:
    return in_memory(lambda out: write_summary(storage, out, selection, for_excel=for_excel))


def export_summary_file(
    storage: Storage, target: Path, selection: ExportSelection, *, for_excel: bool = False
) -> int:
    return write_file(
        target, lambda out: write_summary(storage, out, selection, for_excel=for_excel)
    )
