"""SQLite's SQL as PostgreSQL reads it (cxlog/storage/dialect.py, #27): each
named rewrite, and nothing rewritten inside a literal. Run against a real
PostgreSQL in tests/test_engine_postgres.py."""

from __future__ import annotations

import pytest

from cxlog.storage.dialect import postgres_sql


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        (
            "SELECT a FROM t INDEXED BY t_a WHERE a = ? AND b LIKE 'x%'",
            "SELECT a FROM t WHERE a = %s AND b LIKE 'x%%'",
        ),
        # A '?' inside a literal or a quoted name is text, not a placeholder.
        ("SELECT '?', \"a?\" FROM t WHERE c = ?", "SELECT '?', \"a?\" FROM t WHERE c = %s"),
        ("SELECT 'it''s ?' WHERE x = ?", "SELECT 'it''s ?' WHERE x = %s"),
        ("SELECT 'a INDEXED BY b'", "SELECT 'a INDEXED BY b'"),
        # Null-safe comparisons; IS NULL and IS NOT NULL stay.
        (
            "WHERE a IS NOT ? AND b IS ? AND c IS NOT NULL AND d IS NULL",
            "WHERE a IS DISTINCT FROM %s AND b IS NOT DISTINCT FROM %s"
            " AND c IS NOT NULL AND d IS NULL",
        ),
        (
            "SELECT group_concat(hour_start, ''), group_concat(coalesce(exits, -1), ',') FROM t",
            "SELECT string_agg((hour_start)::text, ''),"
            " string_agg((coalesce(exits, -1))::text, ',') FROM t",
        ),
        (
            "SELECT group_concat(printf('%010x%02x', unixepoch(s), f(a, b)), '') FROM v",
            "SELECT string_agg(((lpad(to_hex(unixepoch(s)), 10, '0')"
            " || lpad(to_hex(f(a, b)), 2, '0')))::text, '') FROM v",
        ),
        ("SELECT printf('%!.17g', visitors)", "SELECT (visitors)::text"),
        (
            "WHERE day IN (SELECT value FROM json_each(?))",
            "WHERE day IN (SELECT value FROM json_array_elements_text(%s::json) AS value)",
        ),
        (
            "WHERE julianday(f.result_on) - julianday(f.promised_on) <= :window"
            " AND x::text = 'a:b' AND y = :day_2",
            "WHERE julianday(f.result_on) - julianday(f.promised_on) <= %(window)s"
            " AND x::text = 'a:b' AND y = %(day_2)s",
        ),
        ("DROP TABLE IF EXISTS temp.local_spans", "DROP TABLE IF EXISTS pg_temp.local_spans"),
        (
            "SELECT replace(datetime(v.started_at, z.modifier), ' ', 'T')",
            "SELECT replace(to_char(((v.started_at)::timestamptz AT TIME ZONE 'UTC')"
            " + (z.modifier)::interval, 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T')",
        ),
        # A call named inside a literal is text.
        ("SELECT 'group_concat(x, y)'", "SELECT 'group_concat(x, y)'"),
    ],
)
def test_each_rewrite(sqlite, postgres):
    assert postgres_sql(sqlite) == postgres


def test_a_printf_no_rule_knows_is_left_for_postgresql_to_refuse():
    assert postgres_sql("SELECT printf('%5.2f', x)") == "SELECT printf('%%5.2f', x)"
