"""Door-counter traffic and POS totals files, read and imported (issue #13).

Two kinds of file, each a CSV with a header line:

- **traffic**: one line per counting interval (an hour or finer), summed to
  the store's local clock hour: ``store,start,end,in,out`` in the generic
  format, or the column names counters document (Axis, Hikvision,
  RetailNext-style; see ``TRAFFIC_FORMATS``).
- **POS totals**: one line per store-local day or hour:
  ``store,date,hour,transactions,units,net_sales``, or the report columns of
  Shopify, Square and Lightspeed-style exports (``POS_FORMATS``).

Any column name can be overridden with a mapping (``in=Enters,start=Time``).
A file is checked whole before anything is written: a bad file is refused with
one sentence per bad line and nothing is stored. A good file is written in one
transaction that *replaces* the hours (traffic) or days (POS) it holds, so
importing the same or an overlapping file twice never doubles a count.

Times with a UTC offset (``2026-03-29T10:00:00+01:00``, ``…Z``) are exact.
Times without one are the store's local clock: in the hour repeated when
clocks go back, the first line of that time is the first pass and a second
line of the same time is the second pass (the order counters write them); a
time skipped when clocks go forward is refused.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import numpy as np

from cxlog.calendar import localday
from cxlog.core.errors import CxlogError, ValidationError
from cxlog.core.model import to_cents, to_utc_text, utc_now
from cxlog.core.text import plain
from cxlog.coverage.import_formats import POS, POS_FORMATS, TRAFFIC, TRAFFIC_FORMATS
from cxlog.language import formats
from cxlog.language.words import N_, _, n_
from cxlog.numbers import coverage_sums
from cxlog.storage.db import Storage, audit
from cxlog.stores import catalog

HOUR = timedelta(hours=1)
REQUIRED = {TRAFFIC: ("start", "in"), POS: ("date", "transactions")}
MAX_PROBLEMS_SHOWN = 20
# An imported hour replaces the file's columns of an hour already stored;
# its sums (logged, closed, …) are made again by coverage_sums.rebuild in the
# same transaction.
_REPLACE_HOUR = ", ".join(
    f"{c} = excluded.{c}"
    for c in ("hour_end", "entries", "exits", "imported_at", "visitors", "day", "hour")
)
# A file in the wrong format has every line bad: one sentence per line for
# millions of lines cost ~60 bytes of memory per byte of file (issue #25).
# The first ones are kept, the rest only counted.
MAX_PROBLEMS_KEPT = 100
MAX_FILE_BYTES = 50_000_000  # ~500,000 lines: years of a store's hours
CURRENCY_MARKS = "$€£¥₹ \u00a0'"


class ImportRefused(ValidationError):
    """A file that was not imported, with one sentence per bad line (the
    first MAX_PROBLEMS_KEPT of them) and how many lines were bad."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        text = n_(
            "The file was not imported (nothing was saved): {n} problem.\n{problems}",
            "The file was not imported (nothing was saved): {n} problems.\n{problems}",
            self.total,
        ).format(n=formats.number(self.total), problems=self.bullets())
        super().__init__(text)

    def bullets(self, escape: Callable[[str], str] = str) -> str:
        """The first MAX_PROBLEMS_SHOWN sentences as a Markdown list (each
        through ``escape``), and how many more there are."""
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        lines = "\n".join(f"- {escape(p)}" for p in shown)
        more = self.total - len(shown)
        if more <= 0:
            return lines
        return lines + "\n- " + _("… and {n} more.").format(n=formats.number(more))


def refusal_text(file_name: str, error: CxlogError) -> str:
    """What the Imports page says of a file it did not import, as Markdown: the
    bad lines as a list where there are some; the file's name and every
    sentence shown as typed (cxlog.core.text.plain)."""
    if isinstance(error, ImportRefused):
        return _(
            "**{file} was not imported** (nothing was saved): {n} line(s) need fixing."
        ).format(file=plain(file_name), n=formats.number(error.total)) + (
            f"\n\n{error.bullets(plain)}"
        )
    return plain(_("{file} was not imported: {error}").format(file=file_name, error=error))


