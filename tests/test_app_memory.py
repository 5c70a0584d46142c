"""The history and saved-queries panels in AppTest (no JavaScript: the browser's load is
handed to the session's memory as the component's callback would): search, load, run again,
forget, save, rename, delete, the team library beside them, and hostile stored text shown as
text, never as Markdown structure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecc.driver.client import QueryMethod
from ecc.library.browser import LOAD_ASKS, BrowserMemory
from ecc.library.entries import MemoryLimits
from ecc.settings.config import ConsoleSettings
from st_page import saved_queries
from st_page.browser_memory import MEMORY_KEY
from tests.apptest_support import (
    FakeFactory,
    console,
    run_query,
    set_query_text,
    shown,
    texts,
)
from tests.conftest import wait_until
from tests.test_app_hardening import PAYLOADS, foreign_structure

PAGE = str(Path(__file__).resolve().parent / "memory_panels_page.py")


def stored_history(n: int, query: str) -> tuple[str, str]:
    return f"h{n}", json.dumps({"v": 1, "q": query, "a": "", "k": "", "m": "query",
                                "s": "done", "e": 0.01 * n, "r": n, "t": 1_700_000_000.0 + n})


@pytest.fixture
def at() -> Iterator[AppTest]:
    saved_queries._team_library.clear()
    test = AppTest.from_file(PAGE, default_timeout=30)
    yield test
    saved_queries._team_library.clear()


def with_memory(at: AppTest, history: dict[str, str]) -> BrowserMemory:
    """A session whose browser handed over ``history`` (as the component's load does)."""
    memory = BrowserMemory("anon", MemoryLimits.from_settings(ConsoleSettings()))
    memory.adopt_loaded({"load": memory.load_token, "h": history, "s": {}})
    at.session_state[MEMORY_KEY] = memory
    return memory


def test_the_history_panel_searches_loads_and_runs_again(at: AppTest) -> None:
    with_memory(at, dict(stored_history(n, f"select {n} # {'movie' if n % 2 else 'person'}")
                         for n in range(1, 6)))
    at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 5
    at.text_input(key="memory_search").input("movie").run()
    assert list(at.dataframe[0].value["query"]) == ["select 5 # movie", "select 3 # movie",
                                                    "select 1 # movie"]
    at.selectbox(key="memory_choice").set_value("h3").run()
    at.button(key="memory_load").click().run()
    assert at.text[-1].value == "did: load: select 3 # movie"
    at.button(key="memory_rerun").click().run()
    assert at.text[-1].value == "did: run: select 3 # movie"


def test_forget_empties_the_history_panel(at: AppTest) -> None:
    memory = with_memory(at, dict([stored_history(1, "select 1")]))
    at.run()
    at.button(key="memory_forget").click().run()
    assert memory.history == [] and not at.dataframe
    assert memory.component_data()["cmds"][-1]["op"] == "clear"


def test_panels_say_so_when_the_browser_never_hands_its_memory_over(at: AppTest) -> None:
    memory = BrowserMemory("anon", MemoryLimits.from_settings(ConsoleSettings()))
    at.session_state[MEMORY_KEY] = memory
    at.run()
    assert not at.exception
    assert "Reading your history from this browser…" in texts(at)
    for _ in range(LOAD_ASKS):  # every ask went unanswered
        memory.ask_again()
    assert memory.gave_up
    at.run()
    assert not at.exception
    page = texts(at)
    assert "Reading your history" not in page and "Reading your saved queries" not in page
    assert "This browser did not hand over the history it keeps." in page
    assert "This browser did not hand over the saved queries it keeps." in page


@pytest.mark.usefixtures("clean_driver_env")
def test_after_a_reload_the_history_label_names_the_runs_the_browser_keeps() -> None:
    """A reloaded page is a new session with no runs of its own: the History toggle says what
    the browser still keeps, or an analyst reading "History (0)" never opens it."""
    with console(FakeFactory()) as at:
        at.run()
        memory = at.session_state[MEMORY_KEY]
        assert isinstance(memory, BrowserMemory) and not memory.loaded
        assert at.toggle(key="show_history").label == "History (0)"  # nothing kept yet
        # The browser hands over what it kept of earlier sessions (the component's callback).
        memory.adopt_loaded({"load": memory.load_token, "s": {},
                             "h": dict(stored_history(n, f"select {n}") for n in range(1, 4))})
        at.run()
        assert not at.exception
        assert at.toggle(key="show_history").label == "History (0) · 3 kept in this browser"
        run_query(at, "select 'new'")
        at.run()  # the run is recorded at the end of the page run that streamed it
        assert at.toggle(key="show_history").label == "History (1) · 4 kept in this browser"


@pytest.mark.usefixtures("clean_driver_env")
def test_without_browser_memory_the_history_label_counts_the_session_only() -> None:
    with console(FakeFactory(), browser_memory=False) as at:
        at.run()
        assert MEMORY_KEY not in at.session_state
        run_query(at, "select 1")
        at.run()
        assert at.toggle(key="show_history").label == "History (1)"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_stored_payload_renders_as_text(at: AppTest, payload: str) -> None:
    memory = with_memory(at, dict([stored_history(1, "select 1 # " + payload)]))
    memory.save("evil " + " ".join(payload.split()), "select 2 # " + payload,
                memory.history[0].method, kwargs_text=payload)
    at.run()
    assert not at.exception
    assert foreign_structure(at) == set()
    assert payload in at.dataframe[0].value["query"][0]


def test_save_rename_and_delete_from_the_panel(at: AppTest) -> None:
    memory = with_memory(at, {})
    at.session_state["probe_text"] = "select Movie { title }"
    at.run()
    at.text_input(key="saved_name").input("Movies").run()
    at.button(key="saved_save").click().run()
    assert [(q.name, q.query) for q in memory.saved] == [("Movies", "select Movie { title }")]
    assert any("Saved “Movies”" in s.value for s in at.success)
    at.text_input(key="saved_rename").input("Films").run()
    at.button(key="saved_rename_go").click().run()
    assert [q.name for q in memory.saved] == ["Films"]
    at.button(key="saved_load").click().run()
    assert at.text[-1].value == "did: load: select Movie { title }"
    at.button(key="saved_delete").click().run()
    assert memory.saved == []


def test_a_refused_save_says_why(at: AppTest) -> None:
    with_memory(at, {})
    at.session_state["probe_text"] = "   "
    at.run()
    at.text_input(key="saved_name").input("Empty").run()
    at.button(key="saved_save").click().run()
    assert "query is empty" in at.error[0].value


def test_the_team_library_is_listed_beside_saved_queries(at: AppTest,
                                                         tmp_path: Path) -> None:
    (tmp_path / "top.edgeql").write_text("# Top movies\nselect Movie limit 10\n")
    (tmp_path / "bad.edgeql").write_text("# only a comment\n")
    at.session_state["probe_team"] = str(tmp_path)
    with_memory(at, {})
    at.run()
    assert not at.exception
    assert any("Team library" in m.value for m in at.markdown)
    assert any("Top movies" in c.value for c in at.caption)
    assert any("bad.edgeql: its query is empty" in shown(c.value) for c in at.caption)
    at.button(key="team_run").click().run()
    assert at.text[-1].value == "did: run: select Movie limit 10"


# --- on the console itself ----------------------------------------------------------------------
def loaded_console_memory(at: AppTest) -> BrowserMemory:
    memory = BrowserMemory("anon", MemoryLimits.from_settings(ConsoleSettings()))
    memory.adopt_loaded({"load": memory.load_token, "h": {}, "s": {}})
    at.session_state[MEMORY_KEY] = memory
    return memory


def test_the_console_saves_a_typed_query_with_its_arguments_as_text() -> None:
    with console() as at:
        memory = loaded_console_memory(at)
        set_query_text(at, "select <int64>$n + <str>$s")
        at.text_input(key="p_0_n").input("41").run()
        at.text_input(key="p_0_s").input("x").run()
        at.toggle(key="show_saved").set_value(True).run()
        at.text_input(key="saved_name").input("Typed").run()
        at.button(key="saved_save").click().run()
        assert not at.exception
        [saved] = memory.saved
        assert (saved.name, saved.query) == ("Typed", "select <int64>$n + <str>$s")
        assert (saved.args_text, saved.kwargs_text) == ("", 'n = 41\ns = "x"')


def test_the_console_runs_a_saved_query_and_records_the_run() -> None:
    with console() as at:
        memory = loaded_console_memory(at)
        memory.save("Two", "select 'saved-and-run'", memory_method())
        at.run()
        at.toggle(key="show_saved").set_value(True).run()
        at.button(key="saved_run").click().run()
        assert not at.exception
        assert at.session_state["q_text_0"] == "select 'saved-and-run'"
        wait_until(lambda: bool(at.run() and memory.history), 15, "the run recorded")
        assert memory.history[0].query == "select 'saved-and-run'"
        assert memory.history[0].status == "done"
        puts = [c for c in memory.component_data()["cmds"] if c["op"] == "put"]
        assert [c["kind"] for c in puts] == ["s", "h"]  # what the browser has to store


def test_a_saved_query_with_bad_arguments_is_refused_with_its_reason() -> None:
    with console() as at:
        memory = loaded_console_memory(at)
        memory.save("Broken", "select <int64>$0", memory_method(), args_text="1, [")
        at.run()
        at.toggle(key="show_saved").set_value(True).run()
        at.button(key="saved_run").click().run()
        assert "cannot read the positional arguments" in texts(at)
        assert memory.history == []


def memory_method() -> QueryMethod:
    return QueryMethod.QUERY
