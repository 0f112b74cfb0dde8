"""Coaching: per-store goals and currency, the daily focus, the huddle
card and the Log page's team line.

May import: the wings below it: core … stores, access, dashboard, coverage.
"""
