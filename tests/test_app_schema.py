"""The schema explorer on the page (AppTest with the shipped fake and its demo schema)."""

from __future__ import annotations

from typing import Any

import gel.errors
import pytest
from streamlit.testing.v1 import AppTest

from ecc.fake import schema as fake_schema
from ecc.fake.client import schema_responder
from ecc.schema import introspect
from ecc.schema.model import SchemaModel
from ecc.schema.view import query_text
from tests.apptest_support import APP, FakeFactory, console, editor_data, shown, texts

pytestmark = pytest.mark.usefixtures("clean_driver_env")

INTROSPECTION = {query.strip() for query in introspect.PARTS.values()}


def introspection_calls(factory: FakeFactory) -> int:
    return sum(1 for _, query, _, _ in factory.all_calls if query.strip() in INTROSPECTION)


def open_schema(at: AppTest) -> AppTest:
    at.run()
    at.toggle(key="show_schema").set_value(True).run()
    assert not at.exception, at.exception
    return at


def table_with(at: AppTest, column: str) -> Any:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_the_schema_is_read_once_for_completion_and_the_closed_explorer_adds_nothing() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        assert not at.exception
        assert introspection_calls(factory) == len(introspect.PARTS)  # the editor's names
        assert isinstance(at.session_state["schema_model"], SchemaModel)
        assert not any("Object types" in str(c.value) for c in at.caption)  # nothing drawn
        at.run()
        assert introspection_calls(factory) == len(introspect.PARTS)  # read once per session


def test_a_new_session_with_a_known_schema_sends_no_introspection_and_shares_the_model(
) -> None:
    factory = FakeFactory()
    with console(factory) as first:
        first.run()
        assert introspection_calls(factory) == len(introspect.PARTS)
        assert factory.built[0].stats.max_in_flight <= introspect.MAX_CONCURRENT_PARTS
        second = AppTest.from_file(APP, default_timeout=30)
        second.secrets["connections"] = {"gel": {"fake_client": True}}
        second.run()
        assert not second.exception
        assert introspection_calls(factory) == len(introspect.PARTS)  # none for the 2nd
        assert second.session_state["schema_model"] is first.session_state["schema_model"]
        assert editor_data(second)["completion"]["hash"] == \
            editor_data(first)["completion"]["hash"]
        probes = [c for c in factory.all_calls if c[1] == introspect.SCHEMA_PROBE_QUERY]
        assert len(probes) == 1  # the read's own; the next probe waits PROBE_INTERVAL_S


def test_opening_lists_user_types_with_counts_and_caches_the_model() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        open_schema(at)
        page = texts(at)
        assert "4 object types · 1 scalar type · 1 function" in page
        assert "introspection took" in page
        types = table_with(at, "type")
        assert list(types["type"]) == ["default::Auditable", "default::Movie", "default::Person"]
        assert isinstance(at.session_state["schema_model"], SchemaModel)
        assert at.selectbox(key="schema_module").options == ["All shown modules", "default"]
        reads = introspection_calls(factory)
        assert reads == len(introspect.PARTS)
        at.run()
        assert introspection_calls(factory) == reads  # cached in the session


def test_standard_modules_appear_behind_the_toggle() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        assert "cfg::BranchConfig" not in list(table_with(at, "type")["type"])
        at.toggle(key="schema_standard").set_value(True).run()
        assert not at.exception
        assert "cfg::BranchConfig" in list(table_with(at, "type")["type"])
        assert "cfg" in at.selectbox(key="schema_module").options


def test_a_types_properties_and_links() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        at.selectbox(key="schema_type").set_value("default::Movie").run()
        assert not at.exception
        pointers = table_with(at, "link properties")
        actors = pointers[pointers["name"] == "actors"].iloc[0]
        assert (actors["kind"], actors["type"], actors["cardinality"]) == (
            "link", "default::Person", "multi")
        assert actors["link properties"] == "@character: str"
        title = pointers[pointers["name"] == "title"].iloc[0]
        assert (title["type"], bool(title["required"])) == ("str", True)
        assert "default::Movie" in [c.value for c in at.code]  # copyable full name
        facts = table_with(at, "value")
        assert "default::Auditable" in list(facts["value"])  # extends
        assert "A film in the catalogue" in list(facts["value"])  # annotation


def test_enum_members_in_order() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        at.segmented_control(key="schema_section").set_value("Scalar types").run()
        assert not at.exception
        scalars = table_with(at, "enum members")
        assert list(scalars["enum members"]) == ["Action, SciFi, Drama, Crime, Thriller"]


def test_search_highlights_and_narrows() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        at.text_input(key="schema_search").input("birth").run()
        assert not at.exception
        assert "1 match" in texts(at)
        highlighted = [m.value for m in at.markdown if "orange-background" in m.value]
        assert highlighted == [
            "- property **default\\:\\:Person\\.birth\\_year** name: "
            ":orange-background[birth]\\_year"
        ]
        assert list(table_with(at, "type")["type"]) == ["default::Person"]


def test_query_this_type_fills_the_first_query_tab() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        at.selectbox(key="schema_type").set_value("default::Person").run()
        at.button(key="schema_query_type").click().run()
        assert not at.exception
        expected = query_text(fake_schema.demo_schema(), "default::Person")
        assert at.session_state["q_text_0"] == expected
        assert editor_data(at)["text"] == expected  # the editor was handed the text
        assert "Put a query of this type into the first query tab" in texts(at)


def test_refresh_reads_the_schema_again() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        open_schema(at)
        first = at.session_state["schema_model"]
        at.button(key="schema_refresh_button").click().run()
        assert not at.exception
        assert introspection_calls(factory) == 2 * len(introspect.PARTS)
        assert at.session_state["schema_model"] is not first


