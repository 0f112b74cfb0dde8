"""cxlog's JSON API, served beside Streamlit on the same port under /api/v1/.

Each module of this package serves one resource and lists its routes in
``ROUTES``; ``routes()`` collects them for the server (cxlog/server/server.py). The
handlers take plain JSON, call the same cxlog functions as the pages, and answer
a mistake with a 4xx and one sentence (cxlog/server/api/common.py), never a traceback.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from cxlog.language.words import _
from cxlog.server.api import downloads, followups, health, sessions, shifts, taps
from cxlog.server.api.common import error_response, guarded

# One entry per resource module; a new module adds itself here.
MODULES = (health, sessions, shifts, taps, followups, downloads)


@guarded
def _unknown(request: Request) -> JSONResponse:
    return error_response(404, _("There is no such API address; update the app on this device."))


def routes() -> list[BaseRoute]:
    """Every resource's routes, then a JSON 404 for the rest of /api/: without
    it Streamlit would answer an unknown API address with its HTML page."""
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    catch_all = Route("/api/{rest:path}", _unknown, methods=methods)
    return [route for module in MODULES for route in module.ROUTES] + [catch_all]
