"""Follow-ups promised at a visit's close: due lists, results and their
conversion.

May import: the wings below it: core … stores, access, dashboard, coverage.
"""
