"""cxlog on the home screen (issue #29), against the real server in Debian's
Chromium: the manifest and its icons, linked from every page; Chromium reads
the manifest and finds the app installable; over plain HTTP no service worker;
over HTTPS (a certificate made here) the worker opens a working tap pad when
the page is reloaded with the server stopped, and the tap made there is
stored once when the server is back."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import struct
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress

import pytest

from cxlog.stores import catalog
from tests.conftest import set_up
from tests.e2e import harness
from tests.e2e.harness import PAD_OUTBOX, PHONE, TABLET
from tests.helpers.peek import peek

pytestmark = pytest.mark.browser
PAD_DATA = "cxlog.pad.data.v1"  # cxlog/web/pad/pad.js PAD_DATA_KEY
ICON_SIZES = {
    "/app/icon-192.png": 192,
    "/app/icon-512.png": 512,
    "/app/icon-maskable-512.png": 512,
    "/app/apple-touch-icon.png": 180,
    "/app/favicon-32.png": 32,
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory, password_hashes):
    """A set-up store with one associate, on a SQLite file."""
    folder = tmp_path_factory.mktemp("home")
    storage, store = set_up(folder / "cxlog.db", password_hashes)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    return {"folder": folder, "storage": storage, "store": store, "ana": ana}


@pytest.fixture(scope="module")
def http_url(shop):
    log = shop["folder"] / "http.log"
    with harness.streamlit_server(shop["storage"].path, log=log) as url:
        yield url


def get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        return response.status, dict(response.headers), response.read()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_and_icons_are_linked_from_every_page(shop, http_url):
    status, headers, body = get(f"{http_url}/app/manifest.webmanifest")
    assert status == 200 and headers["content-type"] == "application/manifest+json"
    manifest = json.loads(body)
    assert (manifest["name"], manifest["short_name"]) == ("cxlog", "cxlog")
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] and manifest["background_color"]
    declared = {i["src"]: (i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert declared == {
        "/app/icon-192.png": ("192x192", "any"),
        "/app/icon-512.png": ("512x512", "any"),
        "/app/icon-maskable-512.png": ("512x512", "maskable"),
    }
    for path, size in ICON_SIZES.items():
        status, headers, body = get(f"{http_url}{path}")
        assert (status, headers["content-type"]) == (200, "image/png"), path
        assert png_size(body) == (size, size), path
    # A device joined by its store's QR code opens on that store from the home screen.
    joined = json.loads(get(f"{http_url}/app/manifest.webmanifest?store={shop['store']}")[2])
    assert joined["start_url"] == f"/?store={shop['store']}"
    for page in ("/", "/dashboard", f"/?store={shop['store']}"):
        status, headers, body = get(f"{http_url}{page}")
        text = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/html"), page
        assert int(headers["content-length"]) == len(body)
        assert "<title>cxlog</title>" in text and "Streamlit</title>" not in text
        store = f"?store={shop['store']}" if "store" in page else ""
        for tag in (
            f'<link rel="manifest" href="/app/manifest.webmanifest{store}" />',
            '<link rel="icon" type="image/png" sizes="32x32" href="/app/favicon-32.png" />',
            '<link rel="apple-touch-icon" sizes="180x180" href="/app/apple-touch-icon.png" />',
            '<meta name="theme-color" content="#0f766e" />',
            '<meta name="apple-mobile-web-app-capable" content="yes" />',
        ):
            assert tag in text, (page, tag)
    status, headers, body = get(f"{http_url}/sw.js")
    assert headers["content-type"].startswith("text/javascript") and b"{{version}}" not in body


def test_chromium_finds_the_app_installable_and_plain_http_registers_no_worker(
    browser, http_url, tmp_path
):
    # A profile of its own: Chromium installs no app from an incognito one
    # (what a new context is).
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile",
        executable_path=harness.chromium_path(),
        args=harness.CHROMIUM_FLAGS,
        viewport=PHONE,
    )
    page = context.new_page()
    page.goto(http_url)
    harness.wait_idle(page, timeout=30_000)
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{http_url}/app/manifest.webmanifest"
    assert manifest["errors"] == []
    assert json.loads(manifest["data"])["name"] == "cxlog"
    # Over http://127.0.0.1: localhost counts as secure, as HTTPS would.
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    # The page's own title and icon, not Streamlit's.
    assert page.title() == "cxlog"
    icon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\").href")
    assert "/media/" in icon or icon.endswith("/app/favicon-32.png")
    # Plain HTTP: no worker (a store's devices reach it by an address, where
    # browsers allow none; cxlog registers one on https: only).
    page.wait_for_timeout(500)
    assert (
        page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
    )
    assert page.evaluate("() => navigator.serviceWorker.controller") is None
    context.close()


# --- HTTPS: the offline pad -----------------------------------------------------


class TlsServer:
    """``python -m cxlog.serve`` over HTTPS on one port, stopped and started
    again by its process id."""

    def __init__(self, folder, database: str) -> None:
        self.folder, self.database = folder, database
        self.cert, self.key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-keyout", str(self.key), "-out", str(self.cert), "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        self.port = harness.free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        flags = ["--server.sslCertFile", str(self.cert), "--server.sslKeyFile", str(self.key)]
        with open(self.folder / "https.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cxlog.serve", *harness.server_flags(self.port), *flags],
                cwd=harness.ROOT,
                env={**os.environ, "CXLOG_DB": self.database},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 30) -> None:
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE  # the certificate made above
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the HTTPS server exited"
            with suppress(OSError):
                if get(f"{self.url}/_stcore/health", unverified)[2] == b"ok":
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.url} was not healthy after {timeout} s")

    def stop(self) -> None:
        if self.process is not None:
            harness.stop(self.process)


@pytest.fixture
def tls_browser(browser):
    """Chromium that takes the certificate made here (a service worker is
    refused on a page whose certificate it does not trust)."""
    other = browser.browser_type.launch(
        executable_path=harness.chromium_path(),
        args=[*harness.CHROMIUM_FLAGS, "--ignore-certificate-errors"],
    )
    yield other
    other.close()


def outbox(page) -> list[dict]:
    return page.evaluate(f"() => JSON.parse(localStorage.getItem('{PAD_OUTBOX}') || '[]')")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl to make a certificate")
def test_over_https_a_reload_without_the_server_opens_a_working_pad(shop, tls_browser, screenshot):
    server = TlsServer(shop["folder"], shop["storage"].address)
    server.start()
    try:
        context = tls_browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(server.url)
        page.locator(f"[data-associate='{shop['ana']}']").click()
        page.locator("[data-start=warm]").wait_for(timeout=15_000)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
        kept = page.evaluate(f"() => JSON.parse(localStorage.getItem('{PAD_DATA}'))")
        assert kept["mode"] == "log" and kept["me"]["name"] == "Ana"
        before = peek(shop["storage"]).execute("SELECT count(*) FROM visits").fetchone()[0]

        server.stop()
        page.reload()
        page.wait_for_function("() => document.documentElement.dataset.cxOffline === 'pad'")
        page.locator("[data-start=warm]").wait_for(timeout=5_000)
        assert page.title() == "cxlog"
        page.locator("[data-start=warm]").click()
        page.locator(".cx-card[data-state=waiting]").wait_for(timeout=2_000)
        (waiting,) = outbox(page)
        assert (waiting["kind"], waiting["engagement"]) == ("start", "warm")
        page.locator(".cx-bar", has_text="Cannot reach the server").wait_for(timeout=15_000)
        screenshot(page, "home-screen-offline-pad-phone")
        page.set_viewport_size(TABLET)
        screenshot(page, "home-screen-offline-pad-tablet")
        # Another page than the Log page: one sentence, no pad.
        other = context.new_page()
        other.goto(f"{server.url}/dashboard")
        other.locator(".cx-offline-waiting").wait_for(timeout=5_000)
        assert other.locator(".cx-pad").count() == 0
        other.close()

        # Back on the same port and database: the page comes back by itself
        # and the tap is saved once.
        server.start()
        page.wait_for_function(
            f"""() => !document.documentElement.dataset.cxOffline
                  && document.querySelector('[data-start=warm]')
                  && JSON.parse(localStorage.getItem('{PAD_OUTBOX}') || '[]').length === 0""",
            timeout=30_000,
        )
        rows = peek(shop["storage"])
        assert rows.execute("SELECT count(*) FROM visits").fetchone()[0] == before + 1
        assert (
            rows.execute("SELECT count(*) FROM visits WHERE id = ?", [waiting["visit"]]).fetchone()[
                0
            ]
            == 1
        )
        assert (
            rows.execute("SELECT count(*) FROM taps WHERE id = ?", [waiting["id"]]).fetchone()[0]
            == 1
        )
        context.close()
    finally:
        server.stop()
