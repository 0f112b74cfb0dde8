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
"""

from __future__ import annotations

from collections.abc import Iterable
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
from cxlog.language import words
from cxlog.numbers import metrics, rollups
from cxlog.numbers.metrics import Counts
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


def rows(storage: Storage, selection: ExportSelection) -> Iterable[list[object]]:
    """The summary's rows (without the header), numbers as numbers."""
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
    for table in COUNTED:
        for key in sorted(counted[table], key=lambda k, t=table: order(t, k)):
            c = counted[table][key]
            code = currency(table, key)
            low, high = interval_cells(c.conversion)
            yield [
                table,
                label(table, key),
                c.visits,
                c.open,
                c.closed,
                c.purchased,
                c.closed - c.purchased,
                fraction_cell(c.conversion.value),
                low,
                high,
                _money(c.units_per_sale),
                _money(c.average_sale, code),
                fraction_cell(c.warm_rate.value),
                *door.get((table, key), [""] * len(COVERAGE_COLUMNS)),
                int(c.too_few),
                "",
                code or "",
                *no_cost,
                *follow.get((table, key), no_follow),
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
            yield _cost_row(table, label, c, code)


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
    return write_rows(
        out,
        COLUMNS,
        rows(storage, selection),
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
