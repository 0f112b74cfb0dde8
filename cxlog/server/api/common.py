"""What every API route shares: one-sentence errors, bounded JSON bodies and a
same-origin check.

A request from another site (a page on the internet that a tablet's browser
happens to show) must not be able to act with the device's cookies, so every
state-changing route calls ``check_origin`` before anything else.

Issue #29: every route answers in the language of its request
(``language_of``: the device's own choice, else the store's, else the
browser's, else English), the same order as the pages. ``guarded`` runs a
plain handler in that language; an ``async`` handler reads its body first and
does its work through ``in_thread``, which reads the language (the database
is never read on the event loop).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cxlog.access import limits, shifts
from cxlog.core.errors import CxlogError, NotFoundError, ShiftError, StorageError, ValidationError
from cxlog.language import words
from cxlog.language.words import N_, _
from cxlog.storage import settings
from cxlog.storage.db import Storage, shared_storage

log = logging.getLogger("cxlog.server.api")

# A batch of taps is a few kilobytes; anything far larger is a mistake or abuse.
MAX_BODY_BYTES = 256 * 1024
# An Accept-Language header's first languages are enough to choose from.
MAX_HEARD = 20
T = TypeVar("T")


class ApiError(Exception):
    """A request the API refuses: an HTTP status and one sentence for the
    person, written in the request's language (``message``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self._message = message
        self._params: dict[str, object] | None = None

    @classmethod
    def later(cls, status: int, message: str, **params: object) -> ApiError:
        """A refusal whose sentence (marked with ``N_``, placeholders filled
        from ``params``) is written when it is answered: one raised on the
        event loop, before the request's language is known."""
        made = cls(status, message)
        made._params = params
        return made

    @property
    def message(self) -> str:
        if self._params is None:
            return self._message
        return _(self._message).format(**self._params)


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def check_origin(request: Request) -> None:
    """Refuse a browser request sent by a page of another origin.

    Browsers send ``Origin`` on every cross-site POST; a same-origin fetch sends
    the server's own scheme, host and port. A request without ``Origin`` (curl,
    a script on the server) has no ambient cookies to abuse and is let through.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    if parts.netloc.lower() != host.lower() or parts.scheme not in ("http", "https"):
        raise ApiError.later(403, N_("This request came from another site and was refused."))


def client_address(request: Request) -> str | None:
    """The address the request came from, as the server sees it (uvicorn
    takes X-Forwarded-For only from a proxy on this machine): what rate
    limits are keyed by, never an id the client chose."""
    return request.client.host if request.client else None


def heard_language(header: str | None) -> str | None:
    """The language cxlog speaks that an Accept-Language header ranks first
    ("fr-CH, fr;q=0.9, en;q=0.8" → "fr"), or None."""
    ranked: list[tuple[float, int, str]] = []
    for place, part in enumerate((header or "").split(",")[:MAX_HEARD]):
        tag, *params = part.split(";")
        weight = 1.0
        for param in params:
            name, _sign, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        lang = words.supported(tag)
        if lang is not None and weight > 0:
            ranked.append((-weight, place, lang))
    return min(ranked)[2] if ranked else None


def _shift_store(request: Request) -> int | None:
    """The store named by the request's shift cookie ("<store id>.<token>"),
    unchecked: it only chooses the language of the answer; the route checks
    the shift itself."""
    cookie = request.cookies.get(shifts.SHIFT_COOKIE) or ""
    store, dot, _token = cookie.partition(".")
    return int(store) if dot and store.isdigit() and len(store) <= 9 else None


def fixed_language(request: Request, storage: Storage, store_id: int | None) -> str | None:
    """The language fixed for ``store_id`` (its own, else the chain's; None
    for the chain's alone), or None: read once per request, on the worker
    thread's kept connection (a request that then serves a tap opens none)."""
    known: dict = getattr(request.state, "cxlog_fixed", None) or {}
    if store_id not in known:
        with storage.one_connection(keep=True):
            known[store_id] = settings.store_language(storage, store_id)
        request.state.cxlog_fixed = known
    return known[store_id]


def language_of(request: Request, storage: Storage | None = None) -> str:
    """The language the API answers ``request`` in, the first that applies:

    1. the device's own choice (the ``words.DEVICE_COOKIE`` cookie);
    2. the language fixed for the store of the device's shift (the store's
       own, else the chain's); without a shift, the chain's;
    3. the browser's Accept-Language, its first that cxlog speaks;
    4. English.

    The pages' order (cxlog/web/language_ui.py). Step 2 reads the database,
    so call this on a worker thread; a database in trouble skips it (the
    route answers with why). Remembered for the rest of the request."""
    chosen = getattr(request.state, "cxlog_language", None)
    if chosen is not None:
        return chosen
    chosen = words.supported(request.cookies.get(words.DEVICE_COOKIE))
    if chosen is None:
        try:
            chosen = fixed_language(request, storage or shared_storage(), _shift_store(request))
        except Exception:  # the answer says what is wrong; its language is no reason to fail
            log.debug("No store language for %s", request.url.path, exc_info=True)
            chosen = None
    chosen = chosen or heard_language(request.headers.get("accept-language")) or words.ENGLISH
    request.state.cxlog_language = chosen
    return chosen


async def in_thread(request: Request, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on a worker thread, in the request's language (read
    there, and only if a word is written). An ``async`` handler calls it after
    reading its body."""

    def speaking() -> T:
        with words.using_later(lambda: language_of(request)):
            return work(*args)

    return await run_in_threadpool(speaking)


def shift_of(storage: Storage, request: Request) -> dict:
    """The associate on shift on the device that sent ``request``, read from
    the HttpOnly shift cookie (cxlog/access/shifts.py), or a 401 saying why not."""
    try:
        return shifts.check(
            storage,
            request.cookies.get(shifts.SHIFT_COOKIE),
            device=request.cookies.get(shifts.DEVICE_COOKIE),
        )
    except ShiftError as exc:
        raise ApiError(401, str(exc)) from None


async def read_json(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body, refused whole if too large or not JSON."""
    too_large = ApiError.later(
        413, N_("The request is too large (at most {kb} KB)."), kb=max_bytes // 1024
    )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError.later(400, N_("The request is not valid JSON.")) from None
    except (RecursionError, ValueError):
        # Issue #25: thousands of nested brackets, or a number past Python's
        # digit limit, are not a request any device sends.
        raise ApiError.later(400, N_("The request is not JSON this server can read.")) from None


def refusal(request: Request, exc: Exception) -> JSONResponse:
    """A failure as a status and one sentence (``guarded``), in the current
    language: the request's, inside ``guarded``."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, StorageError):
        return error_response(503, str(exc))
    if isinstance(exc, NotFoundError):
        return error_response(404, str(exc))
    if isinstance(exc, limits.RateLimited):
        return error_response(429, str(exc))
    if isinstance(exc, ValidationError):
        return error_response(422, str(exc))
    if isinstance(exc, CxlogError):
        return error_response(400, str(exc))
    log.error("API route %s failed", request.url.path, exc_info=exc)
    return error_response(
        500, _("The server could not handle this; taps stay on the device and are sent again.")
    )


def guarded(handler: Callable) -> Callable:
    """Wrap a route so it answers in the request's language (``language_of``)
    and every failure is a status and one sentence: an ApiError as it says, a
    storage fault 503, something that does not exist 404, a rate limit 429,
    refused input 422, another named error 400, anything else 500 with the
    details only in the server's log, never a traceback in the answer.

    A plain ``def`` handler runs in a worker thread, in the language. An
    ``async`` one reads its body before any other await (a body left waiting
    while a worker thread ran was sometimes lost), so it does its work
    through ``in_thread``; its refusals raised before are written once the
    language is read (``ApiError.later``)."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                failed = exc
            lang = await run_in_threadpool(language_of, request)
            with words.using(lang):
                return refusal(request, failed)

        return route

    def answer(request: Request) -> Response:
        # Read only if the answer has words: a saved tap costs no extra read.
        with words.using_later(lambda: language_of(request)):
            try:
                return handler(request)
            except Exception as exc:
                return refusal(request, exc)

    @functools.wraps(handler)
    async def plain_route(request: Request) -> Response:
        return await run_in_threadpool(answer, request)

    return plain_route
