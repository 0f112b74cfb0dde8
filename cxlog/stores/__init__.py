"""Stores, associates and the two configurable lists (reasons for visit,
no-sale reasons).

May import: core, calendar, storage, numbers (a timezone change rebuilds the derived tables).
"""
