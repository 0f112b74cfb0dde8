"""POST /api/v1/sessions/claim: trade a sign-in's one-time claim code for the
session cookie (cxlog/access/sessions.py explains why the page cannot set it).

The cookie is HttpOnly (page scripts cannot read it), SameSite=Strict (no other
site's page sends it) and Secure when the page came over HTTPS.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog.access import accounts, lockout, sessions, shifts
from cxlog.core import routes
from cxlog.language.words import N_
from cxlog.server.api.common import ApiError, check_origin, guarded, in_thread, read_json
from cxlog.storage.db import shared_storage


def is_https(request: Request) -> bool:
    """Served over HTTPS: directly (server.sslCertFile), or by a reverse proxy
    on this machine that says so."""
    if request.url.scheme == "https":
        return True
    client = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return client in ("127.0.0.1", "::1") and forwarded.lower() == "https"


@guarded
async def claim(request: Request) -> JSONResponse:
    # A refusal (another site, a body too large, a storage fault: 503) is
    # one sentence in the request's language (common.guarded).
    check_origin(request)
    body = await read_json(request, max_bytes=1024)
    code = body.get("claim") if isinstance(body, dict) else None
    # SQLite in a worker thread: never block the loop that carries the websockets.
    # The browser's device cookie, or a new one: the account signed in on this
    # device, which keeps its way in when strangers fail elsewhere (#25).
    device = shifts.device_id(request.cookies.get(shifts.DEVICE_COOKIE)) or shifts.new_device_id()

    def trade() -> str | None:
        storage = shared_storage()
        token = sessions.claim(storage, code)
        if token is not None:
            account = sessions.check(storage, token).account
            if account is not None:
                lockout.remember(storage, accounts.who(account.login), device)
        return token

    token = await in_thread(request, trade)
    if token is None:
        raise ApiError.later(403, N_("That sign-in has expired; sign in again."))
    response = JSONResponse({"ok": True})
    response.set_cookie(
        shifts.DEVICE_COOKIE,
        device,
        max_age=shifts.DEVICE_COOKIE_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=sessions.COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


ROUTES = [Route(routes.api("/sessions/claim"), claim, methods=["POST"])]
