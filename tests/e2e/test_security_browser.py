"""Access a store can trust (#11), against one real server started empty, as
`make run` starts it: the setup code, a sign-in that survives reloads, the
cookie, sign-out, the security headers and the DNS-rebinding refusal."""

from __future__ import annotations

import http.client
import json
import os
import stat
from urllib.parse import urlsplit

import pytest

from cxlog.access import accounts, first_run, sessions
from cxlog.core.roles import MANAGER, OWNER
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import engine_storage, new_id
from tests.e2e import harness
from tests.e2e.harness import (
    PHONE,
    TABLET,
    by_key,
    open_tab,
    sign_in_with_password,
    wait_idle,
)
from tests.e2e.touch import small_controls

# One server for the file: the first test sets it up in the browser; each
# later one asks for `set_up`, which does the same through cxlog when that
# test runs alone (#26: every browser test passes when run by itself).
pytestmark = [pytest.mark.browser, pytest.mark.on_postgresql]  # make test runs it on both engines
PASSWORD = "owner-pass-2468"
NEW_PASSWORD = "owner-pass-1357"  # the second test changes to it


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, request):
    """A server on a database nobody has set up yet (of the suite's engine)."""
    folder = tmp_path_factory.mktemp("fresh") / "data"
    storage = engine_storage(folder, request)
    with harness.streamlit_server(storage.address, log=folder.parent / "server.log") as url:
        yield {"url": url, "storage": storage, "log": folder.parent / "server.log"}


@pytest.fixture
def set_up(fresh):
    """The server as the first test leaves it (a store, the owner's password
    PASSWORD), made through cxlog when that test did not run first."""
    storage = fresh["storage"]
    code = first_run.setup_code(storage)
    if code is not None:
        first_run.claim(
            storage,
            code=code,
            store_name="Main Street",
            timezone="America/Chicago",
            password=PASSWORD,
            password_again=PASSWORD,
            client="test",
        )
    return fresh


def request(url: str, path: str, *, method="GET", body=None, headers=None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def csp_watch(page) -> list:
    """Collect every Content-Security-Policy violation the page reports."""
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else 0)
    return found


