"""The explorer's view model: module filter, search spans, table rows, Query-this-type text,
DOT graphs (escaping hostile names), Markdown escaping."""

from __future__ import annotations

import re

import pytest

from ecc.fake.schema import demo_schema, generated_schema
from ecc.schema import view as schema_view
from ecc.schema.model import (
    Annotation,
    Constraint,
    Function,
    FunctionParam,
    LinkProperty,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
)
from ecc.schema.view import (
    build_view,
    dot_record_text,
    dot_string,
    graph_dot,
    highlight_markdown,
    module_graph,
    query_text,
    quote_name,
    search,
    type_graph,
)

DEMO = demo_schema()


# --- modules ---------------------------------------------------------------------------------


def test_user_modules_are_shown_by_default() -> None:
    view = build_view(DEMO)
    assert view.modules == ("default",)
    assert [t.name for t in view.object_types] == [
        "default::Auditable", "default::Movie", "default::Person"]
    assert [s.name for s in view.scalar_types] == ["default::Genre"]


def test_standard_modules_behind_the_toggle_include_cfg_types() -> None:
    view = build_view(DEMO, include_standard=True)
    assert view.modules[0] == "default"
    assert {"std", "cfg", "schema", "sys"} <= set(view.modules)
    assert "cfg::BranchConfig" in [t.name for t in view.object_types]


def test_choosing_a_module_scopes_everything() -> None:
    view = build_view(DEMO, include_standard=True, module="cfg")
    assert [t.name for t in view.object_types] == ["cfg::BranchConfig"]
    assert view.functions == () and view.scalar_types == ()


def test_a_module_no_longer_shown_falls_back_to_all() -> None:
    view = build_view(DEMO, include_standard=False, module="cfg")
    assert view.module == schema_view.ALL_MODULES
    assert "cfg::BranchConfig" not in [t.name for t in view.object_types]


# --- search ----------------------------------------------------------------------------------


def test_search_finds_names_case_insensitively_with_the_span() -> None:
    matches = search(DEMO, "MOVIE")
    own = next(m for m in matches if m.kind == "object type" and m.field == "name")
    assert own.text == "default::Movie"
    assert own.text[own.start:own.end] == "Movie"


def test_search_finds_type_names_of_pointers() -> None:
    matches = search(DEMO, "local_date")
    assert [(m.where, m.field) for m in matches] == [("default::Movie.released_on", "type")]


def test_search_finds_annotations_and_enum_members() -> None:
    annotation = search(DEMO, "catalogue")
    assert [(m.owner, m.field) for m in annotation] == [("default::Movie", "annotation")]
    member = search(DEMO, "scifi")
    assert [(m.kind, m.owner, m.text) for m in member] == [
        ("enum member", "default::Genre", "SciFi")]


def test_search_narrows_the_lists_to_what_matched() -> None:
    view = build_view(DEMO, search_text="birth")
    assert [t.name for t in view.object_types] == ["default::Person"]
    assert view.scalar_types == () and view.functions == ()
    assert view.match_count == 1


def test_search_respects_the_module_filter() -> None:
    assert build_view(DEMO, search_text="timeout").match_count == 0
    shown = build_view(DEMO, include_standard=True, search_text="timeout")
    assert [m.where for m in shown.matches] == ["cfg::BranchConfig.query_execution_timeout"]


def test_search_lists_at_most_the_cap_but_counts_all() -> None:
    big = generated_schema(types=50, properties=10, modules=1)
    view = build_view(big, search_text="p0")
    assert view.match_count > schema_view.MAX_MATCHES
    assert len(view.matches) == schema_view.MAX_MATCHES


def test_an_empty_search_matches_nothing_and_filters_nothing() -> None:
    assert search(DEMO, "   ") == []
    assert len(build_view(DEMO, search_text=" ").object_types) == 3


def test_functions_are_found_by_parameter_and_return_types() -> None:
    matches = search(DEMO, "int64")
    assert ("default::movies_in", "type") in [(m.owner, m.field) for m in matches]


