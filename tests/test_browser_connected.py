"""``st_page.streamlit_internals.browser_connected``: whether a script run's browser still
has its websocket, read from Streamlit's runtime (issue 17: only a connected browser's run
takes a pending release away). The adapter's other internals and its version range:
tests/test_streamlit_internals.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import streamlit
import streamlit.runtime
import streamlit.runtime.scriptrunner
from streamlit.runtime.runtime import Runtime
from streamlit.testing.v1 import AppTest

from st_page import streamlit_internals


class StubRuntime(Runtime):
    """A ``Runtime`` answering ``is_active_session`` only (nothing else is started)."""

    def __init__(self, active: set[str], error: Exception | None = None) -> None:
        self.active = active
        self.error = error

    def is_active_session(self, session_id: str) -> bool:
        if self.error is not None:
            raise self.error
        return session_id in self.active


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> StubRuntime:
    runtime = StubRuntime({"connected-session"})
    monkeypatch.setattr(streamlit.runtime, "exists", lambda: True)
    monkeypatch.setattr(streamlit.runtime, "get_instance", lambda: runtime)
    return runtime


def in_session(monkeypatch: pytest.MonkeyPatch, session_id: str | None) -> None:
    ctx = None if session_id is None else SimpleNamespace(session_id=session_id)
    monkeypatch.setattr(streamlit.runtime.scriptrunner, "get_script_run_ctx",
                        lambda suppress_warning=False: ctx)


def test_a_connected_session_is_connected_and_a_dropped_one_is_not(
        stub: StubRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    in_session(monkeypatch, "connected-session")
    assert streamlit_internals.browser_connected() is True
    in_session(monkeypatch, "dropped-session")
    assert streamlit_internals.browser_connected() is False


@pytest.mark.parametrize("why", ["no script run", "other version", "internal error",
                                 "not a runtime"])
def test_when_streamlit_cannot_tell_the_answer_is_none(
        why: str, stub: StubRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    in_session(monkeypatch, None if why == "no script run" else "dropped-session")
    if why == "other version":
        monkeypatch.setattr(streamlit_internals, "TESTED_STREAMLIT", ((0, 1), (0, 2)))
    if why == "internal error":
        stub.error = AttributeError("_session_mgr")
    if why == "not a runtime":
        monkeypatch.setattr(streamlit.runtime, "get_instance", lambda: SimpleNamespace(
            is_active_session=lambda session_id: False))
    assert streamlit_internals.browser_connected() is None


def _report() -> None:  # an AppTest script
    import streamlit as st

    from st_page import streamlit_internals
    st.write(f"connected: {streamlit_internals.browser_connected()}")


def test_under_apptest_it_cannot_tell() -> None:
    at = AppTest.from_function(_report)
    at.run()
    assert not at.exception
    assert at.markdown[0].value == "connected: None"  # AppTest's runtime is a mock
