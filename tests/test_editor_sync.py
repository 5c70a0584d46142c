"""Who wins the query text: typing in the editor or a write from a callback (history, links,
the schema explorer). Pure rules over a mapping; the page calls them with session state."""

from __future__ import annotations

from typing import Any

from ecc.editor import sync as editor_sync
from ecc.editor.sync import Seed, on_editor_run, on_editor_text, seed_for_render


def test_the_first_render_sends_the_current_text_as_version_one() -> None:
    state: dict[str, Any] = {"q_text_0": "select 1"}
    assert seed_for_render(state, 0) == Seed("select 1", 1)
    assert seed_for_render({}, 3) == Seed("", 1)


def test_typing_updates_the_tab_text_and_never_bumps_the_version() -> None:
    state: dict[str, Any] = {"q_text_0": ""}
    seed_for_render(state, 0)
    for text in ("s", "sel", "select 1"):
        on_editor_text(state, 0, text)
        assert seed_for_render(state, 0) == Seed(text, 1)
    assert state["q_text_0"] == "select 1"


def test_an_external_write_wins_once_then_typing_wins_again() -> None:
    state: dict[str, Any] = {"q_text_0": "select 1"}
    seed_for_render(state, 0)
    state["q_text_0"] = "select Movie"  # history "Load into form", in a callback
    assert seed_for_render(state, 0) == Seed("select Movie", 2)
    assert seed_for_render(state, 0) == Seed("select Movie", 2)  # once, not every rerun
    on_editor_text(state, 0, "select Movie {")
    assert seed_for_render(state, 0) == Seed("select Movie {", 2)


def test_the_text_travels_until_the_editor_acknowledges_its_version() -> None:
    seed = Seed("select 1", 3)
    assert editor_sync.text_to_send(seed, None) == "select 1"  # a new editor
    assert editor_sync.text_to_send(seed, 2) == "select 1"  # an older version on screen
    assert editor_sync.text_to_send(seed, 3) is None  # shown: the data stays the same


def test_tabs_are_independent() -> None:
    state: dict[str, Any] = {"q_text_0": "a", "q_text_1": "b"}
    seed_for_render(state, 0)
    seed_for_render(state, 1)
    state["q_text_1"] = "c"
    assert seed_for_render(state, 0) == Seed("a", 1)
    assert seed_for_render(state, 1) == Seed("c", 2)


def test_a_run_from_the_editor_carries_its_text_and_is_taken_once() -> None:
    state: dict[str, Any] = {"q_text_0": "select 1"}
    seed_for_render(state, 0)
    on_editor_run(state, 0, {"text": "select 2"})
    assert state["q_text_0"] == "select 2"
    assert seed_for_render(state, 0).version == 1  # the editor's own text: no replace
    assert editor_sync.take_run_request(state) is True
    assert editor_sync.take_run_request(state) is False


def test_a_cleared_trigger_is_no_run_and_non_text_values_are_ignored() -> None:
    state: dict[str, Any] = {"q_text_0": "keep"}
    on_editor_run(state, 0, None)  # a trigger resets to None after its run
    on_editor_text(state, 0, None)
    on_editor_text(state, 0, 42)
    assert state["q_text_0"] == "keep"
    assert editor_sync.take_run_request(state) is False


def test_reported_values_are_read_from_mappings_and_attribute_bags() -> None:
    class Bag:
        text = "from attribute"

    assert editor_sync.reported_value({"text": "from mapping"}, "text") == "from mapping"
    assert editor_sync.reported_value(Bag(), "text") == "from attribute"
    assert editor_sync.reported_value(None, "text") is None


def test_a_new_session_adopts_the_browsers_editor_text_and_version() -> None:
    state: dict[str, Any] = {}
    editor_sync.adopt_browser_editor(state, 0, {"text": "select 'typed'", "seen": 4})
    assert state["q_text_0"] == "select 'typed'"
    assert seed_for_render(state, 0) == Seed("select 'typed'", 4)  # not a new version
    assert not editor_sync.take_run_request(state)
    state["q_text_0"] = "select 'loaded'"  # a later external write still wins once
    assert seed_for_render(state, 0) == Seed("select 'loaded'", 5)


def test_a_new_session_takes_a_ctrl_enter_sent_with_its_first_run() -> None:
    state: dict[str, Any] = {}
    editor_sync.adopt_browser_editor(state, 1, {"text": "select 1", "seen": 2},
                                     [("run", {"text": "select 12"})])
    assert state["q_text_1"] == "select 12"  # the run's text: typed after the last report
    assert editor_sync.take_run_request(state)
    assert not editor_sync.take_run_request(state)


def test_odd_browser_values_change_nothing() -> None:
    state: dict[str, Any] = {}
    editor_sync.adopt_browser_editor(state, 0, {"text": 5, "seen": True},
                                     [("other", {"text": "x"}), ("run", None)])
    assert state == {}
    editor_sync.adopt_browser_editor(state, 0, {"seen": "3"})
    assert seed_for_render(state, 0) == Seed("", 1)


def test_editor_index_reads_only_editor_keys() -> None:
    assert editor_sync.editor_index("q_editor_0") == 0
    assert editor_sync.editor_index("q_editor_12") == 12
    for key in ("q_editor_", "q_editor_x", "q_editor_-1", "q_editor_١", "q_text_0",
                "q_editor_99999"):
        assert editor_sync.editor_index(key) is None, key


def test_the_schema_tree_travels_until_an_editor_of_the_page_holds_it() -> None:
    state: dict[str, object] = {}
    assert editor_sync.tree_to_send(state, "h1", None)  # nobody acknowledged it yet
    assert not editor_sync.tree_to_send(state, "h1", "h1")  # this editor holds it
    assert not editor_sync.tree_to_send(state, "h1", None)  # a new tab: the page holds it
    assert editor_sync.tree_to_send(state, "h1", editor_sync.TREE_MISSING)  # page lost it
    assert editor_sync.tree_to_send(state, "h2", "h1")  # a new schema goes out once
    assert not editor_sync.tree_to_send(state, "h2", "h2")
    assert not editor_sync.tree_to_send(state, "h1", None)  # both kept, as the browser does
    for n in range(3, 3 + editor_sync.KEPT_ACKS):
        editor_sync.tree_to_send(state, f"h{n}", f"h{n}")
    assert editor_sync.tree_to_send(state, "h1", None)  # forgotten beyond KEPT_ACKS
