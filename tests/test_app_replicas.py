"""A page that moves to a new server session (replica failover), and shared links.

A failover keeps the browser (its drawn page and widget values) and replaces the server
session behind it: `rerun_in_a_new_session` does exactly that to an AppTest, whose element
tree plays the browser.

AppTest runs no JavaScript and its element tree does not send the editor component's values,
so the tests send them as the browser does (`editor_sends`): the component's state values
(`text`, `seen`) as a JSON object under the editor's element id, and a Ctrl/Cmd+Enter as the
component's trigger list (`[{"event": "run", "value": {"text": ...}}]`) under its events id.
They go into the run's widget states, the same internals the page reads them from
(`st_page.streamlit_internals.browser_widget_states`) and Streamlit's callbacks dispatch from. The
end-to-end version, with nginx, two replicas and the real editor, is test_replicas.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.components.v2.bidi_component.constants import EVENT_DELIM
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.runtime.state import SafeSessionState, SessionState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.app_test import TESTING_KEY, _AppTestSessionState

from st_page import links
from tests.apptest_support import (
    FakeFactory,
    console,
    editor_data,
    run_query,
    set_query_text,
    texts,
)

pytestmark = pytest.mark.usefixtures("clean_driver_env")

MARKDOWN_KINDS = ("markdown", "caption", "error", "info", "success", "warning", "title",
                  "subheader", "header")


def editor_id(at: AppTest, tab: int = 0) -> str:
    for element in at.get("bidi_component"):
        if getattr(element, "key", None) == f"q_editor_{tab}":
            return str(element.proto.id)
    raise KeyError(f"no editor for tab {tab}")


def editor_sends(at: AppTest, text: str, *, tab: int = 0, run: bool = False,
                 seen: int | None = None) -> list[WidgetState]:
    """What the browser's editor of tab ``tab`` sends with the next run: its state values
    (the typed ``text``; ``seen``, the version it shows: by default the last one it was
    sent) and, with ``run``, the Ctrl/Cmd+Enter trigger."""
    element = editor_id(at, tab)
    values = {"text": text, "seen": editor_data(at, tab)["version"] if seen is None else seen}
    state = WidgetState(id=element, json_value=json.dumps(values))
    if not run:
        return [state]
    events = WidgetState(
        id=f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{element}{EVENT_DELIM}events",
        json_trigger_value=json.dumps([{"event": "run", "value": {"text": text}}]))
    return [state, events]


def browser_values(at: AppTest, extra: list[WidgetState]) -> WidgetStates:
    """The element tree's widget values (clicks included) plus the editors' ``extra``."""
    values = at._tree.get_widget_states()
    values.widgets.extend(extra)
    return values


def browser_run(at: AppTest, extra: list[WidgetState]) -> AppTest:
    """A rerun of the same session with the editors' values: their callbacks run."""
    return at._run(browser_values(at, extra))


def rerun_in_a_new_session(at: AppTest, extra: list[WidgetState] | None = None) -> AppTest:
    """Run the page as a failover does: the browser keeps its page and sends its widget
    values (here: what the element tree would send, clicks included, plus the editors'
    ``extra``); the server session receiving them is new (empty session state, no token).
    AppTest keeps the widgets' format functions under TESTING_KEY: the browser's side of the
    widgets, so they are carried over."""
    values = browser_values(at, extra or [])
    fresh = SessionState()
    fresh[TESTING_KEY] = dict(at.session_state[TESTING_KEY])
    at._session_state = SafeSessionState(fresh, lambda: None)
    at.session_state = _AppTestSessionState(at._session_state)
    return at._run(values)


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


def query_text(at: AppTest, tab: int = 0) -> str:
    text = at.session_state[f"q_text_{tab}"]
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize("how", ["button", "ctrl_enter"])
def test_a_moved_page_runs_what_the_user_typed_not_the_address(how: str) -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        assert query_param(at, "q") == "select 'first'"  # the address now holds that run
        shown = editor_data(at)["version"]
        if how == "button":
            press_run(at)  # the click travels with the first run of the new session
            typed = editor_sends(at, "select 'typed'")
        else:
            typed = editor_sends(at, "select 'typed'", run=True)
        rerun_in_a_new_session(at, typed)
        assert not at.exception
        assert queries(factory) == ["select 'first'", "select 'typed'"]
        assert query_text(at) == "select 'typed'"
        assert editor_data(at)["version"] == shown  # the editor keeps its document
        assert links.MOVED_NOTICE in notices(at)
        assert "shared query" not in texts(at)
        assert query_param(at, "q") == "select 'typed'"  # the address follows the run
        at.run()
        assert links.MOVED_NOTICE not in notices(at)  # it ran: history started again


