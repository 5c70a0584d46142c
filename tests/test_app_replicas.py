"""A page that moves to a new server session (replica failover), and shared links.

A failover keeps the browser (its drawn page and widget values) and replaces the server
session behind it: `move_to_new_session` does exactly that to an AppTest, whose element tree
plays the browser. The end-to-end version, with nginx and two replicas, is test_replicas.py.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.state import SafeSessionState, SessionState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.app_test import TESTING_KEY, _AppTestSessionState

import st_utils
from tests.apptest_support import FakeFactory, console, run_query, submit, texts

MARKDOWN_KINDS = ("markdown", "caption", "error", "info", "success", "warning", "title",
                  "subheader", "header")


def rerun_in_a_new_session(at: AppTest) -> AppTest:
    """Run the page as a failover does: the browser keeps its page and sends its widget
    values (here: what the element tree would send, clicks included); the server session
    receiving them is new (empty session state, no token). AppTest keeps the widgets' format
    functions under TESTING_KEY: the browser's side of the widgets, so they are carried over."""
    browser_values = at._tree.get_widget_states()
    fresh = SessionState()
    fresh[TESTING_KEY] = dict(at.session_state[TESTING_KEY])
    at._session_state = SafeSessionState(fresh, lambda: None)
    at.session_state = _AppTestSessionState(at._session_state)
    return at._run(browser_values)


def press_run(at: AppTest) -> None:
    """Click Run without running the page yet (the click travels with the next run)."""
    next(b for b in at.button if b.label == "Run").click()


def queries(factory: FakeFactory) -> list[str]:
    return [call[1] for call in factory.calls]


def notices(at: AppTest) -> list[str]:
    return [str(el.value) for el in at.info]


def query_param(at: AppTest, name: str) -> Any:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_moved_page_runs_what_the_user_typed_not_the_address() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        assert query_param(at, "q") == "select 'first'"  # the address now holds that run
        at.text_area(key="q_text_0").input("select 'typed'")
        press_run(at)  # Ctrl+Enter: the first run of the new session carries the Run
        rerun_in_a_new_session(at)
        assert not at.exception
        assert queries(factory) == ["select 'first'", "select 'typed'"]
        assert at.text_area(key="q_text_0").value == "select 'typed'"
        assert st_utils.MOVED_NOTICE in notices(at)
        assert "shared query" not in texts(at)


def test_a_moved_page_says_so_once_and_drops_the_old_session() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        old_token = at.session_state["ecc_session_token"]
        assert [getattr(b, "label", None) for b in at.get("download_button")] == ["CSV", "JSON"]
        assert at.toggle(key="show_history").label == "History (1)"
        rerun_in_a_new_session(at)  # the rerun the browser asks for when it reconnects
        assert not at.exception
        assert notices(at).count(st_utils.MOVED_NOTICE) == 1
        assert at.session_state["ecc_session_token"] != old_token
        assert at.toggle(key="show_history").label == "History (0)"
        assert "Results" not in [el.value for el in at.subheader]
        assert list(at.get("download_button")) == []  # the old ones pointed at the old session
        assert queries(factory) == ["select 'first'"]  # reconnecting ran nothing
        at.run()
        assert st_utils.MOVED_NOTICE not in notices(at)  # said once


def test_a_page_opened_fresh_is_not_called_moved() -> None:
    with console(FakeFactory()) as at:
        at.run()
        at.run()
        assert st_utils.MOVED_NOTICE not in notices(at)
        assert at.session_state[st_utils.ARRIVAL_KEY] == "opened"


def test_a_shared_link_fills_the_form_only_in_the_first_run() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.query_params["q"] = "select 'shared'"
        at.run()
        assert at.text_area(key="q_text_0").value == "select 'shared'"
        assert "shared query" in texts(at)
        at.text_area(key="q_text_0").input("select 'mine'")
        submit(at)
        assert at.text_area(key="q_text_0").value == "select 'mine'"
        assert "shared query" not in texts(at)
        assert queries(factory) == ["select 'mine'"]
        at.run()
        assert at.text_area(key="q_text_0").value == "select 'mine'"


def test_a_shared_link_over_the_size_limit_is_refused_with_a_message() -> None:
    factory = FakeFactory()
    with console(factory, max_query_chars=40) as at:
        long_query = "select '" + "x" * 60 + "'"
        at.query_params["q"] = long_query
        at.run()
        assert not at.exception
        assert at.text_area(key="q_text_0").value == ""
        warning = " ".join(str(el.value) for el in at.warning)
        assert "not loaded" in warning and f"{len(long_query)}" in warning and "40" in warning
        assert factory.calls == []
        assert query_param(at, "q") == long_query  # still in the address: nothing is lost


def test_a_shared_link_within_the_configured_limit_loads() -> None:
    with console(FakeFactory(), max_query_chars=40) as at:
        at.query_params["q"] = "select 'short'"
        at.run()
        assert at.text_area(key="q_text_0").value == "select 'short'"


def test_shared_link_arguments_count_against_the_argument_limit() -> None:
    with console(FakeFactory(), max_args_chars=20) as at:
        at.query_params["q"] = "select <str>$title"
        at.query_params["p.title"] = "y" * 30
        at.run()
        assert at.text_area(key="q_text_0").value == ""
        assert "not loaded" in " ".join(str(el.value) for el in at.warning)


HOSTILE = "**bold** <b>html</b> [x](javascript:alert(1)) :red[red]"


def test_shared_link_values_are_never_rendered_as_markdown() -> None:
    with console(FakeFactory()) as at:
        at.query_params["q"] = f"select <str>$title # {HOSTILE}"
        at.query_params["p.title"] = HOSTILE
        at.query_params["p.**x**"] = HOSTILE  # not a parameter name: ignored
        at.run()
        assert not at.exception
        assert at.text_area(key="q_text_0").value == f"select <str>$title # {HOSTILE}"
        assert at.text_input(key="p_0_title").value == HOSTILE
        assert "**x**" not in at.session_state["param_memory"]
        for kind in MARKDOWN_KINDS:
            for element in getattr(at, kind):
                rendered = str(element.value)
                assert "javascript:" not in rendered and "<b>" not in rendered, (kind, rendered)
        for element in at.text_input:
            assert "javascript:" not in str(element.label)


def test_a_moved_page_keeps_what_the_browser_sent_over_the_defaults() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        at.number_input(key="tab_count").set_value(2).run()
        at.number_input(key="pref_row_limit").set_value(7).run()
        at.text_area(key="q_text_1").input("select 'second'")
        at.text_area(key="q_text_0").input("select 'first'")
        press_run(at)
        rerun_in_a_new_session(at)
        assert not at.exception
        assert at.number_input(key="tab_count").value == 2
        assert at.number_input(key="pref_row_limit").value == 7
        assert sorted(queries(factory)) == ["select 'first'", "select 'second'"]
