"""The server's middleware (cxlog/server/server.py Hardening) on what issue #25's
security re-test found open: Streamlit's metrics page, its upload route for
anyone, and no HSTS under TLS. Driven as ASGI, with a stand-in for
Streamlit's app behind it."""

from __future__ import annotations

import pytest
import streamlit as st

from cxlog.access import sessions
from cxlog.core import roles
from cxlog.server import server
from tests.conftest import account_of
from tests.helpers import asgi


async def inner(scope, receive, send):
    """What Streamlit would answer: 200 with a body naming the path."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"streamlit {scope['path']}".encode()})


def call(path: str, *, method: str = "GET", cookie: str | None = None) -> tuple[int, dict, bytes]:
    return asgi.request(server.Hardening(inner), method, path, cookie=cookie)


@pytest.fixture
def served(app_env):
    return app_env


def session_cookie(storage, role: str) -> str:
    _, claim = sessions.start(storage, account_of(storage, role), device="test", client="local")
    return f"other=1; {sessions.COOKIE}={sessions.claim(storage, claim)}"


def test_streamlits_metrics_page_is_closed(served):
    assert call("/_stcore/metrics")[0] == 404
    assert call("/_stcore/health") == (
        200,
        call("/_stcore/health")[1],
        b"streamlit /_stcore/health",
    )


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_uploads_need_a_manager_or_owner_session(served, method):
    path = "/_stcore/upload_file/some-session/some-file"
    status, _, body = call(path, method=method)
    assert (status, body) == (403, b"Only a signed-in manager or owner may upload files.")
    assert (
        call(path, method=method, cookie=f"{sessions.COOKIE}=made-up-token-000000000000")[0] == 403
    )
    for role in (roles.MANAGER, roles.OWNER):
        assert call(path, method=method, cookie=session_cookie(served, role))[0] == 200
    # A session that ended (signed out) uploads nothing.
    cookie = session_cookie(served, roles.MANAGER)
    sessions.end(served, cookie.split("=")[-1])
    assert call(path, method=method, cookie=cookie)[0] == 403


def test_hsts_only_when_cxlog_serves_tls(served, monkeypatch):
    _, headers, _ = call("/")
    assert "strict-transport-security" not in headers
    assert headers["x-frame-options"] == "SAMEORIGIN"
    real = st.get_option
    monkeypatch.setattr(
        st, "get_option", lambda key: "/x/cert.pem" if key == "server.sslCertFile" else real(key)
    )
    _, headers, _ = call("/api/v1/health")
    assert headers["strict-transport-security"] == "max-age=31536000"