# --- rows ------------------------------------------------------------------------------------


def test_pointer_rows_describe_each_property_and_link() -> None:
    movie = DEMO.object_type("default::Movie")
    assert movie is not None
    rows = schema_view.pointer_columns(movie)
    at = rows["name"].index("actors")
    assert (rows["kind"][at], rows["type"][at], rows["cardinality"][at]) == (
        "link", "default::Person", "multi")
    assert rows["link properties"][at] == "@character: str"
    rating = rows["name"].index("rating")
    assert rows["constraints"][rating] == "min_value(0), max_value(10)"
    count = rows["name"].index("actor_count")
    assert rows["computed"][count] == "std::count(.actors)"
    title = rows["name"].index("title")
    assert rows["required"][title] is True
    assert rows["annotations"][title] == "description: The title as released"


def test_scalar_rows_list_enum_members_in_order() -> None:
    rows = schema_view.scalar_columns(DEMO.scalar_types)
    assert rows["enum members"] == ["Action, SciFi, Drama, Crime, Thriller"]
    assert rows["extends"] == ["anyenum"]


def test_function_signature_shows_modifiers_defaults_and_return() -> None:
    f = Function("default::f", params=(
        FunctionParam("a", "std::int64"),
        FunctionParam("b", "std::str", kind="NamedOnlyParam", typemod="OptionalType",
                      default="'x'"),
        FunctionParam("rest", "std::str", kind="VariadicParam"),
    ), return_type="array<std::str>", return_typemod="SetOfType")
    assert schema_view.function_signature(f) == (
        "default::f(a: int64, named only b: optional str = 'x', variadic rest: str)"
        " -> set of array<str>")


def test_constraint_text_shows_arguments_and_subject_expression() -> None:
    c = Constraint("std::exclusive", expr="(.first, .last)")
    assert schema_view.constraint_text(c) == "exclusive on (.first, .last)"
    assert schema_view.constraint_text(Constraint("default::custom", (("x", "1"),))) == \
        "default::custom(1)"


# --- Query this type -------------------------------------------------------------------------


def test_query_text_selects_properties_and_nests_links() -> None:
    text = query_text(DEMO, "default::Person")
    assert text == (
        "select default::Person {\n"
        "  birth_year,\n"
        "  name,\n"
        "  movies: { actor_count, box_office, budget, created_at, genre, rating, "
        "release_year, released_on, runtime, tags, title },\n"
        "}\n"
        "limit 100"
    )


def test_query_text_shows_link_properties_in_the_nested_shape() -> None:
    text = query_text(DEMO, "Movie")
    assert "  actors: { birth_year, name, @character }," in text
    assert text.startswith("select default::Movie {\n  actor_count,\n")


def test_query_text_quotes_reserved_and_odd_names() -> None:
    odd = ObjectType("my mod::select", pointers=(
        Pointer("order", "property", "std::str"),
        Pointer("ok_name", "property", "std::str"),
        Pointer("to", "link", "other::Gone", cardinality="multi"),
    ))
    text = query_text(SchemaModel(object_types=(odd,)), "my mod::select")
    assert text.splitlines()[0] == "select `my mod`::`select` {"
    assert "  `order`," in text and "  ok_name," in text
    assert "  to: { id }," in text  # a target the model does not know: its id


def test_quote_name_doubles_backticks() -> None:
    assert quote_name("default::we`ird") == "default::`we``ird`"


def test_query_text_of_an_unknown_type_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        query_text(DEMO, "default::Nope")


# --- DOT -------------------------------------------------------------------------------------


def unescaped_quotes(dot: str) -> int:
    return len(re.findall(r'(?<!\\)(?:\\\\)*"', dot))


