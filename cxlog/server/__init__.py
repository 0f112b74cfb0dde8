"""The ASGI app around Streamlit: the JSON API under /api/v1, security
headers and the routes tablets call.

May import: every domain wing; not web/ (the API draws nothing).
"""
