"""The follow-ups CSV: one row per follow-up, Excel-safe like the visits CSV
(issue #15). Columns in docs/data-dictionary.md; a test keeps them in step.

A store has a few follow-ups a day, so Python's ``csv`` writer is plenty;
every text cell goes through csvlines' neutralising (``safe_row``), numbers
stay numbers. Which follow-ups: those *promised* on the selection's store-local
days; follow-ups of voided visits only when voided visits are asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from cxlog.calendar import localday
from cxlog.core import model
from cxlog.core.model import connection_depth, from_utc_text
from cxlog.export.csvlines import fraction_cell, in_memory, interval_cells, write_rows
from cxlog.export.export import ExportSelection, require_schema
from cxlog.followups import followups
from cxlog.followups.followups import BOUGHT, DEFAULT_WINDOW_DAYS, WINDOW_KEY
from cxlog.storage.atomic import write_file
from cxlog.storage.db import Storage

COLUMNS: tuple[str, ...] = (
    "followup_id",
    "store",
    "visit_id",
    "visit_code",
    "visit_started_local",
    "first_engagement",
    "reason",
    "connection_depth",
    "visit_outcome",
    "channel",
    "promised_local",
    "promised_by",
    "promised_due_on",
    "due_on",
    "attempts",
    "snoozes",
    "result",
    "result_local",
    "result_by",
    "units",
    "amount",
    "return_visit_id",
    "bought_within_window",
)
VOIDED_COLUMN = "visit_voided"

_SQL = """
SELECT f.*, s.name AS store_name, s.timezone, c.code, v.started_at AS visit_started_at,
       v.first_engagement, v.outcome AS visit_outcome, v.recommended, v.voided_at,
       r.name AS reason_name, coalesce(r.learned, 0) AS learned,
       p.name AS promised_by_name, d.name AS result_by_name
FROM followups f
JOIN stores s ON s.id = f.store_id
JOIN visits v ON v.id = f.visit_id
LEFT JOIN visit_codes c ON c.store_id = f.store_id AND c.visit_id = f.visit_id
LEFT JOIN reasons r ON r.id = v.reason_id
JOIN associates p ON p.id = f.promised_by
LEFT JOIN associates d ON d.id = f.result_by
WHERE f.store_id = ? AND f.promised_on BETWEEN ? AND ?
ORDER BY f.store_id, f.id
"""


def header(include_voided: bool) -> list[str]:
    return [*COLUMNS, *((VOIDED_COLUMN,) if include_voided else ())]


def _local(stamp: str | None, zone: ZoneInfo) -> str:
    return "" if stamp is None else from_utc_text(stamp).astimezone(zone).isoformat("T", "seconds")


def rows(storage: Storage, selection: ExportSelection) -> Iterator[list[object]]:
    first = (selection.first_day or date.min).isoformat()
    last = (selection.last_day or date.max).isoformat()
    with storage.read() as db:
        require_schema(db)
        stores = [
            r[0]
            for r in db.execute("SELECT id FROM stores ORDER BY id")
            if not selection.store_ids or r[0] in selection.store_ids
        ]
        windows = {
            k: int(v)
            for k, v in db.execute("SELECT key, value FROM settings WHERE key LIKE 'followup%'")
            if str(v).isdigit()
        }
        for store_id in stores:
            window = windows.get(WINDOW_KEY.format(store_id=store_id), DEFAULT_WINDOW_DAYS)
            for f in db.query(_SQL, [store_id, first, last]):
                if f["voided_at"] is not None and not selection.include_voided:
                    continue
                zone = localday.zone(f["timezone"])
                won = (
                    f["result"] == BOUGHT
                    and (
                        date.fromisoformat(f["result_on"]) - date.fromisoformat(f["promised_on"])
                    ).days
                    <= window
                )
                row = [
                    f["id"],
                    f["store_name"],
                    f["visit_id"],
                    f["code"] or "",
                    _local(f["visit_started_at"], zone),
                    f["first_engagement"],
                    f["reason_name"] or "",
                    connection_depth(f["first_engagement"], f["learned"], f["recommended"]),
                    f["visit_outcome"],
                    f["channel"],
                    _local(f["promised_at"], zone),
                    f["promised_by_name"],
                    f["promised_due_on"],
                    f["due_on"],
                    f["attempts"],
                    f["snoozes"],
                    f["result"] or "",
                    _local(f["result_at"], zone),
                    f["result_by_name"] or "",
                    "" if f["units"] is None else f["units"],
                    model.cents_text(f["amount_cents"]),
                    f["return_visit_id"] or "",
                    int(won),
                ]
                if selection.include_voided:
                    row.append(int(f["voided_at"] is not None))
                yield row


def write_followups(
    storage: Storage, out: BinaryIO, selection: ExportSelection, *, for_excel: bool = False
) -> int:
    """Write the follow-ups CSV (UTF-8; a BOM for Excel). Returns its row count."""
    return write_rows(
        out, header(selection.include_voided), rows(storage, selection), for_excel=for_excel
    )


def followups_csv(
    storage: Storage, selection: ExportSelection, *, for_excel: bool = False
) -> bytes:
    """The follow-ups CSV in memory, for the Export page's download button."""
    return in_memory(lambda out: write_followups(storage, out, selection, for_excel=for_excel))


