"""Where cxlog's own HTTP routes live: one prefix for the JSON API, so the
server's routes, the pad's calls, the sign-in hand-over and download links
all name the same address."""

from __future__ import annotations

API = "/api/v1"


def api(path: str) -> str:
    """The address of an API resource: api("/taps") → "/api/v1/taps"."""
    return API + path