class Problems:
    """The bad lines of a file: the first MAX_PROBLEMS_KEPT sentences, and a
    count of all of them (memory bounded whatever the file)."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.total = 0

    def add(self, sentence: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(sentence)

    def __bool__(self) -> bool:
        return self.total > 0

    def refuse(self) -> None:
        if self.total:
            raise ImportRefused(self.kept, self.total)


@dataclass(frozen=True)
class Imported:
    """What an import stored."""

    kind: str
    store_id: int
    lines: int  # data lines read
    periods: int  # hours (traffic) or store-local days (POS) written
    first: str  # first and last of them, as text for a sentence
    last: str
    replaced: int  # of those, how many replaced earlier figures

    def sentence(self, store_name: str) -> str:
        span = (
            self.first
            if self.first == self.last
            else _("{first} to {last}").format(first=self.first, last=self.last)
        )
        values = {
            "n": formats.number(self.periods),
            "store": store_name,
            "lines": formats.number(self.lines),
            "span": span,
            "replaced": formats.number(self.replaced),
        }
        if self.kind == TRAFFIC:
            if self.replaced:
                text = _(
                    "Imported {n} hours of traffic for {store} from {lines} lines, {span} "
                    "({replaced} replaced earlier figures)."
                )
            else:
                text = _("Imported {n} hours of traffic for {store} from {lines} lines, {span}.")
        elif self.replaced:
            text = _(
                "Imported {n} days of POS totals for {store} from {lines} lines, {span} "
                "({replaced} replaced earlier figures)."
            )
        else:
            text = _("Imported {n} days of POS totals for {store} from {lines} lines, {span}.")
        return text.format(**values)


# --- reading the file --------------------------------------------------------------


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " _-.")


def parse_mapping(text: str | None, kind: str) -> dict[str, str]:
    """``in=Enters,start=Time`` → {field: column}; a sentence for a bad one."""
    fields = tuple(TRAFFIC_FORMATS["generic"] if kind == TRAFFIC else POS_FORMATS["generic"])
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip().casefold()
        if not sep or not column.strip():
            raise ValidationError(
                _(
                    "A column mapping is written field=Column, like in=Enters; {part} is not."
                ).format(part=repr(part.strip()))
            )
        if name not in fields:
            raise ValidationError(
                _("{name} is not a field of a {kind} file; the fields are {fields}.").format(
                    name=repr(name), kind=kind, fields=", ".join(fields)
                )
            )
        mapping[name] = column.strip()
    return mapping


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is {size} MB; split it into files under {limit} MB.").format(
                size=formats.number(round(len(data) / 1e6)),
                limit=formats.number(round(MAX_FILE_BYTES / 1e6)),
            )
        )
    return decode_text(data)


def decode_text(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without its byte-order mark), UTF-16
    (Excel's "Unicode text" and some counters' exports, told by its mark or by
    the zero bytes of plain ASCII), else the Windows ANSI code page that
    spreadsheets on Windows save CSV in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _utf16(data, "utf-16")
    head = data[:4096]
    if len(head) >= 4 and head.count(b"\x00") * 3 >= len(head):
        # ASCII in UTF-16 without a mark: every other byte is zero.
        even_zero = head[0::2].count(0) > head[1::2].count(0)
        return _utf16(data, "utf-16-be" if even_zero else "utf-16-le")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _utf16(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise ValidationError(
            _("The file looks like UTF-16 text but is damaged; save it again as CSV (UTF-8).")
        ) from None


def _lines(text: str) -> Iterable[str]:
    """The text's lines with their endings, one at a time: the csv module
    reads them like a file opened with newline="", without the copy of the
    whole text a StringIO makes (4 bytes a character; issue #25)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _rows(text: str) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    """The header and the data lines (with their line numbers) of a CSV text."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValidationError(
            _("The header line cannot be read as CSV ({error}).").format(error=exc)
        ) from None
    if not header or not any(cell.strip() for cell in header):
        raise ValidationError(_("The file is empty: it needs a header line and at least one line."))

    def lines() -> Iterable[tuple[int, list[str]]]:
        try:
            for row in reader:
                # Blank lines (or only separators and spaces) are not data lines.
                if any(row) and (row[0].strip() or any(cell.strip() for cell in row)):
                    yield reader.line_num, row
        except csv.Error as exc:
            # A field over the csv module's limit (128 KB), a NUL byte: the
            # reader cannot go on, so the file is refused with where it stopped.
            raise ValidationError(
                _("Line {n} cannot be read as CSV ({error}); nothing was saved.").format(
                    n=reader.line_num, error=exc
                )
            ) from None

    return header, lines()