def export_followups_file(
    storage: Storage, target: Path, selection: ExportSelection, *, for_excel: bool = False
) -> int:
    return write_file(
        target, lambda out: write_followups(storage, out, selection, for_excel=for_excel)
    )


# --- columns of the summary CSV (cxlog.export.summary) ----------------------------------------

SUMMARY_COLUMNS: tuple[str, ...] = (
    "followups_promised",
    "followups_due",
    "followups_done_on_time",
    "followups_bought",
    "followup_conversion",
    "followup_conversion_low",
    "followup_conversion_high",
    "followups_done",
)


def _cells(promised, due, on_time, bought, rate, done) -> list[object]:
    value = fraction_cell(rate.value)
    low, high = interval_cells(rate)
    return [promised, due, on_time, bought, value, low, high, done]


def summary_cells(storage: Storage, selection: ExportSelection) -> dict[tuple[str, object], list]:
    """Follow-up cells for the summary's rows, keyed (table, group key), over
    the selection's stores and local days (see cxlog.followups.followups.count: due
    and conversion by the day first due, promised by the day promised, done
    by the day done). A group row of first engagement or depth has due,
    bought and conversion only; an associate's row counts what they
    promised, and under done what they closed."""
    with storage.read() as db:
        stores = [
            r[0]
            for r in db.execute("SELECT id FROM stores ORDER BY id")
            if not selection.store_ids or r[0] in selection.store_ids
        ]
        staff = [
            r[0]
            for r in db.execute("SELECT id, store_id FROM associates ORDER BY id")
            if r[1] in stores
        ]
    days = {s: (selection.first_day, selection.last_day) for s in stores}

    def full(n: followups.Numbers, done: int) -> list[object]:
        return _cells(n.promised, n.due, n.done_on_time, n.bought, n.conversion, done)

    total = followups.count(storage, days)
    cells: dict[tuple[str, object], list] = {
        ("all", "all"): full(total, sum(total.done_by.values()))
    }
    for table, rates in (
        ("first_engagement", total.by_engagement),
        ("connection_depth", total.by_depth),
    ):
        for key, rate in rates.items():
            cells[(table, key)] = _cells("", rate.n, "", rate.successes, rate, "")
    for store_id in stores:
        one = followups.count(storage, {store_id: days[store_id]})
        cells[("store", store_id)] = full(one, sum(one.done_by.values()))
    for associate_id in staff:
        theirs = followups.count(storage, days, associate_id=associate_id)
        cells[("associate", associate_id)] = full(theirs, total.done_by.get(associate_id, 0))
    return cells
