"""Keep the imported libraries out of Python's full garbage collections.

Streamlit runs a full collection (``gc.collect(2)``) after every script run,
and Python runs one by itself now and then during a run. Each walks every
object the process tracks, and once Streamlit, pandas and plotly are imported
that is ~125,000 objects that live as long as the process: a full collection
cost ~67 ms after a year's dashboard run (2 ms with them frozen, measured on
the 1M-visit benchmark database). ``gc.freeze`` moves every object alive now
into a generation the collector never walks again.

What is frozen is never freed, so this freezes only when a heavy library has
been imported since the last time (at most once per library): at the start of
a script run, when Streamlit has collected the previous run's garbage.
"""

from __future__ import annotations

import gc
import sys

HEAVY = ("streamlit", "numpy", "pandas", "plotly.graph_objects")

_frozen: set[str] = set()


def freeze_imports() -> bool:
    """Freeze the tracked objects if a library of ``HEAVY`` was imported since
    the last freeze (or ever). Call at the start of a script run. True when it froze."""
    loaded = {name for name in HEAVY if name in sys.modules}
    if loaded <= _frozen:
        return False
    gc.freeze()
    _frozen.update(loaded)
    return True
