"""The tap pad's API (issue #10).

- ``POST /api/v1/taps``: a batch from a device's outbox, applied once per tap
  id and in order (cxlog/visits/taps.py); answers each tap and the resulting state of
  every visit it touched.
- ``GET /api/v1/open-visits?since=<version>``: the board (open visits and
  today's closed ones) only when it changed since the version the pad has;
  a cheap read that replaces a Streamlit script rerun per tablet. Every
  answer carries ``lang``, the language fixed for the store (its own, else
  the chain's) or null: the pad notices a change of it (issue #29).

Both need the device's shift cookie, checked again on every call: an ended
or expired shift is refused with a sentence (401).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog.core import routes
from cxlog.server.api.common import (
    ApiError,
    check_origin,
    client_address,
    fixed_language,
    guarded,
    in_thread,
    read_json,
    shift_of,
)
from cxlog.storage.db import shared_storage
from cxlog.visits import taps

# A full batch of MAX_BATCH taps is about 30 KB.
MAX_TAPS_BYTES = 64 * 1024


def _apply(request: Request, body: object) -> dict:
    storage = shared_storage()
    # One connection for the shift check, the batch and the answer, kept for
    # this worker thread's next request.
    with storage.one_connection(keep=True):
        shift = shift_of(storage, request)
        try:
            return taps.apply_batch(storage, shift, body, address=client_address(request))
        except taps.BatchError as exc:
            raise ApiError(exc.status, str(exc)) from None


@guarded
async def post_taps(request: Request) -> JSONResponse:
    check_origin(request)
    # The (bounded) body is read before any other await: a request whose body
    # was left waiting while a worker thread ran sometimes never got it
    # (seen as a ClientDisconnect after the pad's timeout, 1 in ~40 taps).
    body = await read_json(request, MAX_TAPS_BYTES)
    return JSONResponse(await in_thread(request, _apply, request, body))


@guarded
def open_visits(request: Request) -> JSONResponse:
    storage = shared_storage()
    with storage.one_connection(keep=True):
        shift = shift_of(storage, request)
        version = taps.board_version(storage, shift["store_id"], shift["timezone"])
        if request.query_params.get("since") == version:
            lang = fixed_language(request, storage, shift["store_id"])
            return JSONResponse({"version": version, "changed": False, "lang": lang})
        current = taps.board(storage, shift["store_id"], shift["timezone"])
    return JSONResponse({**current, "changed": True})


ROUTES = [
    Route(routes.api("/taps"), post_taps, methods=["POST"]),
    Route(routes.api("/open-visits"), open_visits, methods=["GET"]),
]
