"""The numbers kept exact on every visit write and read fast: the metric
definitions (Counts, Rate), the rollups, door-counter coverage sums, the
visits as numpy columns, the list of derived tables, and numbers as text.

May import: core, calendar, storage.
"""
