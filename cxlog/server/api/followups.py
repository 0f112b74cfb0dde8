"""Follow-ups and return visits over JSON, for the Log page's tap pad (issue #15).

    GET  /api/v1/followups                      the associate's store's list
    POST /api/v1/followups                      {"visit_id", "due", "channel"}
    POST /api/v1/followups/{id}/result          {"result", "retry"?, "units"?, "amount_cents"?}
    POST /api/v1/followups/{id}/snooze          {"until"}
    POST /api/v1/visits/{visit_id}/return       {"code"}

Every call names its associate by the device's shift cookie (the same check as
the taps route); a refused request answers one sentence (api.common.guarded)
and changes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog.calendar import localday
from cxlog.core import routes
from cxlog.core.model import utc_now
from cxlog.followups import followups
from cxlog.language.words import N_
from cxlog.server.api.common import (
    ApiError,
    check_origin,
    client_address,
    guarded,
    in_thread,
    read_json,
    shift_of,
)
from cxlog.storage.db import shared_storage

_ITEM_FIELDS = (
    "id",
    "code",
    "visit_id",
    "channel",
    "due_on",
    "promised_due_on",
    "promised_on",
    "promised_by_name",
    "first_engagement",
    "reason_name",
    "outcome",
    "result",
    "result_on",
    "result_by_name",
    "attempts",
    "snoozes",
    "units",
    "amount_cents",
    "return_visit_id",
)


def _storage():
    return shared_storage()


def _associate(request: Request) -> dict:
    """The associate on shift on the requesting device (401 with why, if none)."""
    return shift_of(_storage(), request)


def _item(row: dict) -> dict:
    return {k: row.get(k) for k in _ITEM_FIELDS}


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError.later(400, N_("The request must be a JSON object."))
    return body


async def _body(request: Request) -> dict:
    check_origin(request)
    return _object(await read_json(request))


@guarded
def list_followups(request: Request) -> JSONResponse:
    me = _associate(request)
    sections = followups.followup_list(_storage(), me["store_id"])
    return JSONResponse(
        {
            "local_date": localday.today(me["timezone"], utc_now()).isoformat(),
            **{k: [_item(r) for r in rows] for k, rows in sections.items()},
        }
    )


# The writes read the body asynchronously, then run the SQLite work in a
# worker thread, in the request's language (common.in_thread): the event
# loop that carries every tablet's websocket never waits on the database.


@guarded
async def create_followup(request: Request) -> JSONResponse:
    body = await _body(request)

    def work() -> JSONResponse:
        me = _associate(request)
        item, created = followups.promise(
            _storage(),
            body.get("visit_id"),
            body.get("due"),
            body.get("channel"),
            associate_id=me["id"],
        )
        return JSONResponse(
            {**_item(item), "created": created}, status_code=201 if created else 200
        )

    return await in_thread(request, work)


@guarded
async def record_result(request: Request) -> JSONResponse:
    body = await _body(request)

    def work() -> JSONResponse:
        me = _associate(request)
        item = followups.record_result(
            _storage(),
            request.path_params["followup_id"],
            body.get("result"),
            associate_id=me["id"],
            retry=body.get("retry", followups.TOMORROW),
            units=body.get("units"),
            amount_cents=body.get("amount_cents"),
        )
        return JSONResponse(_item(item))

    return await in_thread(request, work)


@guarded
async def snooze(request: Request) -> JSONResponse:
    body = await _body(request)

    def work() -> JSONResponse:
        me = _associate(request)
        item = followups.snooze(
            _storage(),
            request.path_params["followup_id"],
            body.get("until"),
            associate_id=me["id"],
        )
        return JSONResponse(_item(item))

    return await in_thread(request, work)


@guarded
async def mark_return(request: Request) -> JSONResponse:
    body = await _body(request)

    def work() -> JSONResponse:
        me = _associate(request)
        link = followups.mark_return(
            _storage(),
            request.path_params["visit_id"],
            body.get("code"),
            associate_id=me["id"],
            address=client_address(request),
        )
        return JSONResponse(link, status_code=201 if link["created"] else 200)

    return await in_thread(request, work)


ROUTES = [
    Route(routes.api("/followups"), list_followups, methods=["GET"]),
    Route(routes.api("/followups"), create_followup, methods=["POST"]),
    Route(routes.api("/followups/{followup_id:int}/result"), record_result, methods=["POST"]),
    Route(routes.api("/followups/{followup_id:int}/snooze"), snooze, methods=["POST"]),
    Route(routes.api("/visits/{visit_id}/return"), mark_return, methods=["POST"]),
]
