"""Limits that hold on every path (issue 17), driven through the page.

- ``max_sessions``: the session past the cap gets one message and no runtime; the others keep
  working; a released session frees its slot.
- ``max_args_chars``: one size check for typed inputs, the argument language, shared links
  (read and written) and "Run again".
- ``max_kept_bytes``: a result over the byte budget keeps its metadata and says why.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP, FakeFactory, console, run_query, texts

BUSY = "The console is at its limit of 1 active sessions; try again in a minute."


def _second_page(**settings: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["connections"] = {"gel": {"fake_client": True, **settings}}
    return at


def test_the_session_past_max_sessions_gets_the_message_and_the_first_keeps_working() -> None:
    import st_utils

    factory = FakeFactory()
    with console(factory, max_sessions=1) as first:
        first.run()
        second = _second_page(max_sessions=1)
        second.run()
        assert not second.exception
        assert BUSY in texts(second) and "Console busy" in texts(second)
        assert not second.button  # no form, no Run: nothing of the console is drawn
        run_query(first, "select 'still here'")
        assert not first.exception and not first.error
        assert [c[1] for c in factory.calls] == ["select 'still here'"]
        st_utils.session_registry().release(first.session_state["ecc_session_token"], wait=True)
        second.run()  # the released slot is free again
        assert BUSY not in texts(second)
        run_query(second, "select 'my turn'")
        assert not second.error and factory.calls[-1][1] == "select 'my turn'"
