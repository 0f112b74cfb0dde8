"""Start cxlog's server: `python -m cxlog.serve [streamlit options]`.

Takes the same ``--section.option value`` flags as ``streamlit run`` (for
example ``--server.port 8501 --server.address 0.0.0.0``) and serves the app and
the JSON API on one port (cxlog/server/server.py).

With a pages/ folder beside app.py, Streamlit runs a new server as a legacy
multipage app until the first st.navigation call in the process: a tablet that
reconnects after a restart, or opens a page's address directly, got the raw
pages/ list as a menu and its page run without the router. Streamlit has no
public setting for this, so ``end_legacy_pages_mode`` sets its internal flag
before the first session starts — the first use of Streamlit's private API in
cxlog, pinned by tests/test_legacy_pages.py (see docs/architecture.md,
"Streamlit's legacy pages mode"). The pages guard themselves too (cxlog.web.ui,
pages/setup.py), which covers plain `streamlit run app.py`.

``serve_without_nagle`` is the second: Streamlit binds its listening socket
itself, in a way that keeps asyncio from setting TCP_NODELAY on the
connections it accepts, so every small answer (a tap's JSON, a websocket
message) can wait for the browser's delayed ACK (docs/architecture.md,
"Streamlit's listening socket").
"""

from __future__ import annotations

import functools
import os
import socket
import sys

from cxlog.access import first_run, join
from cxlog.core.errors import CxlogError
from cxlog.server.server import APP_SCRIPT, build
from cxlog.storage.db import shared_storage


class UsageError(ValueError):
    """The command line is not of the form `--section.option value …`."""


def parse_flags(args: list[str]) -> dict[str, object]:
    """``['--server.port', '8501', '--server.headless=true']`` →
    ``{'server.port': 8501, 'server.headless': True}``.

    Values are typed the way Streamlit's own CLI would: true/false are
    booleans, whole numbers are ints, anything else is text.
    """
    options: dict[str, object] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or "." not in flag:
            raise UsageError(f"Expected an option such as --server.port 8501, not {flag!r}.")
        name, sep, value = flag[2:].partition("=")
        if not sep:
            if not rest:
                raise UsageError(f"The option {flag} needs a value.")
            value = rest.pop(0)
        options[name] = _typed(value)
    return options


def _typed(value: str) -> object:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value.lstrip("-").isdigit():
        return int(value)
    return value


def end_legacy_pages_mode() -> None:
    """Every session of this process goes through app.py's st.navigation."""
    from streamlit.runtime.pages_manager import PagesManager

    if "uses_pages_directory" not in vars(PagesManager):  # renamed: setting it would do nothing
        raise RuntimeError(
            "This Streamlit has no PagesManager.uses_pages_directory; see"
            ' docs/architecture.md, "Streamlit\'s legacy pages mode".'
        )
    PagesManager.uses_pages_directory = False


def serve_without_nagle() -> None:
    """Every connection the server accepts sends its answers at once.

    Streamlit 1.67 makes its listening socket with ``socket.socket(family)``,
    whose protocol number is 0; asyncio sets TCP_NODELAY on an accepted
    connection only when that number is IPPROTO_TCP, so Nagle's algorithm
    stays on. A response is written as headers, then body: the body waited
    for the browser's ACK of the headers, which Linux delays by up to 40 ms
    (44 ms per request on a kept-alive connection, measured with curl).
    TCP_NODELAY set on the listening socket is inherited by every connection
    it accepts (Linux).
    """
    from streamlit.web.server.starlette import starlette_server

    bind = getattr(starlette_server, "_bind_socket", None)
    if bind is None:
        raise RuntimeError(
            "This Streamlit has no starlette_server._bind_socket; see"
            ' docs/architecture.md, "Streamlit\'s listening socket".'
        )
    if getattr(bind, "without_nagle", False):
        return

    @functools.wraps(bind)
    def bind_without_nagle(*args: object, **kwargs: object) -> socket.socket:
        sock = bind(*args, **kwargs)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    bind_without_nagle.without_nagle = True  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_without_nagle


def main(argv: list[str] | None = None) -> None:
    try:
        options = parse_flags(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        sys.exit(f"cxlog.serve: {exc}")
    end_legacy_pages_mode()
    serve_without_nagle()
    # App.run takes the launcher's folder for .streamlit/config.toml and
    # sys.path: name app.py, so the repository's own config applies from any
    # working directory, as with `streamlit run app.py`.
    sys.argv = [str(APP_SCRIPT)]
    options.setdefault("server.allowedHosts", allowed_hosts())
    announce_setup_code()
    build().run(config=options)


def allowed_hosts() -> list[str]:
    """The names a browser may use for this server (DNS-rebinding protection):
    this machine's own names and addresses, plus CXLOG_ALLOWED_HOSTS (comma
    separated, e.g. the name a reverse proxy serves under)."""
    extra = [h.strip() for h in os.environ.get("CXLOG_ALLOWED_HOSTS", "").split(",")]
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()}
    names.add(f"{socket.gethostname()}.local")  # mDNS name, as phones often see it
    return sorted({n.lower() for n in names | set(join.lan_addresses()) | set(extra) if n})


def announce_setup_code() -> None:
    """On a server nobody has set up yet, print the one-time setup code: only
    whoever sees this console (or can run `python -m cxlog setup-code` here)
    can claim cxlog."""
    try:
        code = first_run.setup_code(shared_storage())
    except CxlogError:
        return  # the page shows the storage problem as a sentence
    if code:
        print(
            f"\n  cxlog is not set up yet. Setup code: {code}\n"
            "  Open the app and type it on the first page"
            " (python -m cxlog setup-code prints it again).\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