def test_every_part_reads_without_a_warning() -> None:
    # The fake parses as 5.8 does: a query it cannot parse (``select Global``) would warn here.
    with console(FakeFactory()) as at:
        open_schema(at)
        assert not [w.value for w in at.warning if "Could not read" in w.value]
        model = at.session_state["schema_model"]
        assert model.problems == ()
        assert [g.name for g in model.globals] == ["default::current_user"]


def test_a_refused_part_is_named_and_the_rest_shows() -> None:
    factory = FakeFactory(responder=schema_responder(refuse=("functions",)))
    with console(factory) as at:
        open_schema(at)
        warnings = [w.value for w in at.warning]
        assert any("Could not read the schema's functions" in w and "AccessError" in w
                   for w in warnings)
        assert list(table_with(at, "type")["type"])[1] == "default::Movie"


def test_no_server_shows_the_error_keeps_no_model_and_retries_on_refresh() -> None:
    server = {"down": True}
    schema = schema_responder()

    def respond(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if server["down"]:
            return gel.errors.ClientConnectionFailedTemporarilyError("connection refused")
        return schema(query, args, kwargs)

    factory = FakeFactory(responder=respond)
    with console(factory) as at:
        open_schema(at)
        assert any("did not answer" in shown(e.value) for e in at.error)
        assert any("connection refused" in t.value for t in at.text)  # the driver's words
        assert "schema_model" not in at.session_state
        attempts = introspection_calls(factory)
        assert attempts >= 1
        at.run()  # a rerun shows the same error without asking the server again
        assert any("did not answer" in shown(e.value) for e in at.error)
        assert introspection_calls(factory) == attempts
        server["down"] = False
        at.button(key="schema_refresh_button").click().run()
        assert not at.exception
        assert isinstance(at.session_state["schema_model"], SchemaModel)
        assert not at.error


def test_graph_of_the_module_and_of_one_type() -> None:
    with console(FakeFactory()) as at:
        open_schema(at)
        at.segmented_control(key="schema_section").set_value("Graph").run()
        assert not at.exception
        charts = at.get("graphviz_chart")
        assert len(charts) == 1
        spec = charts[0].proto.spec
        assert '"default::Movie" -> "default::Person" [label="actors [multi]"]' in spec
        at.radio(key="schema_graph_scope").set_value("one type and its neighbours").run()
        at.selectbox(key="schema_graph_type").set_value("default::Person").run()
        assert not at.exception
        spec = at.get("graphviz_chart")[0].proto.spec
        assert 'fillcolor="#fff3cd"' in spec and '"default::Person" [label=' in spec
        assert '"default::Auditable" [label=' not in spec  # not a neighbour of Person


def test_hostile_schema_text_is_escaped_in_the_page() -> None:
    demo = fake_schema.demo_schema()
    from dataclasses import replace

    from ecc.schema.model import Annotation

    movie = demo.object_type("default::Movie")
    assert movie is not None
    evil = replace(movie, annotations=(
        Annotation("std::description", "[phish](http://evil.example) <b>x</b>"),))
    schema = replace(demo, object_types=tuple(evil if t is movie else t
                                              for t in demo.object_types))
    with console(FakeFactory(responder=schema_responder(schema))) as at:
        open_schema(at)
        at.text_input(key="schema_search").input("phish").run()
        assert not at.exception
        shown = [m.value for m in at.markdown if "phish" in m.value]
        assert shown and all("](http" not in s and "<b>" not in s for s in shown)


def test_a_large_module_graph_lists_fewer_properties_per_node() -> None:
    big = fake_schema.generated_schema(types=80, properties=8, modules=1)
    with console(FakeFactory(responder=schema_responder(big))) as at:
        open_schema(at)
        at.segmented_control(key="schema_section").set_value("Graph").run()
        assert not at.exception
        assert "80 types in this module" in texts(at)
        spec = at.get("graphviz_chart")[0].proto.spec
        assert spec.count("[label=\"{") == 80
        assert "… 4 more\\l" in spec  # 8 properties, the first 4 listed


STANDARD = {query.strip() for query in introspect.STANDARD_PARTS.values()}


def standard_calls(factory: FakeFactory) -> int:
    return sum(1 for _, query, _, _ in factory.all_calls if query.strip() in STANDARD)


def test_the_standard_library_is_read_only_when_asked_and_once() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        open_schema(at)
        assert standard_calls(factory) == 0
        at.toggle(key="schema_standard").set_value(True).run()
        assert not at.exception
        assert standard_calls(factory) == len(introspect.STANDARD_PARTS)
        at.selectbox(key="schema_module").set_value("std").run()
        assert list(table_with(at, "type")["type"]) == ["std::BaseObject", "std::Object"]
        at.segmented_control(key="schema_section").set_value("Scalar types").run()
        assert "std::str" in list(table_with(at, "scalar type")["scalar type"])
        at.toggle(key="schema_standard").set_value(False).run()
        assert list(table_with(at, "scalar type")["scalar type"]) == ["default::Genre"]
        at.toggle(key="schema_standard").set_value(True).run()
        assert standard_calls(factory) == len(introspect.STANDARD_PARTS)  # kept
        assert at.session_state["schema_model"].standard_read


@pytest.mark.parametrize(("read_only", "hint"), [(False, True), (True, False)])
def test_runs_after_the_read_suggest_refresh_only_when_writes_are_allowed(
    read_only: bool, hint: bool
) -> None:
    from tests.apptest_support import run_query

    with console(FakeFactory(), read_only=read_only) as at:
        open_schema(at)
        assert "ran since the schema was read" not in texts(at)
        run_query(at, "select 1")
        assert not at.exception
        assert ("1 query ran since the schema was read" in texts(at)) is hint
