"""cxlog/web/heap.py: the imported libraries are frozen once each, never again."""

from __future__ import annotations

import gc
import sys
import types

from cxlog.web import heap


def test_a_library_imported_since_the_last_freeze_is_frozen_once(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    monkeypatch.setattr(heap, "_frozen", set())
    monkeypatch.setattr(heap, "HEAVY", ("sys", "cxlog_test_library"))
    monkeypatch.delitem(sys.modules, "cxlog_test_library", raising=False)
    assert heap.freeze_imports() is True  # sys is loaded: the first freeze
    assert heap.freeze_imports() is False  # nothing new: objects since then stay collectable
    assert calls == [1]
    monkeypatch.setitem(sys.modules, "cxlog_test_library", types.ModuleType("x"))
    assert heap.freeze_imports() is True
    assert heap.freeze_imports() is False
    assert calls == [1, 1]


def test_frozen_objects_leave_the_full_collections(monkeypatch):
    monkeypatch.setattr(heap, "_frozen", set())
    monkeypatch.setattr(heap, "HEAVY", ("sys",))
    before = gc.get_freeze_count()
    try:
        assert heap.freeze_imports() is True
        assert gc.get_freeze_count() > before  # the objects alive now are out of reach
    finally:
        gc.unfreeze()  # this test process keeps collecting as before