def _columns(header: list[str], kind: str, fmt: str, mapping: Mapping[str, str]) -> dict[str, int]:
    """Field → column index, from the format's names and the mapping."""
    known = TRAFFIC_FORMATS if kind == TRAFFIC else POS_FORMATS
    if fmt not in known:
        raise ValidationError(
            _("{format} is not a {kind} format; the formats are {formats}.").format(
                format=repr(fmt), kind=kind, formats=", ".join(known)
            )
        )
    where = {_key(name): i for i, name in enumerate(header)}
    found: dict[str, int] = {}
    for name in known["generic"]:
        wanted = (mapping[name],) if name in mapping else known[fmt].get(name, ())
        for candidate in wanted:
            if _key(candidate) in where:
                found[name] = where[_key(candidate)]
                break
        else:
            if name in mapping:
                raise ValidationError(
                    _(
                        "The mapping names the column {column} for {field}, but the "
                        "header has no such column (it has: {header})."
                    ).format(column=repr(mapping[name]), field=name, header=", ".join(header))
                )
    missing = [name for name in REQUIRED[kind] if name not in found]
    if missing:
        names = functools.reduce(
            lambda first, second: _("{first} or {second}").format(first=first, second=second),
            known[fmt].get(missing[0], (missing[0],)),
        )
        raise ValidationError(
            _(
                "The header has no {field} column ({names} in the {format} format); it has: "
                "{header}. Pick another format or map the column (e.g. {example}=YourColumn)."
            ).format(
                field=repr(missing[0]),
                names=names,
                format=fmt,
                header=", ".join(header),
                example=missing[0],
            )
        )
    return found


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    i = columns.get(name)
    return row[i].strip() if i is not None and i < len(row) else ""


# The counted columns, as a refusal names them (shown through ``_``).
_COUNTED = {
    "in": N_("the entries (in)"),
    "out": N_("the exits (out)"),
    "transactions": N_("transactions"),
    "units": N_("units"),
}


def _count(text: str, what: str) -> int:
    """A count typed in a file; ``what``: its column (a key of _COUNTED)."""
    try:
        value = float(text.replace(",", "")) if text else None
    except ValueError:
        value = None
    if value is None or value != int(value) or value < 0:
        raise ValueError(
            _("{what} must be a whole number of 0 or more, not {text}").format(
                what=_(_COUNTED[what]), text=repr(text)
            )
        )
    return int(value)


def _money_cents(text: str) -> int:
    """ "1,234.50", "$1,234.50", "1.234,50 €", "(12.50)" → cents (half up)."""
    raw = text.strip()
    negative = raw.startswith("(") and raw.endswith(")")
    raw = raw.strip("()")
    for mark in CURRENCY_MARKS:
        raw = raw.replace(mark, "")
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif "," in raw:
        head, _comma, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) == 2 else raw.replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_not_an_amount(text)) from None
    if not value.is_finite():
        raise ValueError(_not_an_amount(text))
    cents = to_cents(value)
    return -cents if negative else cents


def _not_an_amount(text: str) -> str:
    return _("net sales must be an amount like 1234.50, not {text}").format(text=repr(text))


