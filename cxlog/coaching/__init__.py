"""Coaching: per-store goals and currency, the daily focus, the huddle
card, the Log page's team line, and the chain's view (stores side by side).

May import: the wings below it: core … stores, access, dashboard, coverage.
"""
