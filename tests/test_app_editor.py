"""The editor in the page, driven by AppTest with the fake client.

AppTest runs no JavaScript, so it cannot type into the component or press its keys. These
tests read what the component receives (its ``data``) and act through the contract the
component's callbacks use: ``q_text_{i}`` for the text (as debounced typing or a history
load leaves it) and ``ecc.editor.sync``'s run request for Ctrl/Cmd+Enter. The browser tests
(tests/test_browser_editor.py) prove the JavaScript side.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from ecc.editor import sync as editor_sync
from ecc.fake.client import schema_responder
from ecc.schema.model import ObjectType, Pointer, SchemaModel
from tests.apptest_support import (
    FakeFactory,
    console,
    editor_data,
    run_query,
    set_query_text,
    submit,
    texts,
)

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def _describes(factory: FakeFactory) -> int:
    return sum(client.stats.describes for client in factory.built)


def test_the_editor_receives_text_language_and_the_fakes_schema() -> None:
    with console(FakeFactory()) as at:
        set_query_text(at, "select Movie")
        assert not at.exception
        data = editor_data(at)
        assert data["text"] == "select Movie" and data["version"] >= 1
        assert data["label"] == "EdgeQL"
        assert "select" in data["language"]["keywords"]
        assert "default::Movie" in data["completion"]["tree"]["objects"]
        assert data["completion"]["hash"]  # the tree's address in the browser
        assert not at.get("text_area")  # no plain text area left for the query


def test_the_servers_schema_model_feeds_the_completions() -> None:

    model = SchemaModel(modules=("shop",), object_types=(
        ObjectType("shop::Order", pointers=(Pointer("total", "property", "std::decimal"),)),))
    with console(FakeFactory(responder=schema_responder(model))) as at:
        at.run()
        tree = editor_data(at)["completion"]["tree"]
        assert list(tree["objects"]) == ["shop::Order"]
        assert tree["objects"]["shop::Order"][0][0] == "total"  # [name, kind, target, card]
        assert at.session_state["schema_model"].object_types == model.object_types


def test_a_slow_schema_read_gives_keywords_first_and_names_on_a_later_run() -> None:
    """The first run waits at most SCHEMA_FIRST_WAIT_S for the server's schema; a slower
    answer arrives with a later run, and the server is asked once."""
    import asyncio

    from ecc.schema import introspect
    from st_page import schema_explorer

    schema = schema_responder()

    async def late(answer: object) -> object:
        await asyncio.sleep(schema_explorer.SCHEMA_FIRST_WAIT_S + 0.5)
        return answer

    def respond(query: str, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
        answer = schema(query, args, kwargs)
        return late(answer) if query == introspect.OBJECT_TYPES_QUERY else answer

    def names() -> dict[str, object]:
        return dict(editor_data(at)["completion"].get("tree", {}).get("objects", {}))

    parts = {query.strip() for query in introspect.PARTS.values()}
    factory = FakeFactory(responder=respond)
    with console(factory) as at:
        at.run()
        assert not at.exception
        assert not names()  # keywords only, for now
        assert "hash" not in editor_data(at)["completion"]
        deadline = time.monotonic() + 10
        while not names() and time.monotonic() < deadline:
            time.sleep(0.2)
            at.run()
        assert "default::Movie" in names()
        reads = [c for c in factory.all_calls if c[1].strip() in parts]
        assert len(reads) == len(introspect.PARTS)


def test_typed_inputs_follow_the_text_before_any_run_and_describe_once_per_text() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        set_query_text(at, "select <str>$title")
        assert at.text_input(key="p_0_title")  # appears without pressing Run
        assert editor_data(at)["completion"]["params"] == ["$title"]
        after_first = _describes(factory)
        assert after_first == 1
        at.run()
        at.run()  # reruns of the same text (other widgets) reuse the description
        assert _describes(factory) == after_first
        set_query_text(at, "select (<str>$title, <int64>$year)")
        assert at.text_input(key="p_0_year")
        assert _describes(factory) == after_first + 1
        assert factory.calls == []  # nothing was sent to run


def test_one_run_sends_a_new_query_with_its_parameters() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        set_query_text(at, "select <int64>$year")
        at.text_input(key="p_0_year").input("2014")
        submit(at)
        assert not at.exception
        assert factory.calls[-1][3] == {"year": 2014}
        assert len(factory.calls) == 1


def test_switching_to_the_argument_language_shows_its_fields_and_sends_nothing() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        set_query_text(at, "select <int64>$year")
        at.segmented_control(key="q_mode_0").set_value("text").run()
        assert not at.exception
        assert at.text_area(key="q_args_0") and at.text_area(key="q_kwargs_0")
        assert factory.calls == []
        assert not at.error


def test_ctrl_enter_in_the_editor_runs_through_the_run_request() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        # What the editor's run callback leaves behind (AppTest cannot press the keys).
        left_behind: dict[str, Any] = {}
        editor_sync.on_editor_run(left_behind, 0, {"text": "select 42"})
        for key, value in left_behind.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception
        assert factory.calls[-1][1] == "select 42"
        at.run()  # the request is taken once: a later rerun sends nothing
        assert len(factory.calls) == 1


def test_a_history_load_bumps_the_version_once() -> None:
    with console(FakeFactory()) as at:
        set_query_text(at, "select 1")
        first = editor_data(at)["version"]
        at.run()
        assert editor_data(at)["version"] == first  # plain reruns do not replace the text
        at.session_state["q_text_0"] = "select 2"  # a callback's write
        at.run()
        assert editor_data(at)["version"] == first + 1
        assert editor_data(at)["text"] == "select 2"


def test_text_over_the_limit_is_named_skips_inputs_and_never_runs() -> None:
    factory = FakeFactory()
    with console(factory, max_query_chars=50) as at:
        set_query_text(at, "select <str>$x # " + "y" * 60)
        assert not at.exception
        assert "limit is 50" in texts(at)
        assert not at.get("text_input")  # no parameters read from an over-long text
        assert _describes(factory) == 0
        assert editor_data(at)["max_chars"] == 50
        submit(at)
        assert "Nothing was run" in texts(at)
        assert factory.calls == []


def test_each_tab_has_its_own_editor() -> None:
    with console(FakeFactory()) as at:
        at.session_state["tab_count"] = 2
        at.session_state["q_text_1"] = "select 2"
        at.run()
        assert editor_data(at, 0)["label"] == "EdgeQL, query 1"
        assert editor_data(at, 1)["text"] == "select 2"


def test_run_again_puts_the_rerun_query_into_the_editor() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        run_query(at, "select 5")
        set_query_text(at, "select 6")  # typed since, not run
        version = editor_data(at)["version"]
        at.toggle(key="show_history").set_value(True).run()
        at.selectbox(key="history_run").set_value(1)
        at.button(key="history_rerun").click().run()
        assert [c[1] for c in factory.calls] == ["select 5", "select 5"]
        assert editor_data(at)["text"] == "select 5"
        assert editor_data(at)["version"] == version + 1


def test_argument_language_mode_offers_the_texts_parameters_for_completion() -> None:
    with console(FakeFactory()) as at:
        at.session_state["q_mode_0"] = "text"
        set_query_text(at, "select (<str>$title, <int64>$year)")
        assert editor_data(at)["completion"]["params"] == ["$title", "$year"]
        set_query_text(at, "select <str>$name")
        assert editor_data(at)["completion"]["params"] == ["$name"]


def test_the_bundle_is_the_one_file_named_after_its_content(tmp_path: Path) -> None:
    import st_comps

    assert st_comps.BUNDLE.name == "editor." + hashlib.sha256(
        st_comps.BUNDLE.read_bytes()).hexdigest()[:16] + ".js"  # what the page serves
    code = b"export default function mount() {}\n"
    right = tmp_path / f"editor.{hashlib.sha256(code).hexdigest()[:16]}.js"
    right.write_bytes(code)
    assert st_comps.bundle_file(tmp_path) == right
    right.write_bytes(code + b"// edited after the build\n")  # its URL would not change
    with pytest.raises(RuntimeError, match=r"not named after its content.*npm run build"):
        st_comps.bundle_file(tmp_path)
    right.write_bytes(code)
    (tmp_path / "editor.0123456789abcdef.js").write_bytes(b"// an older build\n")
    with pytest.raises(RuntimeError, match=r"exactly one editor\.<hash>\.js"):
        st_comps.bundle_file(tmp_path)
