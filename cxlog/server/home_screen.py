"""cxlog as an app on the home screen (issue #29): the web app manifest, its
icons, the service worker and the offline pad, served beside Streamlit, and
the tags that link them from every page.

Streamlit's page has no manifest and calls itself "Streamlit": ``PageTags``
rewrites the HTML it serves for a page (the title, the icons, the manifest,
theme-color) and, on HTTPS only, registers the service worker (/sw.js, so its
scope is the whole site, the Log page "/" included). The worker keeps the
offline pad (cxlog/web/app_files/offline.html and offline.js, which mount
cxlog/web/pad/pad.js with the last data the pad saved on the device), and
answers a page load that cannot reach the server with it: taps go to the
outbox as always, and the page comes back when the server does.

Streamlit owns /_stcore/, /media/, /component/, /static/ and /app/static/;
these files live under /app/ (never /app/static/). They are the web wing's
files, read from its folders (the server imports nothing from cxlog.web).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlog.language import words
from cxlog.language.words import _

WEB = Path(__file__).resolve().parents[1] / "web"
FILES = WEB / "app_files"
PAD = WEB / "pad"
PREFIX = "/app"
WORKER = "/sw.js"
MANIFEST = f"{PREFIX}/manifest.webmanifest"
FAVICON = f"{PREFIX}/favicon-32.png"
APPLE_ICON = f"{PREFIX}/apple-touch-icon.png"
# .streamlit/config.toml's primaryColor: the bar of an installed app.
THEME_COLOR = "#0f766e"
BACKGROUND_COLOR = "#ffffff"
# The PNG files bench/app_icons.py drew: name -> (size, purpose).
ICONS = {
    "icon-192.png": (192, "any"),
    "icon-512.png": (512, "any"),
    "icon-maskable-512.png": (512, "maskable"),
    "apple-touch-icon.png": (180, "apple-touch-icon"),
    "favicon-32.png": (32, "favicon"),
}
# Our files the worker keeps for the offline pad (the version below changes
# with any of them, and so does /sw.js: browsers then install it again).
KEPT = {
    "offline.html": (FILES, "text/html; charset=utf-8"),
    "offline.js": (FILES, "text/javascript; charset=utf-8"),
    "pad.js": (PAD, "text/javascript; charset=utf-8"),
    "pad.css": (PAD, "text/css; charset=utf-8"),
}
# Paths whose HTML is never a page of the app (Streamlit's own routes, ours).
NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/api/", f"{PREFIX}/", WORKER)
# A store's id as the join QR code puts it in the address (cxlog/access/join.py).
STORE_ID = re.compile(r"[1-9][0-9]{0,8}")


def store_of(query: str | bytes) -> str | None:
    """The ``store`` of a Log page address joined by a store's QR code
    (``/?store=3``), when it is a store id; else None."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    values = parse_qs(text).get("store") or [""]
    return values[0] if STORE_ID.fullmatch(values[0]) else None


def request_language(request: Request) -> str:
    """The language for one of these files: the device's own choice (its
    cookie), else the first of the browser's languages cxlog speaks."""
    own = words.supported(request.cookies.get(words.DEVICE_COOKIE))
    if own:
        return own
    ranked = []
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if words.supported(tag) and weight > 0:
            ranked.append((-weight, order, words.supported(tag)))
    return min(ranked)[2] if ranked else words.ENGLISH


def manifest_data(store: str | None, lang: str = words.ENGLISH) -> dict:
    """The web app manifest: the Log page ("/", or the store's page a device
    was joined to) opens full-screen from the home screen."""
    start = f"/?store={store}" if store else "/"
    return {
        "id": "/",
        "name": "cxlog",
        "short_name": "cxlog",
        "lang": lang,
        "dir": "ltr",
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {
                "src": f"{PREFIX}/{name}",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for name, (size, purpose) in ICONS.items()
            if purpose in ("any", "maskable")
        ],
    }


def head_tags(store: str | None) -> str:
    """What every page's <head> gains: the manifest (keeping a joined
    store), icons, theme colour, and the worker's registration over HTTPS
    (plain HTTP allows no service worker; localhost would, but a store's
    devices never use it, so neither does cxlog)."""
    manifest = MANIFEST + (f"?store={store}" if store else "")
    return (
        f'<link rel="manifest" href="{html.escape(manifest)}" />'
        f'<link rel="icon" type="image/png" sizes="32x32" href="{FAVICON}" />'
        f'<link rel="apple-touch-icon" sizes="180x180" href="{APPLE_ICON}" />'
        f'<meta name="theme-color" content="{THEME_COLOR}" />'
        '<meta name="mobile-web-app-capable" content="yes" />'
        '<meta name="apple-mobile-web-app-capable" content="yes" />'
        '<meta name="apple-mobile-web-app-title" content="cxlog" />'
        '<meta name="application-name" content="cxlog" />'
        "<script>"
        'if (location.protocol === "https:" && window.isSecureContext'
        ' && "serviceWorker" in navigator) {'
        f' navigator.serviceWorker.register("{WORKER}", {{ scope: "/" }})'
        '.catch((e) => console.warn("cxlog: no offline pad:", e && e.message)); }'
        "</script>"
    )