def test_setup_code_then_a_sign_in_that_lasts(browser, fresh, screenshot):
    url, storage = fresh["url"], fresh["storage"]
    code = first_run.setup_code(storage)
    assert f"Setup code: {code}" in fresh["log"].read_text()  # printed on the console
    context = browser.new_context(viewport=PHONE, timezone_id="America/Chicago")
    page = context.new_page()
    violations = csp_watch(page)
    page.goto(url)
    wait_idle(page)
    page.get_by_role("heading", name="Welcome to cxlog").wait_for()
    # The browser's zone is the default.
    zone = by_key(page, "setup_zone")
    assert "America/Chicago" in zone.inner_text() + zone.locator("input").first.input_value()
    screenshot(page, "setup-phone")
    # Every field typed with Tab between them, then a tap: all of it is sent.
    by_key(page, "setup_code").locator("input").fill("0000 0000" if code != "0000 0000" else "1")
    page.keyboard.press("Tab")
    by_key(page, "setup_store").locator("input").fill("Main Street")
    page.keyboard.press("Tab")
    by_key(page, "setup_login").locator("input").fill("owner")  # the owner's account (#28)
    page.keyboard.press("Tab")
    for key in ("setup_password", "setup_password_again"):
        by_key(page, key).locator("input").fill(PASSWORD)
        page.keyboard.press("Tab")
    by_key(page, "setup-save").locator("button").click()
    wait_idle(page)
    page.get_by_text("setup code is not right").wait_for()
    by_key(page, "setup_code").locator("input").fill(code)
    page.keyboard.press("Tab")
    for key in ("setup_password", "setup_password_again"):  # password fields are not kept
        by_key(page, key).locator("input").fill(PASSWORD)
        page.keyboard.press("Tab")
    by_key(page, "setup-save").locator("button").click()
    page.get_by_role("heading", name="Who is logging?").wait_for(timeout=20_000)
    wait_idle(page)
    cookie = next(c for c in context.cookies() if c["name"] == sessions.COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert page.evaluate("document.cookie").find(sessions.COOKIE) == -1
    assert first_run.setup_code(storage) is None  # the code is spent
    # Reload and a direct address: still the owner.
    page.reload()
    wait_idle(page)
    page.goto(f"{url}/dashboard")
    wait_idle(page)
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.goto(f"{url}/export")
    wait_idle(page)
    assert page.get_by_role("heading", name="Sign in").count() == 0
    # A second tab of the same browser too.
    second = context.new_page()
    second.goto(f"{url}/settings")
    wait_idle(second)
    second.get_by_role("heading", name="Settings").wait_for()
    second.close()
    # Another browser is not signed in.
    stranger = browser.new_context(viewport=PHONE)
    other = stranger.new_page()
    other.goto(f"{url}/settings")
    wait_idle(other)
    other.get_by_role("heading", name="Sign in").wait_for()
    # Sign out, then replay the old cookie in a new browser: signed out.
    page.goto(f"{url}/account")
    wait_idle(page)
    by_key(page, "sign-out-role").locator("button").click()
    wait_idle(page)
    replay = browser.new_context(viewport=PHONE)
    replay.add_cookies([cookie])
    again = replay.new_page()
    again.goto(f"{url}/settings")
    wait_idle(again)
    again.get_by_role("heading", name="Sign in").wait_for()
    assert violations == []
    for ctx in (context, stranger, replay):
        ctx.close()


def test_sign_in_with_enter_lasts_and_a_password_change_ends_it(browser, set_up):
    """The owner signs in on two devices, then changes the password."""
    url = set_up["url"]
    accounts.add_or_reset(set_up["storage"], OWNER, OWNER, PASSWORD, actor="test")
    devices = []
    for _ in range(2):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{url}/settings")
        wait_idle(page)
        sign_in_with_password(page, PASSWORD, "owner", with_enter=True)
        page.get_by_role("heading", name="Settings").wait_for(timeout=20_000)
        devices.append((context, page))
    (first, page), (second, other) = devices
    page.reload()
    wait_idle(page)
    open_tab(page, "Access", shows=".st-key-password-own input")
    by_key(page, "password-own").locator("input").fill(NEW_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("Password changed").wait_for()
    other.reload()
    wait_idle(other)
    other.get_by_role("heading", name="Sign in").wait_for()
    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name="Settings").wait_for()  # the changer stays
    first.close()
    second.close()


# Records every Streamlit websocket the page opens and the subprotocols it
# sends (["streamlit", xsrf token, the session id it reconnects to]); with a
# stolen id, sends that id instead, as a thief who sniffed it on the wifi would.
SOCKETS = """
(stolen) => {
  const Native = window.WebSocket;
  window.__cxProtocols = [];
  window.__cxSockets = [];
  function Recorded(url, protocols) {
    const sent = [].concat(protocols ?? []);
    if (stolen && String(url).includes("/_stcore/stream")) sent[2] = stolen;
    window.__cxProtocols.push(sent);
    const socket = new Native(url, sent);
    window.__cxSockets.push(socket);
    return socket;
  }
  Recorded.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[k] = Native[k];
  window.WebSocket = Recorded;
}
"""


def recorded_context(browser, stolen: str | None = None, cookie: dict | None = None):
    context = browser.new_context(viewport=PHONE)
    if cookie:
        context.add_cookies([cookie])
    context.add_init_script(f"({SOCKETS})({json.dumps(stolen)})")
    return context


def streamlit_session_id(page) -> str:
    """The id of the Streamlit session this page is connected to: drop its
    websocket and read the id the page sends when it reconnects."""
    opened = page.evaluate("window.__cxProtocols.length")
    page.evaluate("window.__cxSockets.at(-1).close()")
    page.wait_for_function(
        "n => window.__cxProtocols.length > n && window.__cxProtocols.at(-1).length >= 3",
        arg=opened,
        timeout=20_000,
    )
    wait_idle(page)
    return page.evaluate("window.__cxProtocols.at(-1)[2]")


def replay_is_signed_out(browser, url: str, session_id: str, cookie: dict | None) -> None:
    """A new browser presents the old Streamlit session id (and the old cookie):
    it is handed that very session, and still sees the sign-in."""
    context = recorded_context(browser, stolen=session_id, cookie=cookie)
    page = context.new_page()
    page.goto(f"{url}/settings")
    wait_idle(page)
    page.get_by_role("heading", name="Sign in").wait_for(timeout=20_000)
    assert page.get_by_role("heading", name="Settings").count() == 0
    assert page.evaluate("window.__cxProtocols[0][2]") == session_id
    # Streamlit did hand over the old session (else this test shows nothing):
    # the page now reconnects to that same id.
    assert streamlit_session_id(page) == session_id
    page.get_by_role("heading", name="Sign in").wait_for()
    context.close()


def test_a_replayed_streamlit_session_id_is_signed_out(browser, set_up):
    """The session takeover of the security review (#11), in Chromium: a
    sniffed Streamlit session id, with or without the old cookie, after a
    sign-in, a sign-out and a password change."""
    url, storage = set_up["url"], set_up["storage"]
    accounts.add_or_reset(storage, MANAGER, MANAGER, "manager-replay-2468", actor="test")
    victim = recorded_context(browser)
    page = victim.new_page()
    page.goto(f"{url}/settings")
    wait_idle(page)
    page.get_by_role("heading", name="Sign in").wait_for()
    before_sign_in = streamlit_session_id(page)  # the session the password is typed in
    sign_in_with_password(page, "manager-replay-2468", MANAGER)
    page.get_by_role("heading", name="Settings").wait_for(timeout=20_000)
    signed_in = streamlit_session_id(page)
    assert signed_in != before_sign_in  # the sign-in reloads into a new session
    cookie = next(c for c in victim.cookies() if c["name"] == sessions.COOKIE)
    # While the manager is still signed in: the id of the session the password
    # was typed in (the one that held the sign-in before the cookie) is worth
    # nothing without the cookie.
    replay_is_signed_out(browser, url, before_sign_in, None)
    # Sign out, then the old cookie and the old id together.
    page.goto(f"{url}/account")
    wait_idle(page)
    page.get_by_role("heading", name="Signed in").wait_for(timeout=20_000)
    last = streamlit_session_id(page)
    by_key(page, "sign-out-role").locator("button").click()
    wait_idle(page)
    replay_is_signed_out(browser, url, last, cookie)
    # Signed in again, then the password changes on another device.
    page.goto(f"{url}/settings")
    wait_idle(page)
    sign_in_with_password(page, "manager-replay-2468", MANAGER)
    page.get_by_role("heading", name="Settings").wait_for(timeout=20_000)
    cookie = next(c for c in victim.cookies() if c["name"] == sessions.COOKIE)
    last = streamlit_session_id(page)
    accounts.add_or_reset(storage, MANAGER, MANAGER, "manager-replay-1357", actor="test")
    replay_is_signed_out(browser, url, last, cookie)
    victim.close()


def test_headers_hosts_and_files(fresh):
    url = fresh["url"]
    port = urlsplit(url).port
    for path in ("/", "/dashboard", "/api/v1/health", "/_stcore/health", "/api/v1/nope"):
        _, headers, _ = request(url, path)
        lowered = {k.lower(): v for k, v in headers.items()}
        assert "frame-ancestors 'self'" in lowered["content-security-policy"], path
        assert lowered["x-content-type-options"] == "nosniff", path
        assert lowered["x-frame-options"] == "SAMEORIGIN", path
    # DNS rebinding: a page of evil.example whose name now points here.
    status, _, body = request(url, "/", headers={"Host": f"evil.example:{port}"})
    assert status == 403 and b"not one of the store's" in body
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    status, _, _ = request(
        url,
        "/_stcore/stream",
        headers={
            **upgrade,
            "Host": f"evil.example:{port}",
            "Origin": f"http://evil.example:{port}",
        },
    )
    assert status == 403
    status, _, _ = request(
        url,
        "/_stcore/stream",
        headers={**upgrade, "Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"},
    )
    assert status == 101  # the same request from the real address is let in
    # A claim from another site is refused and sets no cookie.
    status, headers, _ = request(
        url,
        "/api/v1/sessions/claim",
        method="POST",
        body=b'{"claim": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}',
        headers={"Origin": "http://evil.example", "Content-Type": "application/json"},
    )
    assert status == 403 and "set-cookie" not in {k.lower() for k in headers}
    # The database files hold password hashes: owner-only (a server's
    # database is its administrator's to guard).
    if fresh["storage"].engine != "sqlite":
        return
    folder = fresh["storage"].path.parent
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in folder.glob("cxlog.db*")}
    assert "cxlog.db" in files and set(files.values()) == {0o600}, files


