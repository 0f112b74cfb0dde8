"""Start cxlog's server: `python -m cxlog.serve [streamlit options]`.

Takes the same ``--section.option value`` flags as ``streamlit run`` (for
example ``--server.port 8501 --server.address 0.0.0.0``) and serves the app and
the JSON API on one port (cxlog/server.py).

With a pages/ folder beside app.py, Streamlit runs a new server as a legacy
multipage app until the first st.navigation call in the process: a tablet that
reconnects after a restart, or opens a page's address directly, got the raw
pages/ list as a menu and its page run without the router. Setting the flag
before the first session starts keeps every run on app.py's st.navigation.
(The pages guard themselves too: cxlog.ui, pages/setup.py.)
"""

from __future__ import annotations

import os
import socket
import sys

from cxlog import first_run, join
from cxlog.db import default_path, shared_storage
from cxlog.errors import CxlogError
from cxlog.server import APP_SCRIPT, build


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


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager

    try:
        options = parse_flags(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        sys.exit(f"cxlog.serve: {exc}")
    PagesManager.uses_pages_directory = False
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
        code = first_run.setup_code(shared_storage(default_path()))
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