def _store_matches(text: str, store: Mapping) -> bool:
    return text == str(store["id"]) or text.casefold() == store["name"].casefold()


class _Clock:
    """Turns a file's times into UTC for one store, DST-exact (module doc)."""

    def __init__(self, timezone: str) -> None:
        self.zone = localday.zone(timezone)
        self.timezone = timezone
        self.seen_naive: set[datetime] = set()

    def instant(self, text: str, what: str, after: datetime | None = None) -> datetime:
        """The UTC instant of a start (or, with ``after``, of the end of the
        interval that starts then: the first reading later than it)."""
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            if what == "end":
                sentence = _(
                    "the end time {text} is not a time written like 2026-11-03 14:00 "
                    "or 2026-11-03T14:00:00+00:00"
                )
            else:
                sentence = _(
                    "the start time {text} is not a time written like 2026-11-03 14:00 "
                    "or 2026-11-03T14:00:00+00:00"
                )
            raise ValueError(sentence.format(text=repr(text))) from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        first = moment.replace(tzinfo=self.zone, fold=0)
        second = moment.replace(tzinfo=self.zone, fold=1)
        if first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != moment:
            raise ValueError(
                _("{time} does not exist in {zone} (the clocks went forward then)").format(
                    time=text, zone=self.timezone
                )
            )
        if after is not None:  # an end: never remembered as a start
            early = first.astimezone(UTC)
            return early if early > after else second.astimezone(UTC)
        if first.utcoffset() != second.utcoffset() and moment in self.seen_naive:
            return second.astimezone(UTC)  # the repeated hour's second pass
        self.seen_naive.add(moment)
        return first.astimezone(UTC)

    def hour_start(self, instant: datetime) -> datetime:
        """The UTC instant the local clock hour holding ``instant`` began."""
        local = instant.astimezone(self.zone)
        # Back by the time since the local hour began (one conversion, not two).
        return instant - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )


@dataclass
class TrafficFile:
    """A traffic file's counts per local clock hour (keys: UTC hour starts)."""

    lines: int = 0
    hours: dict[datetime, list] = field(default_factory=dict)  # [entries, exits or None]


def parse_traffic(
    data: bytes | str,
    store: Mapping,
    *,
    fmt: str = "generic",
    mapping: Mapping[str, str] | None = None,
) -> TrafficFile:
    """Read a traffic file for ``store`` (a stores row); ImportRefused lists
    every bad line."""
    header, lines = _rows(_decode(data))
    columns = _columns(header, TRAFFIC, fmt, mapping or {})
    clock = _Clock(store["timezone"])
    result, problems = TrafficFile(), Problems()
    seen: dict[datetime, int] = {}
    # The hot loop of a year's import (8,760 lines a store): column indexes
    # looked up once, the store column checked once per distinct value.
    at = {name: columns.get(name) for name in ("store", "start", "end", "in", "out")}
    store_ok: set[str] = {""}

    def cell(row: list[str], name: str) -> str:
        i = at[name]
        return row[i].strip() if i is not None and i < len(row) else ""

    for number, row in lines:
        result.lines += 1
        try:
            who = cell(row, "store")
            if who not in store_ok:
                if not _store_matches(who, store):
                    raise ValueError(_other_store(who, store))
                store_ok.add(who)
            start = clock.instant(cell(row, "start"), "start")
            hour = clock.hour_start(start)
            end_text = cell(row, "end")
            if end_text:
                end = clock.instant(end_text, "end", after=start)
                if end <= start:
                    raise ValueError(_("the end {end} is not after the start").format(end=end_text))
                if end > hour + HOUR:
                    raise ValueError(
                        _(
                            "the interval is longer than its clock hour; export hourly or "
                            "finer counts"
                        )
                    )
            if start in seen:
                raise ValueError(_("it counts the same interval as line {n}").format(n=seen[start]))
            seen[start] = number
            text = cell(row, "in")
            entries = int(text) if text.isdigit() else _count(text, "in")
            out_text = cell(row, "out")
            if not out_text:
                exits = None
            elif out_text.isdigit():
                exits = int(out_text)
            else:
                exits = _count(out_text, "out")
        except ValueError as exc:
            problems.add(_line_problem(number, exc))
            continue
        counts = result.hours.setdefault(hour, [0, None])
        counts[0] += entries
        if exits is not None:
            counts[1] = (counts[1] or 0) + exits
    problems.refuse()
    if not result.hours:
        raise ValidationError(_("The file has a header but no lines to import."))
    return result


