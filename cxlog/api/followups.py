"""Follow-ups and return visits over JSON, for the Log page's tap pad (issue #15).

    GET  /api/v1/followups                      the associate's store's list
    POST /api/v1/followups                      {"visit_id", "due", "channel"}
    POST /api/v1/followups/{id}/result          {"result", "retry"?, "units"?, "amount_cents"?}
    POST /api/v1/followups/{id}/snooze          {"until"}
    POST /api/v1/visits/{visit_id}/return       {"code"}

Every call names its associate by the device's shift cookie (the same check as
the taps route); a refused request answers one sentence and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog import followups
from cxlog.api.common import ApiError, check_origin, error_response, read_json, shift_of
from cxlog.db import default_path, shared_storage
from cxlog.errors import NotFoundError, StorageError, ValidationError
from cxlog.model import utc_now

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
    return shared_storage(default_path())


def _associate(request: Request) -> dict:
    """The associate on shift on the requesting device (401 with why, if none)."""
    return shift_of(_storage(), request)


def _item(row: dict) -> dict:
    return {k: row.get(k) for k in _ITEM_FIELDS}


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "The request must be a JSON object.")
    return body


def _answer(work: Callable[[], tuple[int, dict]]) -> JSONResponse:
    """Run a domain call and turn its named errors into one-sentence answers."""
    try:
        status, payload = work()
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    except NotFoundError as exc:
        return error_response(404, str(exc))
    except ValidationError as exc:
        return error_response(422, str(exc))
    except StorageError as exc:
        return error_response(503, str(exc))
    return JSONResponse(payload, status_code=status)


async def _body(request: Request) -> dict | JSONResponse:
    try:
        check_origin(request)
        return _object(await read_json(request))
    except ApiError as exc:
        return error_response(exc.status, exc.message)


def list_followups(request: Request) -> JSONResponse:
    def work() -> tuple[int, dict]:
        me = _associate(request)
        sections = followups.followup_list(_storage(), me["store_id"])
        return 200, {
            "local_date": followups.local_day(me["timezone"], utc_now()).isoformat(),
            **{k: [_item(r) for r in rows] for k, rows in sections.items()},
        }

    return _answer(work)


# The writes read the body asynchronously, then run the SQLite work in a
# worker thread: the event loop that carries every tablet's websocket never
# waits on the database.


async def create_followup(request: Request) -> JSONResponse:
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body

    def work() -> tuple[int, dict]:
        me = _associate(request)
        item, created = followups.promise(
            _storage(),
            body.get("visit_id"),
            body.get("due"),
            body.get("channel"),
            associate_id=me["id"],
        )
        return (201 if created else 200), {**_item(item), "created": created}

    return await to_thread.run_sync(_answer, work)


async def record_result(request: Request) -> JSONResponse:
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body

    def work() -> tuple[int, dict]:
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
        return 200, _item(item)

    return await to_thread.run_sync(_answer, work)


async def snooze(request: Request) -> JSONResponse:
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body

    def work() -> tuple[int, dict]:
        me = _associate(request)
        item = followups.snooze(
            _storage(),
            request.path_params["followup_id"],
            body.get("until"),
            associate_id=me["id"],
        )
        return 200, _item(item)

    return await to_thread.run_sync(_answer, work)


async def mark_return(request: Request) -> JSONResponse:
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body

    def work() -> tuple[int, dict]:
        me = _associate(request)
        link = followups.mark_return(
            _storage(), request.path_params["visit_id"], body.get("code"), associate_id=me["id"]
        )
        return (201 if link["created"] else 200), link

    return await to_thread.run_sync(_answer, work)


ROUTES = [
    Route("/api/v1/followups", list_followups, methods=["GET"]),
    Route("/api/v1/followups", create_followup, methods=["POST"]),
    Route("/api/v1/followups/{followup_id:int}/result", record_result, methods=["POST"]),
    Route("/api/v1/followups/{followup_id:int}/snooze", snooze, methods=["POST"]),
    Route("/api/v1/visits/{visit_id}/return", mark_return, methods=["POST"]),
]
