"""A crafted dashboard link ends in a sentence, never a traceback (#11)."""

from __future__ import annotations

import pytest

from tests.conftest import as_role
from tests.helpers.pages import open_page


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"period": "custom", "from": "0001-01-01", "to": "0001-01-02"}, "1 January 2000"),
        ({"period": "custom", "from": "2026-13-01", "to": "x"}, "needs a first and a last"),
        ({"period": "<script>"}, "not one we know"),
        ({"store": "99999999999999999999999"}, "store in the link does not exist"),
        ({"associate": "-1", "reason": "1e9"}, "associate in the link does not exist"),
    ],
)
def test_crafted_dashboard_links_end_in_a_sentence(app_env, params, sentence):
    at = as_role(open_page("pages/dashboard.py"), "manager")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    shown = " ".join(e.value for kind in (at.info, at.warning, at.caption, at.error) for e in kind)
    assert sentence in shown