def _other_store(who: str, store: Mapping) -> str:
    return _("the store is {found}, but this import is for {store}").format(
        found=repr(who), store=repr(store["name"])
    )


def _line_problem(number: int, problem: ValueError) -> str:
    return _("Line {n}: {problem}.").format(n=number, problem=problem)


@dataclass
class PosFile:
    """A POS file's totals per (store-local day, hour; -1 = the whole day)."""

    lines: int = 0
    totals: dict[tuple[date, int], list] = field(default_factory=dict)  # [tx, units, cents]


def _hour(text: str) -> int:
    """ "14", "14:00", "14:00:00", "2026-11-03 14:00" → 14."""
    if text.isdigit():
        value = int(text)
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            parts = text.split(":")
            if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and int(parts[1]) == 0:
                value = int(parts[0])
            else:
                raise ValueError(
                    _("the hour must be 0–23 or like 14:00, not {text}").format(text=repr(text))
                ) from None
        else:
            value = moment.hour
    if not 0 <= value <= 23:
        raise ValueError(_("the hour must be 0–23, not {text}").format(text=repr(text)))
    return value


def parse_pos(
    data: bytes | str,
    store: Mapping,
    *,
    fmt: str = "generic",
    mapping: Mapping[str, str] | None = None,
) -> PosFile:
    """Read a POS totals file for ``store``. Lines of the same day and hour are
    added up (a report split by register or channel); a day is either one
    whole-day total or hours, never both."""
    header, lines = _rows(_decode(data))
    columns = _columns(header, POS, fmt, mapping or {})
    result, problems = PosFile(), Problems()
    grain: dict[date, tuple[bool, int]] = {}  # day → (hourly?, first line)
    for number, row in lines:
        result.lines += 1
        try:
            who = _cell(row, columns, "store")
            if who and not _store_matches(who, store):
                raise ValueError(_other_store(who, store))
            day_text = _cell(row, columns, "date")
            try:
                stamp = datetime.fromisoformat(day_text)
            except ValueError:
                raise ValueError(
                    _("the date {text} is not a date written like 2026-11-03").format(
                        text=repr(day_text)
                    )
                ) from None
            hour_text = _cell(row, columns, "hour")
            if hour_text:
                hour = _hour(hour_text)
            elif len(day_text) > 10:  # the date column carries the hour
                hour = stamp.hour
            else:
                hour = -1
            day = stamp.date()
            hourly, first_line = grain.setdefault(day, (hour >= 0, number))
            if hourly != (hour >= 0):
                raise ValueError(
                    _("{day} has both a whole-day total and hourly totals (see line {n})").format(
                        day=day, n=first_line
                    )
                )
            transactions = _count(_cell(row, columns, "transactions"), "transactions")
            units_text = _cell(row, columns, "units")
            units = _count(units_text, "units") if units_text else None
            sales_text = _cell(row, columns, "net_sales")
            cents = _money_cents(sales_text) if sales_text else None
        except ValueError as exc:
            problems.add(_line_problem(number, exc))
            continue
        totals = result.totals.setdefault((day, hour), [0, None, None])
        totals[0] += transactions
        if units is not None:
            totals[1] = (totals[1] or 0) + units
        if cents is not None:
            totals[2] = (totals[2] or 0) + cents
    problems.refuse()
    if not result.totals:
        raise ValidationError(_("The file has a header but no lines to import."))
    return result


