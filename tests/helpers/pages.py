"""Opening pages in AppTest the way a device would (shared by the Log page's
tests and the reliability suite)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from cxlog.access import shifts
from cxlog.web import ui
from tests.conftest import ROOT, as_role


def open_page(script: str = "app.py", role: str | None = None) -> AppTest:
    """A page as AppTest opens it: the router (app.py) by default, or one
    page's script; with ``role``, signed in as that role (CXLOG_DB set)."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=30)
    return at if role is None else as_role(at, role)


def device(monkeypatch, storage, cookie: str | None = None) -> AppTest:
    """A page load whose browser sends this shift cookie (or none).

    AppTest sends no cookies, so the page's one read of it is replaced by the
    same check against the given value."""
    monkeypatch.setattr(ui, "signed_in", lambda s: shifts.current(s, cookie))
    return open_page().run()


def pad_data(at: AppTest) -> dict | None:
    """The data the page handed the pad, as the browser receives it."""
    pads = [e for e in at.main if getattr(e, "type", None) == "bidi_component"]
    if not pads:
        return None
    (pad,) = pads
    assert pad.proto.component_name == "cxlog_pad"
    return json.loads(pad.proto.json)


def text_of(at: AppTest) -> str:
    """Every text the page drew: markdown, captions, titles, messages, tables,
    metrics and the options of every picker."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "title", "info", "error")
        for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [str(t.value) for t in at.table]
    parts += [" ".join(map(str, s.options)) for s in at.selectbox]
    parts += [" ".join(map(str, s.options)) for s in at.multiselect]
    return "\n".join(map(str, parts))


def open_dashboard(query: dict | None = None) -> AppTest:
    """The dashboard as a signed-in manager opens it, with ``query`` in its address."""
    at = open_page()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    as_role(at, "manager").run()
    at.switch_page("pages/dashboard.py")
    at.run()
    assert not at.exception, at.exception
    return at