def test_a_moved_page_keeps_the_editor_as_the_user_left_it() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        at.session_state["q_text_0"] = "select 'loaded'"  # history "Load into form"
        at.run()
        shown = editor_data(at)["version"]
        assert shown >= 2  # the new session's own numbering would start at 1
        rerun_in_a_new_session(at, editor_sends(at, "select 'typed'"))
        assert not at.exception
        data = editor_data(at)
        # The same version as on screen: the editor does not replace what the user typed.
        assert data["version"] == shown and data["text"] in (None, "select 'typed'")
        assert query_text(at) == "select 'typed'"
        assert queries(factory) == ["select 'first'"]  # reconnecting ran nothing
        press_run(at)
        at.run()  # the next Run, a plain run of the new session
        assert queries(factory) == ["select 'first'", "select 'typed'"]
        assert links.MOVED_NOTICE not in notices(at)  # said once
        at.session_state["q_text_0"] = "select 'again'"  # a later external write still wins
        at.run()
        assert editor_data(at)["version"] == shown + 1
        assert editor_data(at)["text"] == "select 'again'"


def test_a_moved_page_says_so_once_and_drops_the_old_session() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        old_token = at.session_state["ecc_session_token"]
        assert [getattr(b, "label", None) for b in at.get("download_button")] == ["CSV", "JSON"]
        # Drawn before the run finished: the browser keeps it from the end of that page run.
        assert at.toggle(key="show_history").label == "History (1)"
        # The rerun the browser asks for when it reconnects.
        rerun_in_a_new_session(at, editor_sends(at, "select 'first'"))
        assert not at.exception
        assert notices(at).count(links.MOVED_NOTICE) == 1
        assert at.session_state["ecc_session_token"] != old_token
        # A new session, whose memory holds nothing until the browser's load (no browser here).
        assert at.toggle(key="show_history").label == "History (0)"
        assert "Results" not in [el.value for el in at.subheader]
        assert list(at.get("download_button")) == []  # the old ones pointed at the old session
        assert queries(factory) == ["select 'first'"]  # reconnecting ran nothing
        at.run()  # browsers often rerun a moment after reconnecting: the notice stays
        assert notices(at).count(links.MOVED_NOTICE) == 1
        press_run(at)
        at.run()  # the session's first run: the notice goes, in that very run
        assert queries(factory) == ["select 'first'", "select 'first'"]
        assert links.MOVED_NOTICE not in notices(at)
        at.run()
        assert links.MOVED_NOTICE not in notices(at)  # for good


def test_a_page_opened_fresh_is_not_called_moved() -> None:
    with console(FakeFactory()) as at:
        at.run()
        at.run()
        assert links.MOVED_NOTICE not in notices(at)
        assert at.session_state[links.ARRIVAL_KEY] == "opened"


def test_a_shared_link_fills_the_editor_only_in_the_first_run() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.query_params["q"] = "select 'shared'"
        at.run()
        assert editor_data(at)["text"] == "select 'shared'"
        assert query_text(at) == "select 'shared'"
        assert "shared query" in texts(at)
        assert factory.calls == []  # a link never runs anything
        # The user types over it and presses Ctrl+Enter: the editor's callbacks run.
        browser_run(at, editor_sends(at, "select 'mine'", run=True))
        assert not at.exception
        assert query_text(at) == "select 'mine'"
        assert "shared query" not in texts(at)
        assert queries(factory) == ["select 'mine'"]
        at.query_params["q"] = "select 'shared'"  # the address again holds the link
        at.run()
        assert query_text(at) == "select 'mine'"
        assert "shared query" not in texts(at)


@pytest.mark.parametrize("how", ["button", "ctrl_enter"])
def test_the_link_notice_outlasts_the_editors_rerun_until_a_run(how: str) -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.query_params["q"] = "select 'shared'"
        at.run()
        browser_run(at, editor_sends(at, "select 'shared'"))  # the editor acknowledges
        assert "shared query" in texts(at)  # still up: nobody could have read it yet
        if how == "button":
            press_run(at)
            at.run()
        else:
            browser_run(at, editor_sends(at, "select 'shared'", run=True))
        assert queries(factory) == ["select 'shared'"]
        assert "shared query" not in texts(at)  # never in the same run as a Run
        at.run()
        assert "shared query" not in texts(at)


def test_the_link_notice_goes_when_the_text_changes() -> None:
    with console(FakeFactory()) as at:
        at.query_params["q"] = "select 'shared'"
        at.run()
        browser_run(at, editor_sends(at, "select 'shared' + 1"))
        assert "shared query" not in texts(at)
        browser_run(at, editor_sends(at, "select 'shared'"))  # typed back: gone for good
        assert "shared query" not in texts(at)


