"""The data explorer panel (``st_page/data_explorer.py``) in AppTest, on the fake's generated
data set: pages, order, filters, a followed link and the breadcrumb back, the count, and
"Open as query"; a page is sent once per state, not on every rerun."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ecc.fake.client import FakeClientFactory, demo_responder, schema_responder
from ecc.fake.explorer import dataset_schema, explorer_responder, generated_dataset
from ecc.running.sessions import RuntimeLimits, SessionRuntime
from tests.apptest_support import shown
from tests.conftest import wait_until
from tests.test_app_hardening import PAYLOADS, foreign_structure

N = 95
DATASET = generated_dataset(N, 20)
MODEL = dataset_schema(DATASET)


def panel_script() -> None:
    import streamlit as st

    from ecc.driver.execute import ExecutionPolicy
    from st_page.data_explorer import data_explorer

    data_explorer(st.session_state["test_runtime"], st.session_state["test_model"],
                  ExecutionPolicy(read_only=True, timeout_s=30.0, implicit_limit=1001),
                  page_size=10, page_wait_s=st.session_state.get("test_page_wait_s", 10.0))


@pytest.fixture()
def factory() -> FakeClientFactory:
    return FakeClientFactory(responder=schema_responder(
        MODEL, fallback=explorer_responder(DATASET, demo_responder)))


@pytest.fixture()
def at(factory: FakeClientFactory) -> Iterator[AppTest]:
    runtime = SessionRuntime("app-explorer-token", factory, RuntimeLimits(close_timeout_s=1.0))
    app = AppTest.from_function(panel_script, default_timeout=30)
    app.session_state["test_runtime"] = runtime
    app.session_state["test_model"] = MODEL
    try:
        yield app.run()
    finally:
        runtime.close()


def column(at: AppTest, name: str) -> list[Any]:
    assert not at.exception, at.exception
    return list(at.dataframe[0].value[name])


def caption_with(at: AppTest, text: str) -> str:
    found = [c.value for c in at.caption if text in c.value]
    assert found, [c.value for c in at.caption]
    return found[0]


def add_filter(at: AppTest, prop: str, op: str, value: str) -> None:
    """Fill the explorer's filter row (property, operator, value) and press its add button."""
    at.selectbox(key="dx_filter_prop").set_value(prop).run()
    at.selectbox(key="dx_filter_op").set_value(op).run()
    at.text_input(key="dx_filter_value").input(value).run()
    at.button(key="dx_filter_add").click().run()


def click_row(at: AppTest, index: int) -> None:
    """Pick row ``index`` of the explorer's table, as a click on it does (its selection)."""
    (key,) = [d.key for d in at.dataframe if d.key and d.key.startswith("dx_rows_")]
    at.session_state[key] = {"selection": {"rows": [index], "columns": []}}
    at.run()


def page_calls(factory: FakeClientFactory) -> int:
    return sum(1 for call in factory.calls if "$page_offset" in call[1])


def test_the_first_page_and_the_next(at: AppTest, factory: FakeClientFactory) -> None:
    assert at.selectbox(key="dx_type").value == "default::Item"
    assert column(at, "number") == list(range(10))
    assert "of 95" in caption_with(at, "Page 1")
    at.button(key="dx_next").click().run()
    assert column(at, "number") == list(range(10, 20))
    at.button(key="dx_prev").click().run()
    assert column(at, "number") == list(range(10))


def test_a_rerun_does_not_send_the_page_again(at: AppTest, factory: FakeClientFactory) -> None:
    sent = page_calls(factory)
    at.run()
    assert page_calls(factory) == sent
    assert column(at, "number") == list(range(10))


def test_the_last_page(at: AppTest) -> None:
    for _ in range(9):
        at.button(key="dx_next").click().run()
    assert column(at, "number") == list(range(90, 95))
    assert at.button(key="dx_next").disabled
    assert "objects 91–95 of 95" in caption_with(at, "Page 10")


def test_order_by_a_property(at: AppTest) -> None:
    at.selectbox(key="dx_order").set_value("shuffled").run()
    at.toggle(key="dx_desc").set_value(True).run()
    assert column(at, "shuffled") == list(range(94, 84, -1))


def test_filters_are_added_and_removed(at: AppTest) -> None:
    add_filter(at, "kind", "=", "Gamma")
    assert column(at, "number") == [2, 7, 12, 17, 22, 27, 32, 37, 42, 47]
    assert "of 19" in caption_with(at, "Page 1")
    at.button(key="dx_rm_0").click().run()
    assert column(at, "number") == list(range(10))


