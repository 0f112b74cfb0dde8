"""Files for people and machines: the visits CSV, the summary CSV, the
follow-ups CSV, their helper processes and one-time download links.

May import: every domain wing; no Streamlit, nothing from web/ or server/.
"""