def settle(page, heading: str) -> list[dict]:
    """Wait for the page's heading, then for its controls to be measured with
    the touch styles applied (a few polls, bounded): the small ones left."""
    page.get_by_role("heading", name=heading).first.wait_for(timeout=20_000)
    wait_idle(page)
    small = []
    for _ in range(10):
        small = small_controls(page)
        if not small:
            break
        page.wait_for_timeout(300)
    return small


def test_every_control_is_48px_for_an_owner_and_a_manager(browser, set_up, screenshot):
    storage, fresh = set_up["storage"], set_up
    accounts.add_or_reset(storage, OWNER, OWNER, NEW_PASSWORD, actor="test")
    accounts.add_or_reset(storage, MANAGER, MANAGER, "manager-pass-2468", actor="test")
    store = catalog.list_stores(storage)[0]["id"]
    if not catalog.list_associates(storage, store):
        ana = catalog.add_associate(storage, store, "Ana", actor="test")
        vid = new_id()
        visits.create_visit(storage, vid, store, ana, "warm")
        visits.record_purchase(storage, vid, 2, actor="test")
    pages = {
        "": "Who is logging?",
        "dashboard": "Dashboard",
        "visits": "Visits",
        "settings": "Settings",
        "export": "Export",
        "account": "Signed in",
    }
    found = {}

    def both_sizes(page, where: str, heading: str | None = None) -> None:
        """Measure at 390 × 844 and 820 × 1180 on the same page load."""
        for viewport in (PHONE, TABLET):
            page.set_viewport_size(viewport)
            small = settle(page, heading) if heading else small_controls(page)
            found[(role, viewport["width"], where)] = small

    for role, password in ((OWNER, NEW_PASSWORD), (MANAGER, "manager-pass-2468")):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{fresh['url']}/account")
        both_sizes(page, "sign-in", "Sign in")
        page.set_viewport_size(PHONE)
        # By Enter; the helper waits for the sign-in's one reload, or the next
        # goto would be cut short by it.
        sign_in_with_password(page, password, role, with_enter=True)
        page.get_by_role("heading", name="Signed in").wait_for(timeout=20_000)
        for path, heading in pages.items():
            page.set_viewport_size(PHONE)
            page.goto(f"{fresh['url']}/{path}")
            both_sizes(page, path or "log", heading)
            if role == MANAGER:
                screenshot(page, f"touch-{path or 'log'}-tablet")
            if path == "settings":
                # The owner's Accounts tab (#28), looked at on both devices too.
                owners = ("Accounts",) if role == OWNER else ()
                for tab in ("Lists", "Store", "Access", "Devices", *owners):
                    open_tab(page, tab)
                    both_sizes(page, f"settings/{tab}")
                    if tab == "Accounts":
                        for viewport, size in ((PHONE, "phone"), (TABLET, "tablet")):
                            page.set_viewport_size(viewport)
                            wait_idle(page)
                            # Drawn whole (labels, not placeholders) first.
                            page.get_by_text("Name to sign in with").wait_for()
                            page.get_by_role("button", name="Retire").wait_for()
                            screenshot(page, f"settings-accounts-{size}")
            if path == "visits":
                page.locator("details summary").first.click()
                both_sizes(page, "visits/history")
            if path == "dashboard":
                page.get_by_role("button", name="Custom range").or_(
                    page.get_by_role("radio", name="Custom range")
                ).first.click()
                wait_idle(page)
                both_sizes(page, "dashboard/custom")
            if role == MANAGER:
                page.set_viewport_size(PHONE)
                screenshot(page, f"touch-{path or 'log'}-phone")
        context.close()
    assert {where: small for where, small in found.items() if small} == {}


