"""The one server process: Streamlit's app (app.py and its pages) and cxlog's
JSON API (cxlog/api) on the same port, through Streamlit's ``st.App``.

``python -m cxlog.serve`` builds the app here and runs it. State lives in the
database, never in this process, so a chain can later run several of these.

Every request, page or websocket, passes ``Hardening`` first: a Host that is
not one of the store's addresses is refused (DNS rebinding: a page on another
site whose name now points at this server), and every answer carries the
security headers below.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlog import api

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"

# What Streamlit's own page needs, and nothing from elsewhere: its scripts and
# styles are same-origin, but it sets inline styles and st.html's sign-in
# hand-over is an inline script; plotly builds charts with inline styles and
# data:/blob: images; the websocket is same-origin ('self' covers ws: and wss:
# of this origin). st.components.v2 imports a component's JS (the Log page's
# tap pad) from a blob: URL, which only script already running in this origin
# can create. No other site may frame the app (clickjacking).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """``host`` (a Host header, port ignored) is in the allow-list; an empty
    list allows every host (Streamlit's own default)."""
    if not allowed:
        return True
    if not host:
        return False
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if not name:
        return False
    name = name.lower().rstrip(".")
    for pattern in (p.strip().lower().rstrip(".") for p in allowed):
        if pattern == "*" or name == pattern.strip("[]"):
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class Hardening:
    """ASGI middleware: refuse foreign Hosts, add the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_allowed(host, list(st.get_option("server.allowedHosts") or [])):
            if scope["type"] == "websocket":
                # Closing before accepting answers the upgrade with HTTP 403.
                await send({"type": "websocket.close", "code": 1008})
            else:
                body = b"This address is not one of the store's; open cxlog by its own address."
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            *SECURITY_HEADERS,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def build() -> st.App:
    """The ASGI app: our routes first (Streamlit reserves /_stcore/, /media/,
    /component/ and /static/; ours live under /api/v1/), then Streamlit's."""
    return st.App(str(APP_SCRIPT), routes=api.routes(), middleware=[Middleware(Hardening)])
