"""SQLite's SQL as PostgreSQL reads it (#27): the named, small set of
rewrites that let domain code write each statement once.

Domain SQL is written in SQLite's dialect where both engines accept it
(``ON CONFLICT``, ``RETURNING``, partial indexes, CTEs, window functions).
What PostgreSQL reads differently is rewritten here, once per statement text
(cached), outside string literals and quoted names:

- ``?`` placeholders become psycopg's ``%s``, and a literal ``%`` ``%%``;
- ``INDEXED BY name``, SQLite's planner hint, is dropped (PostgreSQL's
  planner takes no hints);
- ``a IS b`` / ``a IS NOT b`` (null-safe equality, b not NULL) become
  ``IS NOT DISTINCT FROM`` / ``IS DISTINCT FROM``;
- ``:name`` parameters become ``%(name)s``; the ``temp.`` schema
  ``pg_temp.``;
- ``datetime(utc_text, '+N seconds')`` becomes ``to_char`` of the moved
  timestamp, printed as SQLite does;
- ``json_each(?)`` (a JSON array given as one parameter) becomes
  ``json_array_elements_text(?::json) AS value``;
- ``group_concat(x, sep)`` becomes ``string_agg((x)::text, sep)``;
- ``printf`` with only fixed-width hex fields (``'%08x%02x'``) becomes
  ``lpad(to_hex(a), 8, '0') || …``, and ``printf('%!.17g', x)`` becomes
  ``(x)::text`` (PostgreSQL prints a double's shortest exact digits).

SQLite functions that are plain to define — ``unixepoch``, ``julianday``,
two-argument ``max``/``min``, ``total``, the ``nocase`` collation — are
created by PostgreSQL's schema instead (``postgres_schema.FUNCTIONS``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_HINT = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.IGNORECASE)
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
# A string literal or a quoted name (each doubles its quote to hold one).
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_HEX_FIELD = re.compile(r"%0(\d+)x")
# SQLite's named parameter ``:name`` (not a ``::`` cast), psycopg's %(name)s.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# SQLite's schema of temporary tables, PostgreSQL's pg_temp.
_TEMP = re.compile(r"\btemp\.(?=\w)", re.IGNORECASE)


def _quoted_spans(sql: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTED.finditer(sql)]


def _inside(spans: list[tuple[int, int]], at: int) -> bool:
    return any(start <= at < end for start, end in spans)


def _arguments(sql: str, open_at: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose ``(`` is at ``open_at``, and
    the index just past its ``)``."""
    depth, parts, begin, at = 0, [], open_at + 1, open_at
    while at < len(sql):
        quoted = _QUOTED.match(sql, at)
        if quoted:
            at = quoted.end()
            continue
        char = sql[at]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                parts.append(sql[begin:at].strip())
                return parts, at + 1
        elif char == "," and depth == 1:
            parts.append(sql[begin:at].strip())
            begin = at + 1
        at += 1
    raise ValueError(f"unbalanced parentheses in: {sql}")


def _rewrite_calls(sql: str, name: str, rewrite: Callable[[list[str]], str | None]) -> str:
    """Each call of ``name`` outside literals replaced by ``rewrite(args)``
    (None: kept as it is). Inner calls are rewritten first."""
    pattern = re.compile(rf"\b{name}\s*\(", re.IGNORECASE)
    at = 0
    while match := pattern.search(sql, at):
        if _inside(_quoted_spans(sql), match.start()):
            at = match.end()
            continue
        args, end = _arguments(sql, match.end() - 1)
        args = [_rewrite_calls(a, name, rewrite) for a in args]
        new = rewrite(args)
        if new is None:
            at = match.end()
            continue
        sql = sql[: match.start()] + new + sql[end:]
        at = match.start() + len(new)
    return sql


def _group_concat(args: list[str]) -> str:
    separator = args[1] if len(args) > 1 else "','"
    return f"string_agg(({args[0]})::text, {separator})"


def _printf(args: list[str]) -> str | None:
    form = args[0]
    if form == "'%!.17g'" and len(args) == 2:
        return f"({args[1]})::text"
    widths = _HEX_FIELD.findall(form)
    if (
        form.startswith("'")
        and _HEX_FIELD.sub("", form[1:-1]) == ""
        and len(widths) == len(args) - 1
    ):
        return (
            "("
            + " || ".join(
                f"lpad(to_hex({arg}), {width}, '0')"
                for width, arg in zip(widths, args[1:], strict=True)
            )
            + ")"
        )
    return None  # left for PostgreSQL to refuse: a form no rule knows


def _datetime(args: list[str]) -> str | None:
    """SQLite's ``datetime(utc_text, '+N seconds')``: the moment moved,
    printed to the second (truncated) as ``YYYY-MM-DD HH:MM:SS``."""
    if len(args) != 2:
        return None
    moved = f"(({args[0]})::timestamptz AT TIME ZONE 'UTC') + ({args[1]})::interval"
    return f"to_char({moved}, 'YYYY-MM-DD HH24:MI:SS')"


def _json_each(args: list[str]) -> str | None:
    return f"json_array_elements_text({args[0]}::json) AS value" if args == ["?"] else None


def _outside_literals(sql: str, change: Callable[[str], str]) -> str:
    out, at = [], 0
    for start, end in _quoted_spans(sql):
        out.append(change(sql[at:start]))
        out.append(sql[start:end].replace("%", "%%"))
        at = end
    out.append(change(sql[at:]))
    return "".join(out)


def _plain(part: str) -> str:
    part = _IS_NOT.sub("IS DISTINCT FROM ", _HINT.sub("", part))
    part = _IS.sub("IS NOT DISTINCT FROM ", part)
    part = _TEMP.sub("pg_temp.", part)
    part = part.replace("%", "%%").replace("?", "%s")
    return _NAMED.sub(r"%(\1)s", part)


@lru_cache(maxsize=4096)
def postgres_sql(sql: str) -> str:
    """``sql``, written in SQLite's dialect, as psycopg takes it for PostgreSQL."""
    sql = _rewrite_calls(sql, "group_concat", _group_concat)
    sql = _rewrite_calls(sql, "printf", _printf)
    sql = _rewrite_calls(sql, "json_each", _json_each)
    sql = _rewrite_calls(sql, "datetime", _datetime)
    return _outside_literals(sql, _plain)
