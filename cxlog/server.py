"""The one server process: Streamlit's app (app.py and its pages) and cxlog's
JSON API (cxlog/api) on the same port, through Streamlit's ``st.App``.

``python -m cxlog.serve`` builds the app here and runs it. State lives in the
database, never in this process, so a chain can later run several of these.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cxlog import api

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"


def build() -> st.App:
    """The ASGI app: our routes first (Streamlit reserves /_stcore/, /media/,
    /component/ and /static/; ours live under /api/v1/), then Streamlit's."""
    return st.App(str(APP_SCRIPT), routes=api.routes())
