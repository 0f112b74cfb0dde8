"""GET /api/v1/health: the API is up and can read the database.

A tablet's outbox uses it to tell "server unreachable" from "server up but the
database is in trouble"; monitoring can poll it too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlog.core import routes
from cxlog.core.errors import StorageError
from cxlog.server.api.common import error_response, guarded
from cxlog.storage.db import shared_storage


@guarded
def health(request: Request) -> JSONResponse:
    # A plain def: it runs in a worker thread (common.guarded, in the
    # request's language), so SQLite never blocks the event loop that also
    # carries every tablet's websocket.
    try:
        shared_storage().check()
    except StorageError as exc:
        return error_response(503, str(exc))
    return JSONResponse({"ok": True})


ROUTES = [Route(routes.api("/health"), health, methods=["GET"])]
