"""The page's one adapter over Streamlit internals (``st_page/streamlit_internals.py``): each
internal it reads still exists in the installed Streamlit, its id formats round-trip through
Streamlit's own functions, the installed version is in the tested range, and
``requirements.txt`` pins the same range. Each failure names the internal that changed."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest
import streamlit
from packaging.requirements import Requirement

from st_page import streamlit_internals
from st_page.streamlit_internals import TESTED_STREAMLIT, events_element_id, user_key

ROOT = Path(__file__).resolve().parent.parent
READ_AGAIN = ("read it again in the new Streamlit, adapt st_page/streamlit_internals.py, then "
              "widen TESTED_STREAMLIT and requirements.txt's bound together")

# (module, attribute path): every internal the adapter reads.
INTERNALS = [
    ("streamlit.runtime.scriptrunner", "get_script_run_ctx"),
    ("streamlit.runtime.scriptrunner_utils.script_run_context", "ScriptRunContext"),
    ("streamlit.runtime.state.session_state", "SessionState.get_widget_states"),
    ("streamlit.runtime.state.session_state", "STREAMLIT_INTERNAL_KEY_PREFIX"),
    ("streamlit.runtime.state.common", "is_keyed_element_id"),
    ("streamlit.runtime.state.common", "user_key_from_element_id"),
    ("streamlit.components.v2.bidi_component.constants", "EVENT_DELIM"),
    ("streamlit.runtime.runtime", "Runtime.is_active_session"),
    ("streamlit.runtime", "exists"),
    ("streamlit.runtime", "get_instance"),
]


@pytest.mark.parametrize(("module", "path"), INTERNALS, ids=[p for _, p in INTERNALS])
def test_each_internal_the_adapter_reads_exists(module: str, path: str) -> None:
    try:
        found: object = importlib.import_module(module)
        for part in path.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"Streamlit {streamlit.__version__} has no {module}.{path} ({exc}): "
                    f"{READ_AGAIN}")
    assert found is not None, f"{module}.{path} is None: {READ_AGAIN}"


def test_a_script_run_context_still_names_its_session() -> None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    fields = {f.name for f in dataclasses.fields(ScriptRunContext)}
    assert {"session_id", "session_state"} <= fields, \
        f"ScriptRunContext lost session_id/session_state ({sorted(fields)}): {READ_AGAIN}"


def test_the_installed_streamlit_is_in_the_tested_range() -> None:
    assert streamlit_internals.in_tested_range(), (
        f"Streamlit {streamlit.__version__} is outside TESTED_STREAMLIT {TESTED_STREAMLIT}: "
        f"{READ_AGAIN} (WebsocketSessionManager.disconnect_session must drop a session from "
        "the active map only after its caches are cleared)")


def test_the_tested_range_is_a_half_open_range_of_releases() -> None:
    low, high = TESTED_STREAMLIT
    assert streamlit_internals.in_tested_range(".".join(map(str, low)) + ".0")
    assert not streamlit_internals.in_tested_range(".".join(map(str, high)) + ".0")
    assert not streamlit_internals.in_tested_range(f"{low[0]}.{low[1] - 1}.9")


def test_requirements_pin_streamlit_to_the_tested_range() -> None:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    (line,) = [x for x in lines if x.strip().startswith("streamlit")]
    specifier = Requirement(line.split("#")[0].strip()).specifier
    bounds = {spec.operator: spec.version for spec in specifier}
    low, high = TESTED_STREAMLIT
    assert bounds == {">=": f"{low[0]}.{low[1]}", "<": f"{high[0]}.{high[1]}"}, (
        f"requirements.txt allows {specifier}, st_page/streamlit_internals.py's "
        f"TESTED_STREAMLIT is {TESTED_STREAMLIT}: they must agree")


def test_a_keyed_element_id_round_trips_through_streamlits_own_id() -> None:
    from streamlit.elements.lib.utils import compute_and_register_element_id

    keyed = compute_and_register_element_id("text_input", user_key="q_editor_0", dg=None,
                                            key_as_main_identity=True, label="EdgeQL")
    unkeyed = compute_and_register_element_id("text_input", user_key=None, dg=None,
                                              key_as_main_identity=False, label="EdgeQL")
    assert user_key(keyed) == "q_editor_0", \
        f"the element id format changed ({keyed!r}): is_keyed_element_id/" \
        f"user_key_from_element_id no longer read the key: {READ_AGAIN}"
    assert user_key(unkeyed) is None, f"an unkeyed id reads as keyed ({unkeyed!r})"


def test_a_components_events_id_is_the_one_streamlit_makes() -> None:
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    base = "$$ID-0123abcd-q_editor_0"
    assert events_element_id(base) == _make_trigger_id(base, "events"), \
        f"a component's events id changed (EVENT_DELIM/STREAMLIT_INTERNAL_KEY_PREFIX): {READ_AGAIN}"


@pytest.mark.parametrize("tested", [True, False])
def test_outside_the_tested_range_no_browser_values_are_read(
        tested: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import streamlit.runtime.scriptrunner
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    sent = [WidgetState(id="$$ID-0123abcd-tab_count", int_value=2)]
    ctx = SimpleNamespace(session_state=SimpleNamespace(get_widget_states=lambda: sent))
    monkeypatch.setattr(streamlit.runtime.scriptrunner, "get_script_run_ctx", lambda: ctx)
    if not tested:
        monkeypatch.setattr(streamlit_internals, "TESTED_STREAMLIT", ((0, 1), (0, 2)))
    assert streamlit_internals.browser_widget_states() == (sent if tested else [])
