"""The one server process: Streamlit's app (app.py and its pages) and cxlog's
JSON API (cxlog/server/api/) on the same port, through Streamlit's ``st.App``.

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
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlog.access import sessions
from cxlog.core import roles
from cxlog.server import api, home_screen
from cxlog.storage.db import shared_storage

APP_SCRIPT = Path(__file__).resolve().parents[2] / "app.py"

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


# HTTPS only from here on, for a year (sent only when cxlog itself serves TLS:
# behind a proxy that does, the proxy sets it).
HSTS = (b"strict-transport-security", b"max-age=31536000")
# Streamlit's counters of sessions and caches: of use to nobody on the store
# network, and a map of the server for a stranger (issue #25).
CLOSED_PATHS = ("/_stcore/metrics",)
# Streamlit's file uploads (st.file_uploader) land in this process's memory,
# up to server.maxUploadSize each, for any session that holds the page's XSRF
# token: only the Imports page takes files, so only a manager's or the
# owner's signed-in browser may send one (issue #25).
UPLOAD_PREFIX = "/_stcore/upload_file/"


def _cookie(headers: dict[bytes, bytes], name: str) -> str | None:
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def may_upload(headers: dict[bytes, bytes]) -> bool:
    """Whether the request carries a live manager or owner session cookie."""
    token = _cookie(headers, sessions.COOKIE)
    if not token:
        return False
    check = sessions.check(shared_storage(), token)
    return roles.allows(check.role, roles.MANAGER)


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
                await _refuse(send, 403, body)
            return

        path = scope.get("path", "")
        if path.startswith(CLOSED_PATHS):
            await _refuse(send, 404, b"Not found.")
            return
        if path.startswith(UPLOAD_PREFIX) and scope["type"] == "http":
            allowed = await run_in_threadpool(may_upload, headers)
            if not allowed:
                await _refuse(send, 403, b"Only a signed-in manager or owner may upload files.")
                return
        tls = bool(st.get_option("server.sslCertFile"))
        extra = [*SECURITY_HEADERS, HSTS] if tls else SECURITY_HEADERS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build() -> st.App:
    """The ASGI app: our routes first (Streamlit reserves /_stcore/, /media/,
    /component/ and /static/; ours live under /api/v1/, and the home-screen
    app's under /app/ and at /sw.js), then Streamlit's. Every page's HTML
    links the app's manifest and icons (home_screen.PageTags)."""
    return st.App(
        str(APP_SCRIPT),
        routes=api.routes() + home_screen.ROUTES,
        middleware=[Middleware(Hardening), Middleware(home_screen.PageTags)],
    )