def test_a_bad_filter_value_is_refused_with_a_message(at: AppTest) -> None:
    add_filter(at, "number", ">", "many")
    assert any("Filter on number" in e.value and "whole number" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert column(at, "number") == list(range(10))  # the table stays as it was


def test_following_a_link_and_coming_back(at: AppTest) -> None:
    assert not [b for b in at.button if b.key == "dx_link_parts"]  # no row picked yet
    click_row(at, 3)  # item 3 has 3 parts
    assert shown(caption_with(at, "Linked objects of")) == "Linked objects of 4. item-0000003"
    at.button(key="dx_link_parts").click().run()
    assert sorted(column(at, "number")) == [9, 10, 11]
    assert shown(at.button(key="dx_crumb_0").label) == "default::Item"  # escaped Markdown
    at.button(key="dx_crumb_0").click().run()
    assert column(at, "number") == list(range(10))


def test_a_row_click_rebuilds_no_table_and_sends_nothing(
        at: AppTest, factory: FakeClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    import st_page.data_explorer as panel

    built: list[object] = []
    real = panel.table_data

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(panel, "table_data", counting)
    sent = page_calls(factory)
    click_row(at, 2)
    click_row(at, 5)
    assert built == [] and page_calls(factory) == sent
    assert shown(at.button(key="dx_link_parts").label).startswith("parts (1)")  # 5 mod 4
    at.button(key="dx_next").click().run()
    assert len(built) == 1  # a new page: its table, once


def test_a_row_picked_on_one_page_is_not_picked_on_the_next(at: AppTest) -> None:
    click_row(at, 3)
    assert [b for b in at.button if b.key == "dx_link_parts"]
    at.button(key="dx_next").click().run()
    assert not [b for b in at.button if b.key == "dx_link_parts"]
    assert "Click a row" in caption_with(at, "Click a row")


def test_a_followed_links_properties_are_columns(at: AppTest) -> None:
    click_row(at, 7)  # item 7 has 3 parts: (21 + j) mod 20 = 1, 2, 3
    at.button(key="dx_link_parts").click().run()
    table = at.dataframe[0].value
    assert list(table["number"]) == [1, 2, 3]
    assert list(table["@quantity"]) == [1 + (7 + p) % 5 for p in (1, 2, 3)]
    assert [None if v is None or v != v else v for v in table["@note"]] == [
        None if (7 + p) % 3 == 0 else f"note-7-{p}" for p in (1, 2, 3)]
    assert shown(caption_with(at, "link properties")) == \
        "@note, @quantity: link properties of default::Item.parts"
    at.button(key="dx_crumb_0").click().run()
    assert not [c for c in at.dataframe[0].value.columns if c.startswith("@")]


def test_a_link_to_a_type_with_subtypes_says_it_shows_that_types_columns(
        at: AppTest) -> None:
    from ecc.schema.model import ObjectType

    special = ObjectType("default::SpecialPart", bases=("default::Part",),
                         ancestors=("default::Part", "std::Object", "std::BaseObject"))
    at.session_state["test_model"] = replace(MODEL, object_types=(*MODEL.object_types, special))
    at.run()
    assert not [c for c in at.caption if "has subtypes" in c.value]  # Item has none
    click_row(at, 3)
    at.button(key="dx_link_parts").click().run()
    assert sorted(column(at, "number")) == [9, 10, 11]
    assert shown(caption_with(at, "has subtypes")) == (
        "default::Part has subtypes (default::SpecialPart): their objects are listed with "
        "default::Part's columns only; their own properties and links are not shown.")


def test_open_as_query_fills_the_first_tab(at: AppTest) -> None:
    add_filter(at, "number", ">=", "40")
    at.button(key="dx_open").click().run()
    text = at.session_state["q_text_0"]
    assert text.startswith("select default::Item {")
    assert "(.number >= <std::int64>$f0)" in text and text.endswith("offset 0\nlimit 10")
    assert at.session_state["param_memory"]["f0"] == "40"


# --- the whole page: the Data toggle, settings, "Open as query" into the form -------------

def dataset_factory() -> FakeClientFactory:
    from ecc.fake.client import dataset_responder

    return FakeClientFactory(responder=dataset_responder(N, 20))


def test_the_page_opens_the_explorer_with_the_page_size_setting() -> None:
    from tests.apptest_support import console

    with console(dataset_factory(), explorer_page_size=7) as page:
        page.run()
        assert not page.exception, page.exception
        assert not [s for s in page.selectbox if s.key == "dx_type"]  # drawn only when on
        page.toggle(key="show_data").set_value(True).run()
        assert not page.exception, page.exception
        table = next(d for d in page.dataframe if "number" in d.value.columns)
        assert list(table.value["number"]) == list(range(7))
        assert "id" in table.value.columns and "parts_count" in table.value.columns
        assert len(page.session_state["run_book"]) == 0  # paging is not in the history


def test_open_as_query_then_run_it_from_the_form() -> None:
    from tests.apptest_support import console

    factory = dataset_factory()
    with console(factory, explorer_page_size=10) as page:
        page.run()
        page.toggle(key="show_data").set_value(True).run()
        add_filter(page, "kind", "=", "Beta")
        page.button(key="dx_open").click().run()
        assert not page.exception, page.exception
        assert "(.kind = <default::Kind><std::str>$f0)" in page.session_state["q_text_0"]
        # The typed input for $f0 holds the filter's value; Run sends the same query.
        assert page.text_input(key="p_0_f0").value == "Beta"
        page.button(key="run_queries").click().run()
        assert not page.exception, page.exception
        (record,) = page.session_state["run_book"].newest_first()
        assert record.status == "done", record.error
        rows = record.result.value
        assert [r.number for r in rows] == [1, 6, 11, 16, 21, 26, 31, 36, 41, 46]


def test_a_hostile_object_name_in_the_breadcrumb_is_plain_text(
        factory: FakeClientFactory) -> None:
    from ecc.explorer.state import ExplorerState
    from st_page.data_explorer import STATE_KEY

    hostile = "[click](https://evil.example) **bold** <img src=x>"
    item = DATASET.types["default::Item"]
    runtime = SessionRuntime("app-explorer-hostile", factory, RuntimeLimits(close_timeout_s=1.0))
    app = AppTest.from_function(panel_script, default_timeout=30)
    app.session_state["test_runtime"] = runtime
    app.session_state["test_model"] = MODEL
    app.session_state[STATE_KEY] = ExplorerState.of_type("default::Item", 10).follow(
        "default::Item", item.id_of(3), "parts", "default::Part", hostile)
    try:
        app.run()
        assert not app.exception, app.exception
        label = app.button(key="dx_crumb_1").label
        assert shown(label) == f"{hostile} · parts"
        assert "\\[click\\]" in label and "\\*\\*bold" in label and "\\<img" in label
    finally:
        runtime.close()


def test_reload_and_a_new_schema_model_ask_the_server_again(
        at: AppTest, factory: FakeClientFactory) -> None:
    sent = page_calls(factory)
    at.button(key="dx_reload").click().run()
    assert page_calls(factory) == sent + 1
    at.session_state["test_model"] = dataset_schema(DATASET)  # another model: a branch switch
    at.run()
    assert page_calls(factory) == sent + 2
    assert column(at, "number") == list(range(10))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_filter_text_renders_as_text(at: AppTest, payload: str) -> None:
    add_filter(at, "name", "ilike", payload)  # a str: taken, shown in the filter list
    add_filter(at, "number", "=", payload)  # not a number: refused with a message
    assert not at.exception, at.exception
    assert any("Filter on number" in e.value for e in at.error)
    assert any(shown(c.value) == f"name ilike {' '.join(payload.split())}"
               for c in at.caption), [c.value for c in at.caption]
    assert foreign_structure(at) == set()


def slow_app(latency_s: float) -> tuple[AppTest, SessionRuntime, FakeClientFactory]:
    from ecc.fake.client import dataset_responder

    factory = FakeClientFactory(responder=dataset_responder(N, 20), latency_s=latency_s)
    runtime = SessionRuntime("app-explorer-slow", factory, RuntimeLimits(close_timeout_s=1.0))
    app = AppTest.from_function(panel_script, default_timeout=30)
    app.session_state["test_runtime"] = runtime
    app.session_state["test_model"] = MODEL
    app.session_state["test_page_wait_s"] = 0.01
    return app, runtime, factory


def test_a_slow_page_does_not_hold_the_page_run() -> None:
    from st_page.data_explorer import PENDING_KEY

    app, runtime, _ = slow_app(latency_s=0.4)
    try:
        app.run()
        assert not app.exception, app.exception
        assert any("Loading the page" in c.value for c in app.caption)
        assert not app.dataframe  # no table yet; the page run went on
        ended(runtime, app.session_state[PENDING_KEY].run_id)
        app.run()  # what the polling fragment's rerun does
        assert column(app, "number") == list(range(10))
    finally:
        runtime.close()


def ended(runtime: SessionRuntime, run_id: int) -> None:
    def done() -> bool:
        record = runtime.explorer_book.get(run_id)
        return record is not None and not record.active

    wait_until(done, timeout=20, what=f"explorer run {run_id} ended")


def test_a_slow_page_can_be_cancelled() -> None:
    from st_page.data_explorer import PENDING_KEY

    app, runtime, _ = slow_app(latency_s=30)
    try:
        app.run()
        run_id = app.session_state[PENDING_KEY].run_id
        app.button(key="dx_cancel").click().run()
        ended(runtime, run_id)
        app.run()  # the polling fragment's rerun
        assert not app.exception, app.exception
        assert any("Cancelled" in e.value for e in app.error), [e.value for e in app.error]
        app.run()  # another rerun shows the same outcome: nothing is sent again by itself
        assert any("Cancelled" in e.value for e in app.error)
        assert PENDING_KEY not in app.session_state
        app.button(key="dx_retry").click().run()  # Try again sends the page again
        assert any("Loading the page" in c.value for c in app.caption)
        assert app.session_state[PENDING_KEY].run_id != run_id
    finally:
        runtime.close()
