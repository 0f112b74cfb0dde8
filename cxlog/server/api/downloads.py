"""Exports and backups, once each, to the owner's session that asked for them
(issue #25; cxlog/export/downloads.py).

- ``GET /api/v1/downloads/<id>``: the file, made now, with ``Cache-Control:
  no-store``; a plain sentence (404, 403, 410) when the id is unknown, used,
  expired, or the request lacks that live owner session's cookie.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cxlog.access import sessions
from cxlog.core.errors import CxlogError
from cxlog.export import downloads
from cxlog.storage.db import shared_storage

NO_STORE = {"Cache-Control": "no-store"}


def _file(request: Request) -> downloads.File:
    storage = shared_storage()
    asked = downloads.take(
        storage, request.path_params["token"], request.cookies.get(sessions.COOKIE)
    )
    return downloads.make(storage, asked)


async def get_download(request: Request) -> Response:
    try:
        made = await run_in_threadpool(_file, request)
    except downloads.DownloadRefused as exc:
        return PlainTextResponse(str(exc), status_code=exc.status, headers=NO_STORE)
    except CxlogError as exc:
        return PlainTextResponse(f"The file could not be made: {exc}", 503, headers=NO_STORE)
    disposition = f"attachment; filename*=UTF-8''{quote(made.name)}"
    return Response(
        made.data,
        media_type=made.media_type,
        headers={**NO_STORE, "Content-Disposition": disposition},
    )


ROUTES = [Route(f"{downloads.ROUTE}/{{token}}", get_download, methods=["GET"])]
