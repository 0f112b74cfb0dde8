"""Exports and backups served once, to the owner's session that asked, within
a minute, never cached (issue #25: Streamlit's download links served the
backup, every password hash in it, to anyone with the link, 150 s after the
tab closed)."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from starlette.applications import Starlette

from cxlog.access import sessions
from cxlog.core import roles
from cxlog.core.model import utc_now
from cxlog.export import downloads
from cxlog.export.export import ExportSelection
from cxlog.server import api
from tests.conftest import account_of, log_visit_in, utc
from tests.helpers import asgi


def get(token: str, session_token: str | None) -> tuple[int, dict, bytes]:
    cookie = f"{sessions.COOKIE}={session_token}" if session_token else None
    return asgi.request(
        Starlette(routes=api.routes()), "GET", f"/api/v1/downloads/{token}", cookie=cookie
    )


@pytest.fixture
def owner(app_env, shop):
    log_visit_in(app_env, shop, utc("2026-11-03T10:00:00+00:00"), units=2, amount=1250)
    token, claim = sessions.start(
        app_env, account_of(app_env, roles.OWNER), device="test", client="local"
    )
    token = sessions.claim(app_env, claim)
    return {"storage": app_env, "token": token, "id": sessions.check(app_env, token).session_id}


def offered(owner, kind: str = "visits", name: str = "cxlog-visits.csv", **kw) -> str:
    november = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    choices = downloads.csv_choices(november, False) if kind != downloads.BACKUP else {}
    return downloads.offer(owner["storage"], owner["id"], kind, name, choices, **kw)


def test_a_file_is_served_once_to_the_session_that_asked_and_never_cached(owner):
    token = offered(owner)
    status, headers, body = get(token, owner["token"])
    assert status == 200
    assert headers["cache-control"] == "no-store"
    assert headers["content-disposition"] == "attachment; filename*=UTF-8''cxlog-visits.csv"
    assert body.decode().count("\r\n") == 2  # the header and the one November visit
    again = get(token, owner["token"])
    assert (again[0], again[1]["cache-control"]) == (404, "no-store")
    assert b"used already" in again[2]


def test_no_file_without_that_live_owner_session(owner, app_env):
    token = offered(owner)
    assert get(token, None)[0] == 403  # the link alone (a copy, a proxy's log)
    other, claim = sessions.start(
        app_env, account_of(app_env, roles.OWNER), device="other", client="local"
    )
    other = sessions.claim(app_env, claim)
    assert get(token, other)[0] == 404  # another signed-in browser
    _, claim = sessions.start(
        app_env, account_of(app_env, roles.MANAGER), device="m", client="local"
    )
    assert get(token, sessions.claim(app_env, claim))[0] == 404  # not the manager's link
    sessions.end(app_env, owner["token"])  # signed out (or idled out)
    status, _, body = get(token, owner["token"])
    assert status == 403 and b"signed in" in body
    assert get("made-up-token-that-was-never-offered", owner["token"])[0] in (403, 404)


def test_a_link_expires_after_a_minute(owner):
    token = offered(owner, now=utc_now() - downloads.LIFETIME - timedelta(seconds=1))
    status, headers, body = get(token, owner["token"])
    assert (status, headers["cache-control"]) == (410, "no-store")
    assert body == b"This download link expired after a minute; prepare again."


def test_a_backup_is_made_when_its_link_is_followed(owner, tmp_path):
    token = offered(owner, downloads.BACKUP, "cxlog-backup.db")
    status, headers, body = get(token, owner["token"])
    assert status == 200 and headers["content-type"] == "application/vnd.sqlite3"
    copy = tmp_path / "copy.db"
    copy.write_bytes(body)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    with owner["storage"].read() as db:
        rows = db.execute(
            "SELECT actor, action, entity_id FROM audit WHERE entity = 'downloads'"
        ).fetchall()
    assert [tuple(r) for r in rows] == [("owner:owner", "download", "backup")]
