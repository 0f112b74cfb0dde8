"""The one server process: Streamlit and the JSON API on one port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from cxlog.serve import UsageError, parse_flags
from tests.e2e import harness


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {}),
        (["--server.port", "8501"], {"server.port": 8501}),
        (["--server.headless=true"], {"server.headless": True}),
        (
            ["--server.address", "0.0.0.0", "--browser.gatherUsageStats", "false"],
            {"server.address": "0.0.0.0", "browser.gatherUsageStats": False},
        ),
    ],
)
def test_parse_flags(args, expected):
    assert parse_flags(args) == expected


@pytest.mark.parametrize("args", [["8501"], ["--port", "1"], ["--server.port"]])
def test_parse_flags_refuses_other_forms(args):
    with pytest.raises(UsageError):
        parse_flags(args)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_one_port_serves_app_and_api(tmp_path, password_hashes):
    from tests.conftest import set_up

    storage, _ = set_up(tmp_path / "cxlog.db", password_hashes)
    with harness.streamlit_server(storage.path) as url:
        status, body = _get(f"{url}/api/v1/health")
        assert (status, json.loads(body)) == (200, {"ok": True})
        status, body = _get(f"{url}/dashboard")
        assert status == 200 and b'<div id="root">' in body
        status, body = _get(f"{url}/api/v1/no-such-thing")
        assert status == 404
