"""The summary CSV: the dashboard's tables for an export's selection (issue #6).

One long table with a ``table`` column (rather than one section per table), so
a spreadsheet can filter or pivot it and every row has the same columns. The
numbers are cxlog.metrics', so they match the dashboard exactly; voided visits
never count. Small enough (tens of rows) to use Python's ``csv`` writer.

Each metrics query opens its own connection (cxlog.metrics' way), so while
tablets keep logging two tables can differ by the visits logged between
them, as two refreshes of the dashboard would; the visits CSV is the one
file that is a single snapshot.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from cxlog import coaching, goals, metrics, money
from cxlog.db import Storage
from cxlog.export import NEWLINE, Selection, require_schema, safe_row, store_ranges, write_file
from cxlog.followups_csv import SUMMARY_COLUMNS, summary_cells
from cxlog.metrics import Counts, Filters, Rate
from cxlog.model import FIRST_ENGAGEMENTS

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
# "store_cost" the same per store (cxlog.coaching, docs/cost-of-neutral.md).
TABLES: tuple[str, ...] = (*COUNTED, "lift", "cost", "store_cost")
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


def _added(a: Counts, b: Counts) -> Counts:
    return Counts(**{f: getattr(a, f) + getattr(b, f) for f in Counts.__dataclass_fields__})


def tables(storage: Storage, selection: Selection) -> dict[str, dict[object, Counts]]:
    """Counts per table and group for the selection.

    Each store is asked for its own UTC range (its local days); counts are
    plain sums, so adding the stores' counts gives the selection's.
    """
    with storage.read() as db:
        require_schema(db)
        ranges = store_ranges(db, selection)
    result: dict[str, dict[object, Counts]] = {name: {} for name in (*COUNTED, "store_engagement")}

    def add(table: str, key: object, counts: Counts) -> None:
        result[table][key] = _added(result[table].get(key, Counts()), counts)

    for r in ranges:
        filters = Filters(start=r.start_at, end=r.end_at, store_ids=(r.store_id,))
        total = metrics.totals(storage, filters)
        add("all", "all", total)
        add("store", r.store_id, total)
        for name in BREAKDOWNS:
            for key, counts in metrics.breakdown(storage, filters, name).items():
                add(name, key, counts)
                if name == "first_engagement":  # issue #14: per store, for its cost
                    add("store_engagement", (r.store_id, key), counts)
    return result


def _fraction(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def _interval(rate: Rate) -> tuple[float | str, float | str]:
    low_high = rate.interval
    return ("", "") if low_high is None else (round(low_high[0], 4), round(low_high[1], 4))


def _money(value: float | None, currency: str | None = None) -> float | str:
    """Rounded to the currency's minor unit (none for JPY; issue #14)."""
    return "" if value is None else money.rounded(value, currency)


def rows(storage: Storage, selection: Selection) -> Iterable[list[object]]:
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
            low, high = _interval(c.conversion)
            yield [
                table,
                label(table, key),
                c.visits,
                c.open,
                c.closed,
                c.purchased,
                c.closed - c.purchased,
                _fraction(c.conversion.value),
                low,
                high,
                _money(c.units_per_sale),
                _money(c.average_sale, code),
                _fraction(c.warm_rate.value),
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
            _fraction(lift.value),
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


def write_summary(
    storage: Storage, out: BinaryIO, selection: Selection, *, for_excel: bool = False
) -> int:
    """Write the summary CSV (UTF-8; a BOM for Excel). Returns its row count."""
    text = io.TextIOWrapper(
        out, encoding="utf-8-sig" if for_excel else "utf-8", newline="", write_through=True
    )
    try:
        writer = csv.writer(text, lineterminator=NEWLINE)
        writer.writerow(COLUMNS)
        count = 0
        for row in rows(storage, selection):
            writer.writerow(safe_row(row))  # text neutralised, numbers stay numbers
            count += 1
        return count
    finally:
        text.detach()  # leave ``out`` open for the caller


def summary_csv(storage: Storage, selection: Selection, *, for_excel: bool = False) -> bytes:
    buffer = io.BytesIO()
    write_summary(storage, buffer, selection, for_excel=for_excel)
    return buffer.getvalue()


def export_summary_file(
    storage: Storage, target: Path, selection: Selection, *, for_excel: bool = False
) -> int:
    return write_file(
        target, lambda out: write_summary(storage, out, selection, for_excel=for_excel)
    )
