"""Who may do what: associates' PINs and shifts, manager and owner
passwords and sessions, the lockout, rate limits, first-run claim, and
the addresses a device joins at.

May import: core, calendar, storage, numbers, stores.
"""