def test_a_moved_page_opened_from_a_link_keeps_the_typing_over_the_link() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.query_params["q"] = "select 'shared'"
        at.run()
        browser_run(at, editor_sends(at, "select 'mine'"))  # typed, not run
        assert query_text(at) == "select 'mine'"
        shown = editor_data(at)["version"]
        assert query_param(at, "q") == "select 'shared'"  # no run yet: the link stays
        rerun_in_a_new_session(at, editor_sends(at, "select 'mine'"))
        assert not at.exception
        assert query_text(at) == "select 'mine'"
        assert editor_data(at)["version"] == shown
        assert "shared query" not in texts(at)
        assert links.MOVED_NOTICE in notices(at)
        assert factory.calls == []


def test_a_shared_link_over_the_size_limit_is_refused_with_a_message() -> None:
    factory = FakeFactory()
    with console(factory, max_query_chars=40) as at:
        long_query = "select '" + "x" * 60 + "'"
        at.query_params["q"] = long_query
        at.run()
        assert not at.exception
        assert query_text(at) == "" and editor_data(at)["text"] == ""
        warning = " ".join(str(el.value) for el in at.warning)
        assert "not loaded" in warning and f"{len(long_query)}" in warning and "40" in warning
        assert factory.calls == []
        assert query_param(at, "q") == long_query  # still in the address: nothing is lost


def test_a_shared_link_within_the_configured_limit_loads() -> None:
    with console(FakeFactory(), max_query_chars=40) as at:
        at.query_params["q"] = "select 'short'"
        at.run()
        assert editor_data(at)["text"] == "select 'short'"


def test_shared_link_arguments_count_against_the_argument_limit() -> None:
    with console(FakeFactory(), max_args_chars=20) as at:
        at.query_params["q"] = "select <str>$title"
        at.query_params["p.title"] = "y" * 30
        at.run()
        assert query_text(at) == "" and editor_data(at)["text"] == ""
        assert "not loaded" in " ".join(str(el.value) for el in at.warning)


HOSTILE = "**bold** <b>html</b> [x](javascript:alert(1)) :red[red]"


def test_shared_link_values_are_never_rendered_as_markdown() -> None:
    with console(FakeFactory()) as at:
        at.query_params["q"] = f"select <str>$title # {HOSTILE}"
        at.query_params["p.title"] = HOSTILE
        at.query_params["p.**x**"] = HOSTILE  # not a parameter name: ignored
        at.run()
        assert not at.exception
        assert editor_data(at)["text"] == f"select <str>$title # {HOSTILE}"
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
        set_query_text(at, "select 'old'", tab=1)
        typed = [*editor_sends(at, "select 'first'"),
                 *editor_sends(at, "select 'second'", tab=1)]
        press_run(at)
        rerun_in_a_new_session(at, typed)
        assert not at.exception
        assert at.number_input(key="tab_count").value == 2
        assert at.number_input(key="pref_row_limit").value == 7
        assert sorted(queries(factory)) == ["select 'first'", "select 'second'"]


def test_a_moved_page_without_editor_values_starts_empty_and_runs_nothing() -> None:
    """A browser that sent other widgets but no editor state (an editor that had not
    reported yet): nothing typed is known, so nothing is guessed from the address."""
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 'first'")
        rerun_in_a_new_session(at)
        assert not at.exception
        assert query_text(at) == ""
        assert "shared query" not in texts(at)
        assert queries(factory) == ["select 'first'"]


def test_browser_components_reads_state_and_events_and_ignores_the_rest() -> None:
    from st_page.streamlit_internals import browser_components

    base = "$$ID-0123abcd-q_editor_0"
    events_id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{base}{EVENT_DELIM}events"
    states = [
        WidgetState(id=base, json_value='{"text": "select 1", "seen": 3}'),
        WidgetState(id=events_id, json_trigger_value=json.dumps(
            [{"event": "run", "value": {"text": "select 1"}}, {"no": "event"}, 7])),
        WidgetState(id="$$ID-ffff-q_editor_1", json_value="not json"),
        WidgetState(id="$$ID-eeee-None", json_value='{"text": "unkeyed"}'),
        WidgetState(id="$$ID-dddd-tab_count", int_value=2),
    ]
    found = browser_components(states)
    assert set(found) == {"q_editor_0"}
    assert found["q_editor_0"].state == {"text": "select 1", "seen": 3}
    assert found["q_editor_0"].events == (("run", {"text": "select 1"}),)