def test_module_graph_has_nodes_links_and_inheritance() -> None:
    dot = module_graph(DEMO, "default")
    assert dot.startswith("digraph schema {") and dot.endswith("}")
    assert '"default::Movie" [label="{default::Movie|' in dot
    assert "title: str *\\l" in dot
    assert '"default::Movie" -> "default::Person" [label="actors [multi]"];' in dot
    assert '"default::Movie" -> "default::Person" [label="director [single]"];' in dot
    assert ('"default::Movie" -> "default::Auditable" [style=dashed, arrowhead=onormal'
            in dot)
    assert "cfg::BranchConfig" not in dot
    assert unescaped_quotes(dot) % 2 == 0


def test_type_graph_is_the_type_and_its_neighbours() -> None:
    big = generated_schema(types=40, properties=3, modules=2)
    name = "m0::Type0000"
    dot = type_graph(big, name)
    nodes = set(re.findall(r'^  "([^"]+)" \[label=', dot, re.M))
    t = big.object_type(name)
    assert t is not None
    linked = {p.target for p in t.pointers if p.is_link}
    linking = {o.name for o in big.object_types
               if any(p.is_link and p.target == name for p in o.pointers)}
    assert nodes == {name} | linked | linking
    assert len(nodes) < 40


def test_many_properties_are_summarised_in_a_node() -> None:
    big = generated_schema(types=1, properties=20, modules=1)
    dot = graph_dot(big, [big.object_types[0].name])
    assert "… 8 more\\l" in dot
    assert dot.count("\\l") == schema_view.MAX_NODE_PROPERTIES + 1


def test_links_to_types_outside_the_scope_become_plain_nodes() -> None:
    t = ObjectType("a::A", pointers=(Pointer("b", "link", "b::B"),))
    dot = graph_dot(SchemaModel(object_types=(t,)), ["a::A"])
    assert '"b::B" [shape=box, style=rounded' in dot


HOSTILE = 'x"y\\z{a}<b>|c'


def test_dot_escapes_hostile_names_everywhere() -> None:
    t = ObjectType(f"m::{HOSTILE}", pointers=(
        Pointer(HOSTILE, "property", f"m::{HOSTILE}"),
        Pointer("l" + HOSTILE, "link", f"m::{HOSTILE}", link_properties=(
            LinkProperty("p", "std::str"),)),
    ))
    dot = graph_dot(SchemaModel(object_types=(t,)), [t.name])
    assert unescaped_quotes(dot) % 2 == 0
    # node id and edge label: quotes and backslashes escaped
    assert dot_string(f"m::{HOSTILE}") == '"m::x\\"y\\\\z{a}<b>|c"'
    assert '"m::x\\"y\\\\z{a}<b>|c" -> "m::x\\"y\\\\z{a}<b>|c"' in dot
    # record label: every record metacharacter escaped, so the node keeps one title field
    assert dot_record_text(HOSTILE) == 'x\\"y\\\\z\\{a\\}\\<b\\>\\|c'
    assert "{m::" + dot_record_text(HOSTILE) + "|" in dot


def test_dot_flattens_line_breaks() -> None:
    assert "\n" not in dot_string("a\nb") and "\n" not in dot_record_text("a\r\nb")


# --- Markdown --------------------------------------------------------------------------------


def test_highlight_keeps_the_spaces_around_the_match() -> None:
    assert highlight_markdown("a Movie b", 2, 7) == "a :orange-background[Movie] b"


def test_highlight_marks_only_the_match() -> None:
    md = highlight_markdown("default::Movie", 9, 14)
    assert md == "default\\:\\:" + ":orange-background[Movie]"


def test_highlight_cannot_be_closed_early_by_the_text() -> None:
    md = highlight_markdown("a]b", 0, 3)
    assert md == ":orange-background[a\\]b]"


def test_annotations_of_scalars_are_searched() -> None:
    model = SchemaModel(modules=("m",), scalar_types=(
        ScalarType("m::S", annotations=(Annotation("std::description", "Money amount"),)),))
    assert [m.field for m in search(model, "money")] == ["annotation"]
