"""The small Streamlit helper module: shared resources, session-state keys and
the turning of named errors into messages. Pages import this; the rest of
cxlog never imports Streamlit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st

from cxlog.db import Storage, default_path
from cxlog.errors import CxlogError, NotFoundError, StorageError, ValidationError

T = TypeVar("T")

# Every session-state key the pages use, in one place.
ASSOCIATE_ID = "associate_id"
STORE_ID = "store_id"
FLASH = "flash"  # a message shown once, on the next run (a toast after a rerun)


@st.cache_resource(show_spinner=False)
def _storage(path: str) -> Storage:
    storage = Storage(path)
    storage.migrate()
    return storage


def storage() -> Storage:
    """The database of this server (CXLOG_DB or data/cxlog.db), migrated once."""
    return _storage(str(default_path()))


def init_state() -> None:
    st.session_state.setdefault(ASSOCIATE_ID, None)
    st.session_state.setdefault(STORE_ID, None)
    st.session_state.setdefault(FLASH, None)


@contextmanager
def reported() -> Iterator[None]:
    """Show a named error as a sentence instead of a stack trace."""
    try:
        yield
    except ValidationError as exc:
        st.warning(str(exc))
    except NotFoundError as exc:
        st.warning(str(exc))
    except StorageError as exc:
        st.error(str(exc))


def attempt(action: Callable[[], T]) -> T | None:
    """Run a write from a callback; keep its error for the next run to show."""
    try:
        return action()
    except CxlogError as exc:
        st.session_state[FLASH] = ("error", str(exc))
        return None


def show_flash() -> None:
    flash = st.session_state.get(FLASH)
    if flash:
        kind, text = flash
        (st.error if kind == "error" else st.toast)(text)
        st.session_state[FLASH] = None
