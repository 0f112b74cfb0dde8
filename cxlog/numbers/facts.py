"""Visits as compact numpy columns, read fast (issue #5).

Since issue #12 the dashboard reads rollups; this is its read of single
visits (a filtered selection, the previous period's partial day) and the
rollups' rebuild's read of a store. Every view is a sum over the same visits
grouped a different way, so they are read once and grouped in numpy. Measured on
1M demo visits (10 stores, one year):

- a SQL GROUP BY per view costs ~2 s each (SQLite sorts every row);
- ``fetchall()`` of 8 integer columns costs ~1.2 s (a Python tuple and ints
  per visit), plus ~0.3 s to turn them into arrays;
- SQLite writing each visit as fixed-width hex into one ``group_concat``
  string, decoded by numpy, costs ~0.55 s in all (through the m005 covering
  index, one store at a time).

So this module does the last. Field widths come from the largest ids, and the
string's length is checked against the row count, so the layout cannot drift.
Voided visits are never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

import numpy as np

from cxlog.core.errors import StorageError
from cxlog.core.model import FIRST_ENGAGEMENTS, to_utc_text
from cxlog.language.words import _
from cxlog.storage.db import Storage

# Codes of the small columns (FIRST_ENGAGEMENTS order: warm, neutral, missed).
WARM_CODE, NEUTRAL_CODE, MISSED_CODE = range(3)
OPEN_CODE, PURCHASED_CODE, NO_PURCHASE_CODE = range(3)

_ENGAGEMENT_SQL = (
    "CASE first_engagement "
    + " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(FIRST_ENGAGEMENTS))
    + " END"
)
# (name, SQL giving a non-negative integer, fixed hex digits or None = from the ids)
_FIELDS: tuple[tuple[str, str, int | None], ...] = (
    ("started", "unixepoch(started_at)", 10),
    ("store", "store_id", None),
    ("associate", "associate_id", None),
    ("reason", "coalesce(reason_id, 0)", None),
    ("no_sale", "coalesce(no_sale_reason_id, 0)", None),
    (
        "flags",
        f"{_ENGAGEMENT_SQL} + 4 * recommended"
        " + 8 * (CASE outcome WHEN 'purchased' THEN 1 WHEN 'no_purchase' THEN 2 ELSE 0 END)",
        2,
    ),
    ("units", "coalesce(units, 0)", 2),
    ("amount", "coalesce(amount_cents + 1, 0)", 9),  # 0 = no amount recorded
)

# Issue #30, read only when asked (the rollups' rebuild): 0 no arrival tap,
# 1 left before greeting, else 2 + the seconds to greet (at most 65,000). Not
# in the m005 covering index, so the dashboard's own reads leave it out.
_GREET = (
    "greet",
    "CASE WHEN arrived_at IS NULL THEN 0 WHEN left_before_greeting = 1 THEN 1"
    " ELSE 2 + min(coalesce(greet_seconds, 0), 65000) END",
    4,
)

_HEX = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate("0123456789abcdef"):
    _HEX[ord(_c)] = _i


@dataclass(frozen=True)
class Facts:
    """One entry per non-voided visit, in no particular order."""

    started: np.ndarray  # int64, Unix seconds (UTC)
    store: np.ndarray  # int64 store id
    associate: np.ndarray  # int64 associate id
    reason: np.ndarray  # int64 reason id, 0 when none was tapped
    no_sale: np.ndarray  # int64 no-sale reason id, 0 when none
    engagement: np.ndarray  # int8 WARM_CODE / NEUTRAL_CODE / MISSED_CODE
    recommended: np.ndarray  # bool
    outcome: np.ndarray  # int8 OPEN_CODE / PURCHASED_CODE / NO_PURCHASE_CODE
    units: np.ndarray  # int64, 0 unless purchased
    amount_cents: np.ndarray  # int64, -1 when no amount
    greet: np.ndarray | None = None  # int64 (_GREET) when read with greet=True

    def __len__(self) -> int:
        return len(self.started)

    def take(self, mask: np.ndarray) -> Facts:
        """The visits the boolean mask selects."""
        if mask.all():
            return self  # arrays are never written to, so sharing them is safe
        return Facts(
            **{
                f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[mask]
                for f in fields(self)
            }
        )


def empty() -> Facts:
    return _decode(np.zeros((0, sum(d or 1 for _name, _sql, d in _FIELDS)), dtype=np.uint8), {})


def _width(largest: int | None) -> int:
    return max(1, len(f"{largest or 0:x}"))


def _widths(db) -> dict[str, int]:
    (stores, associates, reasons) = db.execute(
        "SELECT (SELECT max(id) FROM stores), (SELECT max(id) FROM associates),"
        " (SELECT max(id) FROM reasons)"
    ).fetchone()
    by_ids = {
        "store": _width(stores),
        "associate": _width(associates),
        "reason": _width(reasons),
        "no_sale": _width(reasons),
    }
    return {name: digits or by_ids[name] for name, _sql, digits in _FIELDS}


def _decode(hexes: np.ndarray, widths: dict[str, int], greet: bool = False) -> Facts:
    values: dict[str, np.ndarray] = {}
    nibbles = _HEX[hexes]  # one byte per hex digit, same shape
    offset = 0
    for name, _sql, digits in _FIELDS + ((_GREET,) if greet else ()):
        digits = widths.get(name, digits or 1)
        # Digit by digit keeps the temporaries one column wide (memory).
        value = np.zeros(len(hexes), dtype=np.int64)
        for column in range(offset, offset + digits):
            value <<= 4
            value |= nibbles[:, column]
        values[name] = value
        offset += digits
    flags = values.pop("flags")
    amount = values.pop("amount")
    return Facts(
        **values,
        engagement=(flags & 3).astype(np.int8),
        recommended=(flags & 4).astype(bool),
        outcome=(flags >> 3).astype(np.int8),
        amount_cents=amount - 1,
    )


def load(
    storage: Storage,
    ranges: Mapping[int, tuple[datetime, datetime]],
    associate_ids: tuple[int, ...] = (),
    reason_ids: tuple[int, ...] = (),
) -> Facts:
    """Non-voided visits of each store started in its [start, end) range,
    optionally only these associates and reasons."""
    with storage.read() as db:
        return read(db, ranges, associate_ids, reason_ids)


def read(
    db,
    ranges: Mapping[int, tuple[datetime, datetime]],
    associate_ids: tuple[int, ...] = (),
    reason_ids: tuple[int, ...] = (),
    *,
    greet: bool = False,
) -> Facts:
    """``load`` on an open connection (a rollup rebuild reads inside its own
    write transaction); ``greet``: with each visit's time to greet too."""
    extra, extra_params = "", []
    for column, ids in (("associate_id", associate_ids), ("reason_id", reason_ids)):
        if ids:
            extra += f" AND {column} IN ({', '.join('?' * len(ids))})"
            extra_params.extend(int(i) for i in ids)
    texts, total = [], 0
    widths = _widths(db)
    read_fields = _FIELDS + ((_GREET,) if greet else ())
    if greet:
        widths[_GREET[0]] = _GREET[2]
    row_width = sum(widths.values())
    hex_row = "printf('" + "".join(f"%0{widths[n]}x" for n, _sql, _digits in read_fields) + "', "
    hex_row += ", ".join(sql for _name, sql, _digits in read_fields) + ")"
    # One store at a time: each read is one range of the m005 covering index.
    sql = (
        f"SELECT count(*), group_concat({hex_row}, '') FROM visits"
        " WHERE store_id = ? AND started_at >= ? AND started_at < ?"
        f" AND voided_at IS NULL{extra}"
    )
    for store_id, (start, end) in ranges.items():
        if end <= start:
            continue
        count, text = db.execute(
            sql, [int(store_id), to_utc_text(start), to_utc_text(end), *extra_params]
        ).fetchone()
        if not count:
            continue
        if len(text) != count * row_width:
            raise StorageError(_("Some visits hold values the dashboard cannot read."))
        texts.append(text)
        total += count
    if not total:
        return empty()
    raw = "".join(texts).encode("ascii")
    return _decode(np.frombuffer(raw, dtype=np.uint8).reshape(total, row_width), widths, greet)
