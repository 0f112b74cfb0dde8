"""POST /api/v1/shifts starts an associate's shift on this device; DELETE ends
it ("Not you?"). The shift lives in an HttpOnly, SameSite=Strict cookie the
page's scripts cannot read (issue #11: it used to ride in the URL).

Streamlit reads cookies only when a page loads (``st.context.cookies``), so
the pad reloads the page after either call.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog.access import access, limits, shifts
from cxlog.core import routes
from cxlog.core.errors import ValidationError
from cxlog.language.words import _
from cxlog.server.api.common import (
    ApiError,
    check_origin,
    client_address,
    guarded,
    in_thread,
    read_json,
)
from cxlog.storage.db import shared_storage

MAX_SIGN_IN_BYTES = 1024


def set_cookie(response: JSONResponse, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _start(body: object, device: str, address: str | None, sent_device: str | None) -> dict:
    if not isinstance(body, dict) or set(body) - {"associate_id", "pin"}:
        raise ApiError(400, _("Send associate_id and, if the store asks for one, pin."))
    associate_id = body.get("associate_id")
    if isinstance(associate_id, bool) or not isinstance(associate_id, int):
        raise ApiError(400, _("Pick your name from the list."))
    storage = shared_storage()
    try:
        if access.pin_asked(storage, associate_id):
            # The same 5-tries lockout as every PIN entry.
            access.check_associate_pin(
                storage, associate_id, body.get("pin"), client=address, device=sent_device
            )
        cookie = shifts.start(storage, associate_id, device, address=address)
    except limits.RateLimited as exc:
        raise ApiError(429, str(exc)) from None
    except ValidationError as exc:
        raise ApiError(403, str(exc)) from None
    return {"cookie": cookie, "associate": shifts.check(storage, cookie)}


@guarded
async def start_shift(request: Request) -> JSONResponse:
    check_origin(request)
    body = await read_json(request, MAX_SIGN_IN_BYTES)
    sent = shifts.device_id(request.cookies.get(shifts.DEVICE_COOKIE))
    device = sent or shifts.new_device_id()
    started = await in_thread(request, _start, body, device, client_address(request), sent)
    who = started["associate"]
    response = JSONResponse({"ok": True, "name": who["name"], "store": who["store_name"]})
    age = int(shifts.SHIFT_LENGTH.total_seconds())
    set_cookie(response, request, shifts.SHIFT_COOKIE, started["cookie"], age)
    set_cookie(response, request, shifts.DEVICE_COOKIE, device, shifts.DEVICE_COOKIE_DAYS * 86400)
    return response


@guarded
def end_shift(request: Request) -> JSONResponse:
    check_origin(request)
    shifts.end(shared_storage(), request.cookies.get(shifts.SHIFT_COOKIE))
    response = JSONResponse({"ok": True})
    response.delete_cookie(shifts.SHIFT_COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [
    Route(routes.api("/shifts"), start_shift, methods=["POST"]),
    Route(routes.api("/shifts"), end_shift, methods=["DELETE"]),
]