def link_page(page: str, store: str | None) -> str:
    """Streamlit's page HTML with cxlog's title, icons and manifest."""
    page = re.sub(r"<title>.*?</title>", "<title>cxlog</title>", page, count=1, flags=re.S)
    # Streamlit's script sets this link's href to the page's icon (app.py).
    page = re.sub(
        r"<link\s+rel=\"shortcut icon\"[^>]*>",
        f'<link rel="shortcut icon" href="{FAVICON}" />',
        page,
        count=1,
    )
    return page.replace("</head>", head_tags(store) + "</head>", 1)


def is_page_path(path: str) -> bool:
    return not path.startswith(NOT_PAGES)


# What a browser sends that would keep the page from being rewritten: a
# compressed answer, or "not modified" for a copy cached before.
_UNWANTED = {b"accept-encoding", b"if-none-match", b"if-modified-since"}
# Headers of Streamlit's answer that no longer describe the rewritten page.
_STALE = {b"content-length", b"etag", b"last-modified"}


class PageTags:
    """ASGI middleware: the HTML Streamlit serves for a page gets
    ``link_page``'s tags, with its content-length set again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not is_page_path(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        scope = {
            **scope,
            "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _UNWANTED],
        }
        store = store_of(scope.get("query_string", b""))
        held: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                page = headers.get(b"content-type", b"").startswith(b"text/html")
                if message.get("status") == 200 and page and b"content-encoding" not in headers:
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = link_page(body.decode("utf-8"), store).encode("utf-8")
                headers = [(k, v) for k, v in held.get("headers", []) if k.lower() not in _STALE]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, rewrite)


# --- the files ----------------------------------------------------------------


def _no_cache(body: bytes | str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})


def manifest(request: Request) -> Response:
    data = manifest_data(store_of(request.url.query), request_language(request))
    return _no_cache(json.dumps(data, ensure_ascii=False), "application/manifest+json")


def icon(name: str) -> Response:
    # A day: an icon changes only with a new mark (bench/app_icons.py).
    return Response(
        (FILES / name).read_bytes(),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def offline_page(lang: str) -> str:
    """The offline pad's page in ``lang``: the one sentence it says when it
    has no pad to show (the pad's own words come with its saved data)."""
    with words.using(lang):
        waiting = _(
            "cxlog cannot reach the server. This page opens by itself as soon as the server"
            " answers."
        )
    template = (FILES / "offline.html").read_text(encoding="utf-8")
    return template.replace("{{lang}}", html.escape(lang)).replace(
        "{{waiting}}", html.escape(waiting)
    )


def kept_file(request: Request, name: str) -> Response:
    if name == "offline.html":
        return _no_cache(offline_page(request_language(request)), KEPT[name][1])
    folder, media_type = KEPT[name]
    return _no_cache((folder / name).read_bytes(), media_type)


def version() -> str:
    """A digest of everything the worker keeps: a new cxlog's pad makes a
    new /sw.js, which browsers install in place of the old one."""
    digest = hashlib.sha256()
    for folder, name in [(FILES, "sw.js"), *((f, n) for n, (f, _t) in KEPT.items())]:
        digest.update((folder / name).read_bytes())
    for name in ICONS:
        digest.update((FILES / name).read_bytes())
    return digest.hexdigest()[:16]


def worker(request: Request) -> Response:
    script = (FILES / "sw.js").read_text(encoding="utf-8").replace("{{version}}", version())
    return _no_cache(script, "text/javascript; charset=utf-8")


def _serving(name: str) -> Callable[[Request], Response]:
    """The handler of one file (a plain def: Starlette reads it in a thread)."""

    def serve(request: Request) -> Response:
        return icon(name) if name in ICONS else kept_file(request, name)

    return serve


ROUTES = [
    Route(MANIFEST, manifest, methods=["GET"]),
    *[Route(f"{PREFIX}/{name}", _serving(name), methods=["GET"]) for name in [*ICONS, *KEPT]],
    Route(WORKER, worker, methods=["GET"]),
]
