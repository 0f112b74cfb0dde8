"""What the dashboard shows: its numbers per view, the takeaway sentences,
and its filters as URL values. No Streamlit (pages and web/ draw them).

May import: core, calendar, storage, numbers, stores, access.
"""