# --- storing it ----------------------------------------------------------------------


def _store(storage: Storage, store_id: int) -> dict:
    return catalog.get_store(storage, store_id)


def _hour_texts(seconds: np.ndarray) -> list[str]:
    """to_utc_text of whole UTC seconds, formatted by numpy (a year's import
    formats 17,520 of them: isoformat one by one took ~15 ms a store)."""
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return np.char.add(stamps, ".000Z").tolist()


def import_traffic(
    storage: Storage,
    store_id: int,
    data: bytes | str,
    *,
    fmt: str = "generic",
    mapping: Mapping[str, str] | None = None,
    actor: str,
) -> Imported:
    """Check the whole file, then replace the hours it holds, in one transaction."""
    store = _store(storage, store_id)
    parsed = parse_traffic(data, store, fmt=fmt, mapping=mapping)
    now = to_utc_text(utc_now())
    hours = sorted(parsed.hours.items())
    start = np.array([int(hour.timestamp()) for hour, _counts in hours], dtype=np.int64)
    entries = [c[0] for _hour, c in hours]
    exits = [c[1] for _hour, c in hours]
    texts = _hour_texts(start)
    zone = localday.zone(store["timezone"])
    first, last = texts[0], texts[-1]
    with storage.write() as db:
        # Each hour's visitors and local day and hour, written with it (the
        # recount below then rewrites only the hours that hold visits).
        columns = coverage_sums.hour_columns(
            db,
            store_id,
            store["timezone"],
            start,
            np.array(entries, dtype=np.int64),
            np.array([-1 if e is None else e for e in exits], dtype=np.int64),
        )
        rows = list(
            zip(
                itertools.repeat(store_id),
                texts,
                _hour_texts(start + 3_600),
                entries,
                exits,
                itertools.repeat(now),
                *(c.tolist() for c in columns),
            )
        )
        # Only the hours in the file are replaced; a gap inside its span keeps
        # what an earlier import stored there.
        (replaced,) = db.execute(
            "SELECT count(*) FROM traffic_hours WHERE store_id = ? AND hour_start IN"
            " (SELECT value FROM json_each(?))",
            [store_id, json.dumps(texts)],
        ).fetchone()
        db.executemany(
            "INSERT INTO traffic_hours (store_id, hour_start, hour_end, entries,"
            " exits, imported_at, visitors, day, hour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (store_id, hour_start) DO UPDATE SET {_REPLACE_HOUR}",
            rows,
        )
        audit(
            db,
            actor,
            "import",
            "traffic",
            store_id,
            after={"hours": len(rows), "lines": parsed.lines, "from": first, "to": last},
        )
        coverage_sums.rebuild(db, [store_id])  # same transaction: all or nothing
    local = [min(parsed.hours).astimezone(zone), max(parsed.hours).astimezone(zone)]
    return Imported(
        TRAFFIC,
        store_id,
        parsed.lines,
        len(rows),
        f"{local[0]:%Y-%m-%d %H:00}",
        f"{local[1]:%Y-%m-%d %H:00}",
        replaced,
    )


def import_pos(
    storage: Storage,
    store_id: int,
    data: bytes | str,
    *,
    fmt: str = "generic",
    mapping: Mapping[str, str] | None = None,
    actor: str,
) -> Imported:
    """Check the whole file, then replace every POS figure of the store-local
    days it holds (whole-day or hourly), in one transaction."""
    store = _store(storage, store_id)
    parsed = parse_pos(data, store, fmt=fmt, mapping=mapping)
    now = to_utc_text(utc_now())
    days = sorted({day.isoformat() for day, _hour in parsed.totals})
    rows = [
        (store_id, day.isoformat(), hour, *totals, now)
        for (day, hour), totals in sorted(parsed.totals.items())
    ]
    with storage.write() as db:
        (replaced,) = db.execute(
            "SELECT count(DISTINCT day) FROM pos_totals WHERE store_id = ? AND day IN"
            " (SELECT value FROM json_each(?))",
            [store_id, json.dumps(days)],
        ).fetchone()
        db.execute(
            "DELETE FROM pos_totals WHERE store_id = ? AND day IN (SELECT value FROM json_each(?))",
            [store_id, json.dumps(days)],
        )
        db.executemany(
            "INSERT INTO pos_totals"
            " (store_id, day, hour, transactions, units, net_sales_cents, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        audit(
            db,
            actor,
            "import",
            "pos_totals",
            store_id,
            after={"days": len(days), "lines": parsed.lines, "from": days[0], "to": days[-1]},
        )
        coverage_sums.rebuild(db, [store_id])
    return Imported(POS, store_id, parsed.lines, len(days), days[0], days[-1], replaced)


