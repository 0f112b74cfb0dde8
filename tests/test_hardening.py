"""Server hardening settings and HTML safety (issue #4)."""

import re
import tomllib

from cxlog.coverage import traffic
from tests.conftest import ROOT


def test_streamlit_config_hardening():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks in browsers (#11)
    # Issue #25: Streamlit's default was 200 MB per file; Imports needs 50.
    assert config["server"]["maxUploadSize"] * 1_000_000 == traffic.MAX_FILE_BYTES


def test_no_html_built_from_text_a_person_typed():
    """unsafe_allow_html is never used; st.html only ever receives fixed CSS."""
    sources = {
        p: p.read_text()
        for p in [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("cxlog/**/*.py")]
    }
    assert not [p for p, text in sources.items() if "unsafe_allow_html" in text]
    html_calls = [
        (p.name, call)
        for p, text in sources.items()
        for call in re.findall(r"st\.html\(([^)]*)\)", text)
    ]
    fixed = [
        ("coaching_ui.py", "HUDDLE_CSS"),
        ("followups.py", "NAV_CSS"),
        ("ui.py", "TOUCH_CSS"),
    ]
    assert [c for c in sorted(html_calls) if c in fixed] == fixed
    # The only others: the sign-in cookie hand-over script, whose one variable
    # part is the server-made claim code, JSON-encoded (#11), and the device's
    # language cookie, made from a language code cxlog speaks (#29). (The
    # pattern stops at the first ")", so a call reads up to "json.dumps(code".)
    others = sorted(call for c in html_calls if c not in fixed for call in [c[1]])
    assert others == [
        'CLAIM_SCRIPT.replace("__CLAIM__", json.dumps(code',
        'COOKIE_SCRIPT.replace("__COOKIE__", json.dumps(cookie',
    ]
    from cxlog.web import language_ui

    assert language_ui.COOKIE_SCRIPT.count("__COOKIE__") == 1
    from cxlog.web import ui

    assert "fetch('/api/v1/sessions/claim'" in ui.CLAIM_SCRIPT
    assert ui.CLAIM_SCRIPT.count("__CLAIM__") == 1
