"""Every Streamlit internal the page reads, behind one adapter checked on one version range.

Streamlit has no public API for two things the page needs:
- whether this script run's browser still has its websocket (``browser_connected``:
  ``Runtime.instance()``/``runtime.get_instance()``, ``Runtime.is_active_session``,
  ``get_script_run_ctx``);
- the widget values a browser sent to a server session that never drew its page (a replica
  failover, a restarted server): ``get_script_run_ctx().session_state.get_widget_states()``,
  read by element id (``$$ID-<hash>-<user key>``: ``is_keyed_element_id``,
  ``user_key_from_element_id``), a custom component's trigger events under
  ``STREAMLIT_INTERNAL_KEY_PREFIX + "_" + <element id> + EVENT_DELIM + "events"``.

``TESTED_STREAMLIT`` is the range these were read on; ``requirements.txt`` pins the same
bound and ``tests/test_streamlit_internals.py`` checks both, and that each internal still
exists and its id format round-trips through Streamlit's own functions. Outside the range
(or when an internal moved) the functions give the "cannot tell" answers, as the page did
before it could tell: connected unknown (None: counts as connected), no browser values ([]:
a page that moved is treated as newly opened). A warning in the log says so once.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from streamlit.proto.WidgetStates_pb2 import WidgetState

log = logging.getLogger("ecc.page")

# [from, before): the Streamlit releases whose internals this module was read on. In 1.67,
# ``Runtime.is_active_session`` is True while the session has a websocket; on a disconnect the
# session leaves the active map right after its session caches are cleared (our
# ``on_release``), and a reconnect puts it back before its rerun. Widen it only after reading
# them again (``WebsocketSessionManager.disconnect_session``, ``SessionState``,
# ``compute_and_register_element_id``) and running tests/test_streamlit_internals.py.
TESTED_STREAMLIT = ((1, 67), (1, 68))


def release_of(version: str) -> tuple[int, ...]:
    """``"1.67.0"`` -> ``(1, 67)``."""
    from packaging.version import Version

    return Version(version).release[:2]


def in_tested_range(version: str | None = None) -> bool:
    """Whether ``version`` (default: the installed Streamlit) is in ``TESTED_STREAMLIT``."""
    low, high = TESTED_STREAMLIT
    return low <= release_of(version or st.__version__) < high


@functools.cache
def _warn_untested() -> None:
    log.warning("Streamlit %s is outside the tested range %s: the page cannot tell a "
                "dropped browser nor a page that moved to this session", st.__version__,
                TESTED_STREAMLIT)


def _usable() -> bool:
    if in_tested_range():
        return True
    _warn_untested()
    return False


def browser_connected() -> bool | None:
    """Whether this script run's browser session has its websocket now, as Streamlit's
    runtime says; None when that cannot be told (no real runtime: AppTest, bare mode; no
    script run; a Streamlit outside ``TESTED_STREAMLIT``)."""
    try:
        from streamlit import runtime
        from streamlit.runtime.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if not _usable() or not runtime.exists():
            return None
        instance = runtime.get_instance()
        ctx = get_script_run_ctx(suppress_warning=True)
        if not isinstance(instance, Runtime) or ctx is None:  # AppTest's runtime is a mock
            return None
        active = instance.is_active_session(ctx.session_id)
        return active if isinstance(active, bool) else None
    except Exception:  # an internal that moved: counts as connected, as before
        log.debug("cannot tell whether the browser is connected", exc_info=True)
        return None


def browser_widget_states() -> list[WidgetState]:
    """The widget values that came with this run, as sent (call before any widget draws:
    each widget adds its own value)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if not _usable():
            return []
        ctx = get_script_run_ctx()
        if ctx is None:
            return []
        return list(ctx.session_state.get_widget_states())
    except Exception:  # an internal that moved: no browser values known
        log.debug("cannot read the widget values the browser sent", exc_info=True)
        return []


def user_key(element_id: str) -> str | None:
    """The user key of a keyed widget's element id (``$$ID-<hash>-<key>``), else None."""
    from streamlit.runtime.state.common import is_keyed_element_id, user_key_from_element_id

    return user_key_from_element_id(element_id) if is_keyed_element_id(element_id) else None


def events_element_id(element_id: str) -> str:
    """Where a custom component (components v2) sends this run's trigger events: a JSON list
    of ``{"event", "value"}`` under this id."""
    from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    return f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{element_id}{EVENT_DELIM}events"


def _events_base(element_id: str) -> str | None:
    """The component's element id of an events id (``events_element_id``'s inverse)."""
    prefix, suffix = events_element_id("\0").split("\0")
    if element_id.startswith(prefix) and element_id.endswith(suffix) and \
            len(element_id) > len(prefix) + len(suffix):
        return element_id[len(prefix):-len(suffix)]
    return None


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
        if kind == "json_value" and (key := user_key(state.id)) is not None:
            parsed = _json(state.json_value)
            if isinstance(parsed, dict):
                values[key] = parsed
        elif kind == "json_trigger_value" and (base := _events_base(state.id)) is not None:
            key = user_key(base)
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
