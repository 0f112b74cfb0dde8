"""Who may do what: associates' PINs and shifts, the named manager and
owner accounts and their sessions, the lockout, rate limits, first-run
claim, and the addresses a device joins at.

May import: core, calendar, storage, numbers, stores.
"""
