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

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_keyed_element_id, user_key_from_element_id
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

BROWSER_KEYS = "ecc_browser_widget_keys"  # user keys of the widgets the browser sent this run


def browser_widget_states() -> list[WidgetState]:
    """The widget values that came with this run, as sent (before any widget drew)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return []
    return list(ctx.session_state.get_widget_states())


def browser_widget_ids() -> list[str]:
    """Element ids of the widget values that came with this run (before any widget drew)."""
    return [state.id for state in browser_widget_states()]


# A custom component (components v2) sends two values: its state values as one JSON object
# under its element id, and the trigger events of this run as a JSON list of
# {"event", "value"} under "$$STREAMLIT_INTERNAL_KEY_<element id>__events".
_EVENTS_PREFIX = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_"
_EVENTS_SUFFIX = f"{EVENT_DELIM}events"


@dataclass(frozen=True)
class BrowserComponent:
    """What the browser sent for one keyed custom component with this run."""

    state: dict[str, Any] = field(default_factory=dict)  # its state values
    events: tuple[tuple[str, Any], ...] = ()  # (trigger name, value), in the order sent


def browser_components(states: list[WidgetState]) -> dict[str, BrowserComponent]:
    """The keyed custom components among ``states``, by user key. A session that never drew
    the page cannot deserialize these (it has no widget metadata, so no callback runs): this
    reads them as the components' own deserializers would. Values are the browser's: the
    caller treats them as user input."""
    values: dict[str, dict[str, Any]] = {}
    events: dict[str, list[tuple[str, Any]]] = {}
    for state in states:
        kind = state.WhichOneof("value")
        if kind == "json_value" and is_keyed_element_id(state.id):
            key = user_key_from_element_id(state.id)
            parsed = _json(state.json_value)
            if key is not None and isinstance(parsed, dict):
                values[key] = parsed
        elif kind == "json_trigger_value" and state.id.startswith(_EVENTS_PREFIX) and \
                state.id.endswith(_EVENTS_SUFFIX):
            base = state.id[len(_EVENTS_PREFIX):-len(_EVENTS_SUFFIX)]
            key = user_key_from_element_id(base) if is_keyed_element_id(base) else None
            parsed = _json(state.json_trigger_value)
            payloads = parsed if isinstance(parsed, list) else [parsed]
            if key is not None:
                events[key] = [(p["event"], p.get("value")) for p in payloads
                               if isinstance(p, dict) and isinstance(p.get("event"), str)]
    return {key: BrowserComponent(values.get(key, {}), tuple(events.get(key, ())))
            for key in values.keys() | events.keys()}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


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
