"""Door counters and POS totals: the file formats, imports, counter
settings and the coverage overview (logged visits against visitors).

May import: core, calendar, storage, numbers, stores, access.
"""
