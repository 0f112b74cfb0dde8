"""One HTTP request to an ASGI app, in process (no server, no extra library)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def request(
    app,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request from
    127.0.0.1 to ``app``; a repeated header's values are joined by newlines."""
    sent = [(b"host", b"127.0.0.1:8501"), (b"content-length", str(len(body)).encode())]
    if cookie:
        sent.append((b"cookie", cookie.encode()))
    sent += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": sent,
        "scheme": "http",
        "server": ("127.0.0.1", 8501),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    # In a thread of its own: a session-wide Playwright keeps an event loop
    # running in the main thread once a browser test has run.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer: dict[str, str] = {}
    for key, value in start["headers"]:  # a repeated header (set-cookie): one line each
        name = key.decode().lower()
        answer[name] = f"{answer[name]}\n{value.decode()}" if name in answer else value.decode()
    return start["status"], answer, data
