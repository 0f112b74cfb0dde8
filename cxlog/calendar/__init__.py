"""Store-local time, once: the zone lookup, "today" and local midnight,
day numbers and their weekday, week and month, UTC offsets, the local
texts written with each visit, and the dashboard's periods.

May import: core.
"""
