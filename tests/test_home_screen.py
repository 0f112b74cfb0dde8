"""cxlog on the home screen (issue #29), without a browser: the tags every
page's HTML gains (cxlog/server/home_screen.py PageTags), the manifest, the
icons, the offline page and the service worker's script. Chromium's own look
at them, and the offline pad over HTTPS: tests/e2e/test_home_screen_browser.py."""

from __future__ import annotations

import json
import re
import struct

import pytest
from starlette.applications import Starlette

from bench import app_icons
from cxlog.language import words
from cxlog.server import home_screen
from tests.helpers import asgi

STREAMLIT_PAGE = """<!DOCTYPE html><html lang="en"><head>
<link rel="shortcut icon" href="./favicon.png" />
<title>Streamlit</title>
<script type="module" crossorigin src="./static/js/index.js"></script>
</head><body><div id="root"></div></body></html>"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_page_gets_cxlogs_title_icons_and_manifest():
    page = home_screen.link_page(STREAMLIT_PAGE, "3")
    assert "<title>cxlog</title>" in page and "Streamlit" not in page
    assert '<link rel="shortcut icon" href="/app/favicon-32.png" />' in page
    head = page.split("</head>")[0]
    for tag in (
        '<link rel="manifest" href="/app/manifest.webmanifest?store=3" />',
        '<link rel="icon" type="image/png" sizes="32x32" href="/app/favicon-32.png" />',
        '<link rel="apple-touch-icon" sizes="180x180" href="/app/apple-touch-icon.png" />',
        '<meta name="theme-color" content="#0f766e" />',
        '<meta name="apple-mobile-web-app-capable" content="yes" />',
    ):
        assert tag in head
    # The worker only over HTTPS (plain HTTP allows none, and localhost is
    # never a store device's address).
    assert 'location.protocol === "https:"' in head and "/sw.js" in head
    assert '<link rel="manifest" href="/app/manifest.webmanifest" />' in (
        home_screen.link_page(STREAMLIT_PAGE, None)
    )


@pytest.mark.parametrize(
    ("query", "store"),
    [
        ("store=3", "3"),
        (b"store=12&lang=de", "12"),
        ("store=0", None),
        ("store=03", None),
        ("store=abc", None),
        ("store=%22%3E%3Cscript%3E", None),
        ("store=1234567890", None),
        ("", None),
    ],
)
def test_only_a_store_id_rides_along_to_the_manifest(query, store):
    assert home_screen.store_of(query) == store


def streamlit_stand_in(body: bytes, content_type: bytes = b"text/html; charset=utf-8"):
    """What Streamlit would answer, and the request headers it saw."""
    seen = {}

    async def app(scope, receive, send):
        seen.update({k: v for k, v in scope["headers"]})
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"etag", b'"streamlit"'),
            (b"cache-control", b"no-cache"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body[:100], "more_body": True})
        await send({"type": "http.response.body", "body": body[100:]})

    return home_screen.PageTags(app), seen


def test_page_tags_rewrite_a_pages_html_and_its_length():
    app, seen = streamlit_stand_in(STREAMLIT_PAGE.encode())
    sent = {"accept-encoding": "gzip", "if-none-match": '"streamlit"', "accept-language": "de"}
    status, headers, body = asgi.request(app, "GET", "/dashboard", headers=sent)
    assert status == 200 and int(headers["content-length"]) == len(body)
    assert b"<title>cxlog</title>" in body and b'rel="manifest"' in body
    # Uncompressed and never "not modified": the answer is the page rewritten.
    assert b"accept-encoding" not in seen and b"if-none-match" not in seen
    assert seen[b"accept-language"] == b"de"
    assert "etag" not in headers and headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", b"application/json"),
        ("/api/v1/health", b"text/html"),
        ("/app/offline.html", b"text/html"),
        ("/_stcore/health", b"text/html"),
        ("/static/js/index.js", b"text/javascript"),
    ],
)
def test_page_tags_leave_everything_else_alone(path, content_type):
    app, _seen = streamlit_stand_in(STREAMLIT_PAGE.encode(), content_type)
    status, headers, body = asgi.request(app, "GET", path, headers={"accept-encoding": "gzip"})
    assert status == 200 and body == STREAMLIT_PAGE.encode() and headers["etag"] == '"streamlit"'


def files_app() -> Starlette:
    return Starlette(routes=home_screen.ROUTES)


@pytest.mark.parametrize(
    ("headers", "lang"),
    [
        ({}, "en"),
        ({"accept-language": "fr-CH, fr;q=0.9, en;q=0.8"}, "fr"),
        ({"accept-language": "nl, de;q=0.5, es;q=0.7"}, "es"),
        ({"accept-language": "es;q=0, de;q=0.2"}, "de"),
        ({"accept-language": "de", "cookie": f"{words.DEVICE_COOKIE}=fr"}, "fr"),
        ({"accept-language": "q=;;,,"}, "en"),
    ],
)
def test_the_manifest_speaks_the_devices_language(headers, lang):
    status, answer, body = asgi.request(
        files_app(), "GET", "/app/manifest.webmanifest", headers=headers
    )
    assert status == 200 and answer["content-type"] == "application/manifest+json"
    assert json.loads(body)["lang"] == lang


def test_the_manifest_opens_the_log_page_of_a_joined_store():
    manifest = home_screen.manifest_data("7")
    assert manifest["start_url"] == "/?store=7" and manifest["scope"] == "/"
    assert manifest["id"] == "/"  # one app, whichever store's page added it
    assert home_screen.manifest_data(None)["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}


def test_every_icon_is_a_png_of_its_size():
    for name, (size, _purpose) in home_screen.ICONS.items():
        status, headers, body = asgi.request(files_app(), "GET", f"/app/{name}")
        assert (status, headers["content-type"]) == (200, "image/png")
        assert png_size(body) == (size, size), name


def test_the_committed_icons_are_what_the_script_draws():
    for name in ("favicon-32.png", "icon-192.png"):
        size, corner, scale = app_icons.ICONS[name]
        drawn = app_icons.png(size, app_icons.draw(size, corner=corner, scale=scale))
        assert drawn == (home_screen.FILES / name).read_bytes(), name


def test_the_offline_page_and_the_worker():
    for lang in words.LANGUAGES:
        with words.using("de"):  # the request's language wins over the current one
            page = home_screen.offline_page(lang)
        assert f'<html lang="{lang}">' in page and "{{" not in page
        assert '<script type="module" src="/app/offline.js">' in page
    status, headers, body = asgi.request(files_app(), "GET", "/sw.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert headers["cache-control"] == "no-cache"
    version = re.search(rb'const VERSION = "([0-9a-f]{16})";', body)
    assert version and version.group(1).decode() == home_screen.version()
    for name in home_screen.KEPT:  # everything the worker keeps is served
        assert f'"/app/{name}"'.encode() in body
        assert asgi.request(files_app(), "GET", f"/app/{name}")[0] == 200
