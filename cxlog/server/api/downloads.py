"""Exports and backups, once each, to the owner's session that asked for them
(issue #25; cxlog/export/downloads.py).

- ``GET /api/v1/downloads/<id>``: the file, made now, with ``Cache-Control:
  no-store``; a plain sentence (404, 403, 410) when the id is unknown, used,
  expired, or the request lacks that live owner session's cookie.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cxlog.access import sessions
from cxlog.core.errors import CxlogError
from cxlog.export import downloads
from cxlog.language.words import _
from cxlog.server.api.common import in_thread
from cxlog.storage.db import shared_storage

NO_STORE = {"Cache-Control": "no-store"}


def _file(request: Request) -> downloads.File:
    storage = shared_storage()
    asked = downloads.take(
        storage, request.path_params["token"], request.cookies.get(sessions.COOKIE)
    )
    return downloads.make(storage, asked)


def _answer(request: Request) -> Response:
    """The file, or why not in a sentence (in the request's language: in_thread)."""
    try:
        made = _file(request)
    except downloads.DownloadRefused as exc:
        return PlainTextResponse(str(exc), status_code=exc.status, headers=NO_STORE)
    except CxlogError as exc:
        return PlainTextResponse(
            _("The file could not be made: {why}").format(why=exc), 503, headers=NO_STORE
        )
    disposition = f"attachment; filename*=UTF-8''{quote(made.name)}"
    return Response(
        made.data,
        media_type=made.media_type,
        headers={**NO_STORE, "Content-Disposition": disposition},
    )


async def get_download(request: Request) -> Response:
    return await in_thread(request, _answer, request)


ROUTES = [Route(f"{downloads.ROUTE}/{{token}}", get_download, methods=["GET"])]
