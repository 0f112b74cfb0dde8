"""Start cxlog's server: `python -m cxlog.serve [streamlit run options]`.

Same as `streamlit run app.py …`, with one difference. With a pages/ folder
beside app.py, Streamlit runs a new server as a legacy multipage app until the
first st.navigation call in the process: a tablet that reconnects after a
restart, or opens a page's address directly, got the raw pages/ list as a menu
and its page run without the router. Setting the flag before the first session
starts keeps every run on app.py's st.navigation. (The pages guard themselves
too: cxlog.ui, pages/setup.py.)
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    args = sys.argv[1:] if argv is None else argv
    sys.argv = ["streamlit", "run", str(APP), *args]
    cli.main()


if __name__ == "__main__":
    main()
