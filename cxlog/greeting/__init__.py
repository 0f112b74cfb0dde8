"""Time to greet (issue #30): a store's rules for it (on or off, its
standard, the waiting limit, the wait bands, the on-time goal) and its
figures for the dashboard, the huddle and the files. No Streamlit.

May import: core, calendar, storage, numbers, stores, access.
"""
