"""What Streamlit draws: the pages' shared helpers, the tap pad component
(pad/: plain JS and CSS), the router's page table, charts and views.

May import: every domain wing and Streamlit; pages import this wing and domain entry points.
"""
