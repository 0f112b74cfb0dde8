"""A chain on several app processes (issue #28): PostgreSQL, two `python -m
cxlog.serve` processes and HAProxy with deploy/haproxy.cfg, started as
`make chain` starts them (cxlog/local_chain.py), all on 127.0.0.1. A browser
sticks to one process; when that process is killed, the next request of the
same browser is answered by the other one, still signed in, because sign-ins
live in the database. Skips where HAProxy is missing, unless
CXLOG_REQUIRE_HAPROXY is set (CI sets it)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from cxlog import local_chain
from cxlog.access import accounts, sessions
from cxlog.export import csvlines, downloads
from cxlog.storage.db import open_storage
from tests.e2e.harness import TABLET, sign_in_with_password, wait_idle
from tests.helpers import postgres

pytestmark = [pytest.mark.first_pass]  # it starts its own PostgreSQL


def require_haproxy() -> str:
    binary = local_chain.haproxy_binary()
    if binary is None:
        if os.environ.get("CXLOG_REQUIRE_HAPROXY"):
            pytest.fail("HAProxy is not installed, and CXLOG_REQUIRE_HAPROXY is set")
        pytest.skip("HAProxy is not installed (apt-get install haproxy)")
    return binary


@pytest.fixture(scope="module")
def chain():
    require_haproxy()
    postgres.require()
    with (
        postgres.own_folder() as folder,
        local_chain.running(folder, visits=300, stores=2, logs=folder) as started,
    ):
        yield started


def get(url: str, path: str, cookies: dict[str, str] | None = None):
    """(status, headers, body) of one GET on a new connection (a browser's
    cookies as given)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_the_deployed_configuration_is_valid():
    binary = require_haproxy()
    env = {
        **os.environ,
        "CXLOG_FRONT_ADDRESS": "127.0.0.1",
        "CXLOG_FRONT_PORT": "8600",
        "CXLOG_APP1": "127.0.0.1:8601",
        "CXLOG_APP2": "127.0.0.1:8602",
    }
    checked = subprocess.run(
        [binary, "-c", "-f", str(local_chain.HAPROXY_CFG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_both_processes_serve_and_a_browser_sticks_to_one(chain):
    served = set()
    for _ in range(6):  # new browsers: HAProxy takes turns between the processes
        status, headers, _ = get(chain.url, "/api/v1/health")
        assert status == 200
        served.add(headers["X-Cxlog-Server"])
        cookie = headers["Set-Cookie"]
        assert cookie.startswith(f"cxlog_server={headers['X-Cxlog-Server']};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert served == {"app1", "app2"}
    for server in ("app1", "app2"):  # a browser that has the cookie stays
        answers = {
            get(chain.url, "/api/v1/health", {"cxlog_server": server})[1]["X-Cxlog-Server"]
            for _ in range(5)
        }
        assert answers == {server}


@pytest.mark.browser
def test_a_manager_signs_in_and_reads_the_dashboard_through_haproxy(chain, browser):
    """Streamlit's websocket and the sign-in's cookie hand-over, through the
    proxy: the page a manager opens is drawn, signed in, on one process."""
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(f"{chain.url}/dashboard")
    wait_idle(page)
    sign_in_with_password(page, "manager-demo-1", "manager")
    page.get_by_role("heading", name="Dashboard").wait_for(timeout=30_000)
    servers = {c["value"] for c in context.cookies() if c["name"] == "cxlog_server"}
    assert servers <= {"app1", "app2"} and len(servers) == 1
    context.close()


def test_one_process_lost_and_a_signed_in_manager_carries_on(chain):
    """SIGKILL the process a manager's browser sticks to: its next request
    is answered by the other process, signed in (the session is in the
    database), and gets the file it asked for."""
    storage = open_storage(chain.database)
    manager = accounts.get(storage, accounts.find(storage, "manager")["id"])
    _, claim = sessions.start(storage, manager, device="laptop", client="127.0.0.1")
    token = sessions.claim(storage, claim)
    session_id = sessions.check(storage, token).session_id
    stores = list(manager.stores or ())
    choices = {"first_day": None, "last_day": None, "store_ids": stores,
               "include_voided": False, "for_excel": False}  # fmt: skip
    link = downloads.offer(storage, session_id, "visits", "visits.csv", choices)
    browser = {"cxlog_server": "app1", sessions.COOKIE: token}
    assert get(chain.url, "/api/v1/health", browser)[1]["X-Cxlog-Server"] == "app1"

    os.killpg(chain.apps["app1"].pid, signal.SIGKILL)
    chain.apps["app1"].wait(timeout=10)
    answer = None
    deadline = time.monotonic() + 15
    for _ in range(60):  # bounded in count and time
        if time.monotonic() > deadline:
            break
        try:
            answer = get(chain.url, f"{downloads.ROUTE}/{link}", browser)
            break
        except OSError:
            time.sleep(0.25)
    assert answer is not None, "no answer through HAProxy after app1 was killed"
    status, headers, body = answer
    assert (status, headers["X-Cxlog-Server"]) == (200, "app2"), body
    assert body.split(b"\r\n")[0] == ",".join(csvlines.header(False)).encode()
    assert sessions.check(storage, token).account.id == manager.id  # still signed in
    # HAProxy has taken the lost process out: every request lands on app2.
    answers = {get(chain.url, "/api/v1/health", browser)[1]["X-Cxlog-Server"] for _ in range(5)}
    assert answers == {"app2"}