def test_a_chain_s_store_settings_are_48px_on_a_phone_and_a_tablet(browser, set_up, screenshot):
    """Issue #28: with a second store, Settings → Lists and Access show the
    picked store's own rules and entries; every control 48 px at both sizes.
    Last in the file: the second store stays."""
    storage, fresh = set_up["storage"], set_up
    accounts.add_or_reset(storage, OWNER, OWNER, NEW_PASSWORD, actor="test")
    if len(catalog.list_stores(storage)) < 2:
        harbour = catalog.create_store(storage, "Harbour Store", "Europe/Paris")
        bea = catalog.add_associate(storage, harbour, "Bea", actor="test")
        for n in range(25):  # enough to be ranked on the Stores page
            vid = new_id()
            visits.create_visit(storage, vid, harbour, bea, "warm" if n % 2 else "neutral")
            visits.record_purchase(storage, vid, 1 + n % 3, actor="test")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{fresh['url']}/account")
    page.get_by_role("heading", name="Sign in").wait_for(timeout=20_000)
    sign_in_with_password(page, NEW_PASSWORD, OWNER, with_enter=True)
    page.get_by_role("heading", name="Signed in").wait_for(timeout=20_000)
    page.goto(f"{fresh['url']}/settings")
    page.get_by_role("heading", name="Settings").first.wait_for(timeout=20_000)
    found = {}
    for tab, shows in (("Lists", "Not offered at this store"), ("Access", "PIN at this store")):
        open_tab(page, tab)
        page.get_by_text(shows).first.wait_for(timeout=10_000)
        for viewport, size in ((PHONE, "phone"), (TABLET, "tablet")):
            page.set_viewport_size(viewport)
            found[(tab, size)] = settle(page, "Settings")
            screenshot(page, f"settings-store-{tab.lower()}-{size}")
    # The chain's view (#28): its table's rows and links, at both sizes.
    page.goto(f"{fresh['url']}/chain")
    for viewport, size in ((PHONE, "phone"), (TABLET, "tablet")):
        page.set_viewport_size(viewport)
        found[("stores", size)] = settle(page, "Stores")
        screenshot(page, f"stores-{size}")
    context.close()
    assert {where: small for where, small in found.items() if small} == {}
