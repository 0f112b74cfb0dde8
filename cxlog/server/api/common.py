"""What every API route shares: one-sentence errors, bounded JSON bodies and a
same-origin check.

A request from another site (a page on the internet that a tablet's browser
happens to show) must not be able to act with the device's cookies, so every
state-changing route calls ``check_origin`` before anything else.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from cxlog.access import limits, shifts
from cxlog.core.errors import CxlogError, NotFoundError, ShiftError, StorageError, ValidationError
from cxlog.storage.db import Storage

log = logging.getLogger("cxlog.server.api")

# A batch of taps is a few kilobytes; anything far larger is a mistake or abuse.
MAX_BODY_BYTES = 256 * 1024


class ApiError(Exception):
    """A request the API refuses: an HTTP status and one sentence for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
        raise ApiError(403, "This request came from another site and was refused.")


def client_address(request: Request) -> str | None:
    """The address the request came from, as the server sees it (uvicorn
    takes X-Forwarded-For only from a proxy on this machine): what rate
    limits are keyed by, never an id the client chose."""
    return request.client.host if request.client else None


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
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise ApiError(413, f"The request is too large (at most {max_bytes // 1024} KB).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, f"The request is too large (at most {max_bytes // 1024} KB).")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "The request is not valid JSON.") from None
    except (RecursionError, ValueError):
        # Issue #25: thousands of nested brackets, or a number past Python's
        # digit limit, are not a request any device sends.
        raise ApiError(400, "The request is not JSON this server can read.") from None


def guarded(handler: Callable) -> Callable:
    """Wrap a route so every failure is a status and one sentence: an
    ApiError as it says, a storage fault 503, something that does not exist
    404, a rate limit 429, refused input 422, another named error 400, anything
    else 500 with the details only in the server's log, never a traceback
    in the answer. A plain ``def`` handler still runs in a worker thread."""

    @functools.wraps(handler)
    async def route(request: Request) -> JSONResponse:
        try:
            if inspect.iscoroutinefunction(handler):
                return await handler(request)
            return await run_in_threadpool(handler, request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        except StorageError as exc:
            return error_response(503, str(exc))
        except NotFoundError as exc:
            return error_response(404, str(exc))
        except limits.RateLimited as exc:
            return error_response(429, str(exc))
        except ValidationError as exc:
            return error_response(422, str(exc))
        except CxlogError as exc:
            return error_response(400, str(exc))
        except Exception:
            log.exception("API route %s failed", request.url.path)
            return error_response(
                500, "The server could not handle this; taps stay on the device and are sent again."
            )

    return route