def import_file(
    storage: Storage,
    kind: str,
    store_id: int,
    data: bytes | str,
    *,
    fmt: str = "generic",
    mapping: str | Mapping[str, str] | None = None,
    actor: str,
) -> Imported:
    """The CLI's and the upload's one entry point."""
    if kind not in (TRAFFIC, POS):
        raise ValidationError(
            _("Import {kind}? The kinds are {traffic} and {pos}.").format(
                kind=repr(kind), traffic=TRAFFIC, pos=POS
            )
        )
    if isinstance(mapping, str) or mapping is None:
        mapping = parse_mapping(mapping, kind)
    write = import_traffic if kind == TRAFFIC else import_pos
    return write(storage, store_id, data, fmt=fmt, mapping=mapping, actor=actor)


# --- each store's counter settings -----------------------------------------------------


@dataclass(frozen=True)
class CounterSettings:
    """How a store's counter figures become visitors, and its coverage threshold."""

    two_way: bool = False  # visitors = (in + out) / 2 (beams that count both ways)
    staff_per_hour: float = 0.0  # staff entries taken off each hour's visitors
    coverage_threshold: float = 0.7  # below it, moment comparisons are flagged


def counter_settings(storage: Storage, store_ids: Iterable[int] | None = None) -> dict:
    """{store id: CounterSettings}; stores never set get the defaults."""
    with storage.read() as db:
        stores = [r["id"] for r in db.query("SELECT id FROM stores ORDER BY id")]
        saved = {
            r["store_id"]: CounterSettings(
                bool(r["two_way"]), r["staff_per_hour"], r["coverage_threshold"]
            )
            for r in db.query("SELECT * FROM traffic_settings")
        }
    wanted = stores if store_ids is None else [s for s in store_ids if s in stores]
    return {s: saved.get(s, CounterSettings()) for s in wanted}


def save_counter_settings(
    storage: Storage, store_id: int, settings: CounterSettings, *, actor: str
) -> None:
    if not 0 <= settings.staff_per_hour <= 1000:
        raise ValidationError(
            _("The staff allowance must be between 0 and {n} entries an hour.").format(
                n=formats.number(1000)
            )
        )
    if not 0.05 <= settings.coverage_threshold <= 1:
        raise ValidationError(
            _("The coverage threshold must be between {low} and {high}.").format(
                low=formats.percent(0.05), high=formats.percent(1)
            )
        )
    _store(storage, store_id)  # a sentence for an unknown store
    before = counter_settings(storage, [store_id])[store_id]
    with storage.write() as db:
        db.execute(
            "INSERT INTO traffic_settings"
            " (store_id, two_way, staff_per_hour, coverage_threshold) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (store_id) DO UPDATE SET two_way = excluded.two_way,"
            " staff_per_hour = excluded.staff_per_hour,"
            " coverage_threshold = excluded.coverage_threshold",
            [
                store_id,
                int(settings.two_way),
                float(settings.staff_per_hour),
                float(settings.coverage_threshold),
            ],
        )
        audit(
            db,
            actor,
            "update",
            "traffic_settings",
            store_id,
            before=before.__dict__,
            after=settings.__dict__,
        )
        coverage_sums.rebuild(db, [store_id])  # every hour's visitors may change
