"""Streamlit's listening socket, which cxlog.serve fixes (docs/architecture.md,
"Streamlit's listening socket").

Streamlit 1.67 binds it with ``socket.socket(family)`` (protocol number 0), so
asyncio never sets TCP_NODELAY on the connections it accepts, and a kept-alive
request's body waited for the browser's delayed ACK (44 ms per request with
curl). These tests fail on a Streamlit upgrade that changes how the socket is
bound: then revisit ``cxlog.serve.serve_without_nagle``.
"""

from __future__ import annotations

import inspect
import socket

import pytest
from streamlit.web.server.starlette import starlette_server

from cxlog import serve


@pytest.fixture
def streamlit_bind(monkeypatch):
    """Streamlit's own bind function, restored after the test."""
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)


def _accepted_nodelay() -> int:
    """TCP_NODELAY of a connection accepted on the socket Streamlit's runner binds."""
    listener, _ = starlette_server._bind_server_socket("127.0.0.1", "127.0.0.1", 0, 8)
    with listener:
        listener.setblocking(True)
        with socket.create_connection(listener.getsockname(), timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                return accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_streamlit_runner_binds_through_the_function_we_wrap():
    source = inspect.getsource(starlette_server.UvicornRunner)
    assert "_bind_server_socket(" in source
    assert "_bind_socket(" in inspect.getsource(starlette_server._bind_server_socket)


def test_streamlit_alone_leaves_nagle_on(streamlit_bind):
    # When this fails, Streamlit sets TCP_NODELAY itself: the wrapper can go.
    assert _accepted_nodelay() == 0


def test_cxlog_serve_turns_nagle_off_for_every_accepted_connection(streamlit_bind):
    serve.serve_without_nagle()
    serve.serve_without_nagle()  # twice wraps once
    assert getattr(starlette_server._bind_socket, "without_nagle", False)
    assert not getattr(starlette_server._bind_socket.__wrapped__, "without_nagle", False)
    assert _accepted_nodelay() == 1


def test_a_renamed_bind_function_stops_the_server_with_a_sentence(monkeypatch):
    monkeypatch.delattr(starlette_server, "_bind_socket")
    with pytest.raises(RuntimeError, match="listening socket"):
        serve.serve_without_nagle()


def test_the_server_command_wraps_the_bind_before_it_runs(streamlit_bind, monkeypatch):
    seen = {}

    class FakeApp:
        def run(self, config):
            seen["without_nagle"] = getattr(starlette_server._bind_socket, "without_nagle", False)

    monkeypatch.setattr(serve, "build", FakeApp)
    monkeypatch.setattr(serve, "end_legacy_pages_mode", lambda: None)
    monkeypatch.setattr(serve, "announce_setup_code", lambda: None)
    monkeypatch.setattr(serve.sys, "argv", ["cxlog.serve"])
    serve.main(["--server.port", "8599"])
    assert seen == {"without_nagle": True}


def test_the_server_parses_http_with_httptools():
    """The server's uvicorn, configured as Streamlit configures it, reads HTTP
    with httptools (requirements.txt), not the pure-Python h11: ~1 ms less per
    API request (a tap's POST 8.0 → 7.0 ms over HTTP on the 2-core machine).
    Fails if httptools goes missing or Streamlit starts forcing a parser."""
    import uvicorn

    config = uvicorn.Config(app=None, **starlette_server._get_uvicorn_config_kwargs())
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
