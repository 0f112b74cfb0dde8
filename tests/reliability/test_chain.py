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
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from cxlog import local_chain
from cxlog.access import accounts, sessions
from cxlog.core.model import to_utc_text, utc_now
from cxlog.dashboard import dashboard
from cxlog.export import csvlines, downloads
from cxlog.storage.db import open_storage
from cxlog.stores import catalog
from tests.e2e.harness import (
    PHONE,
    TABLET,
    card,
    new_card,
    pad_idle,
    sign_in_with_password,
    tap,
    wait_all_saved,
    wait_idle,
)
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


# Counts the websockets a page opens: Streamlit opens one per connection, so a
# second means the page reconnected (to the other process).
COUNT_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.__cxSockets = 0;
  function Counted(url, protocols) { window.__cxSockets += 1; return new Native(url, protocols); }
  Counted.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Counted[k] = Native[k];
  window.WebSocket = Counted;
})()"""


def stuck_to(browser, url: str, server: str, viewport=PHONE):
    """A device whose browser already holds HAProxy's cookie for ``server``
    (it was served by that process before)."""
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "cxlog_server", "value": server, "url": url}])
    context.add_init_script(COUNT_SOCKETS)
    return context.new_page()


def reconnected(page, before: int) -> None:
    """Until the page has opened a new websocket (Streamlit reconnected
    through HAProxy to the other process) and its rerun is done: a tap on a
    pad that is being drawn again lands nowhere, as on a real screen."""
    page.wait_for_function("n => window.__cxSockets > n", arg=before, timeout=30_000)
    wait_idle(page, timeout=30_000)


def log_one(page, engagement: str, reason: str, units: str | None) -> str:
    """One visit, three taps: the first engagement, the reason, the outcome."""
    vid = new_card(page, engagement)
    card(page, vid).locator("[data-tap=reason]", has_text=reason).click()
    if units is None:
        tap(page, vid, "no_purchase")
    else:
        tap(page, vid, "purchase", units)
    return vid


VISITS = (("warm", "Gift", "2"), ("neutral", "Browsing", None), ("missed", "Gift", "1"))


@pytest.mark.browser
def test_two_phones_log_through_haproxy_while_their_process_is_killed(browser):
    """Deliver 5 of issue #28: two phones and a signed-in manager stick to
    app1; app1 is SIGKILLed while the phones log. The pads keep working (their
    outbox carries the taps across the switch to app2), every visit is stored
    once with its outcome, the manager is still signed in after the reload,
    and the dashboard's visits, purchases and units equal a recount."""
    require_haproxy()
    postgres.require()
    with (
        postgres.own_folder() as folder,
        local_chain.running(folder, visits=300, stores=1, logs=folder) as chain,
    ):
        storage = open_storage(chain.database)
        store = catalog.list_stores(storage)[0]["id"]
        first, second = (a["id"] for a in catalog.list_associates(storage, store)[:2])
        phones = []
        for associate in (first, second):
            page = stuck_to(browser, chain.url, "app1")
            page.goto(chain.url)
            page.locator(f"[data-associate='{associate}']").click()
            page.locator("[data-start=warm]").wait_for(timeout=20_000)
            phones.append(page)
        manager = stuck_to(browser, chain.url, "app1", TABLET)
        manager.goto(f"{chain.url}/dashboard")
        wait_idle(manager)
        sign_in_with_password(manager, "manager-demo-1", "manager")
        manager.get_by_role("heading", name="Dashboard").wait_for(timeout=30_000)

        logged = {0: [], 1: []}
        devices = [*phones, manager]
        for n, (engagement, reason, units) in enumerate(VISITS * 2):
            for i, page in enumerate(phones):
                pad_idle(page, timeout=30_000)
                logged[i].append(log_one(page, engagement, reason, units))
            if n == 2:
                # Mid-run, the third visits' taps just sent and maybe in flight:
                # the process every device sticks to is lost.
                sockets = [page.evaluate("window.__cxSockets") for page in devices]
                os.killpg(chain.apps["app1"].pid, signal.SIGKILL)
                chain.apps["app1"].wait(timeout=10)
                for page, before in zip(devices, sockets, strict=True):
                    reconnected(page, before)
        for page in phones:
            wait_all_saved(page, timeout=60_000)

        ids = logged[0] + logged[1]
        with storage.read() as db:
            marks = ",".join("?" * len(ids))
            stored = {
                r["id"]: (r["outcome"], r["units"])
                for r in db.query(
                    f"SELECT id, outcome, units FROM visits WHERE id IN ({marks})", ids
                )
            }
            ours = db.execute(
                "SELECT count(*) FROM visits WHERE associate_id IN (?, ?) AND started_at >= ?",
                [first, second, to_utc_text(utc_now() - timedelta(minutes=10))],
            ).fetchone()[0]
        expected = [("purchased", int(u)) if u else ("no_purchase", None) for _, _, u in VISITS * 2]
        for i in (0, 1):
            assert [stored[v] for v in logged[i]] == expected, i
        assert ours == len(ids) == 12  # each acknowledged visit once, none doubled

        manager.reload()
        wait_idle(manager, timeout=30_000)
        manager.get_by_role("heading", name="Dashboard").wait_for(timeout=30_000)
        assert {c["value"] for c in manager.context.cookies() if c["name"] == "cxlog_server"} == {
            "app2"
        }
        manager.locator("[data-testid='stMetricLabel']", has_text="Visits").first.wait_for()
        tiles = {}
        for tile in manager.locator("[data-testid='stMetric']").all():
            label = tile.locator("[data-testid='stMetricLabel']").inner_text().strip()
            tiles[label] = tile.locator("[data-testid='stMetricValue']").inner_text().strip()
        now = utc_now()
        built = dashboard.build(storage, dashboard.DashboardFilters(), now)
        span = built.spans[store]
        with storage.read() as db:
            visits, purchases, units = db.execute(
                "SELECT count(*), sum(CASE WHEN outcome = 'purchased' THEN 1 ELSE 0 END),"
                " coalesce(sum(CASE WHEN outcome = 'purchased' THEN units END), 0) FROM visits"
                " WHERE store_id = ? AND voided_at IS NULL AND started_at >= ? AND started_at < ?",
                [store, to_utc_text(span.start), to_utc_text(span.end)],
            ).fetchone()
        assert (built.totals.visits, built.totals.purchased, built.totals.units) == (
            visits,
            purchases,
            units,
        )
        assert tiles["Visits"] == f"{visits:,}"
        for page in [*phones, manager]:
            page.context.close()
