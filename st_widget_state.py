"""What the browser sent with this script run: widget values of a page it has already drawn.

A page that reconnects to a new server session (a replica failover, a restarted server) keeps
its widgets and sends their values with the first run there; that session has none of the
page's other state. Two things must then not happen: a default written into
``st.session_state`` before a widget replaces the value the browser sent (the user's text,
tab count, settings), and the page address (``?q=``) must not look like a link being opened.

Streamlit 1.67 has no public API for this; its run context keeps the browser's values (by
element id, ``$$ID-<hash>-<user key>``) until the widgets claim them. ``remember_browser_keys``
must therefore run before the first widget of a run, which adds its own value.
tests/test_app_replicas.py checks this against the real Streamlit.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_keyed_element_id, user_key_from_element_id

BROWSER_KEYS = "ecc_browser_widget_keys"  # user keys of the widgets the browser sent this run


def browser_widget_ids() -> list[str]:
    """Element ids of the widget values that came with this run (before any widget drew)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return []
    return [state.id for state in ctx.session_state.get_widget_states()]


def remember_browser_keys(ids: list[str]) -> None:
    """Keep, for this run, the user keys of the widgets whose values the browser sent while
    the server session did not know them yet. Call at the top of every run."""
    keys = {user_key_from_element_id(i) for i in ids if is_keyed_element_id(i)}
    st.session_state[BROWSER_KEYS] = frozenset(k for k in keys if k is not None)


def widget_default(key: str, value: object) -> None:
    """``st.session_state.setdefault`` for a keyed widget that takes its default from session
    state, except when the browser sent this widget's value with the run: the new session
    does not know the key yet, and a default written now would replace that value."""
    if key not in st.session_state.get(BROWSER_KEYS, frozenset()):
        st.session_state.setdefault(key, value)
