"""The data explorer's EdgeQL: names from the schema only (quoted where EdgeQL needs it),
filter values as parameters never spliced into the text, paging by offset/limit parameters,
the count, a followed link, and "open as query"."""

from __future__ import annotations

import uuid

import pytest

from ecc.driver.errors import ConsoleInputError
from ecc.explorer.query import (
    PAGE_LIMIT_PARAM,
    PAGE_OFFSET_PARAM,
    build_queries,
    columns_of,
    label_property,
    quote_name,
    subtypes_of,
)
from ecc.explorer.state import ExplorerState, OrderBy, PropertyFilter
from ecc.fake.schema import demo_schema
from ecc.schema.model import LinkProperty, ObjectType, Pointer, ScalarType, SchemaModel

HOSTILE_VALUES = [
    "' or true or '",
    "x\") union select User { password }; #",
    "`; drop type Movie; `",
    "$f1",
    "\\(1 + 1)",
    "<std::str>$page_limit",
    "} filter true { ",
    "\x00\u202e\n# comment",
]


def movies() -> ExplorerState:
    return ExplorerState.of_type("default::Movie", 10)


def test_quote_name_backquotes_only_what_edgeql_needs() -> None:
    assert quote_name("default::Movie") == "default::Movie"
    assert quote_name("default::select") == "default::`select`"
    assert quote_name("my mod::Odd Name") == "`my mod`::`Odd Name`"
    assert quote_name("default::Global") == "default::`Global`"  # reserved, any case
    with pytest.raises(ValueError):
        quote_name("default::Bad`Name")


def test_columns_are_id_then_properties_then_links_as_counts() -> None:
    columns = columns_of(demo_schema(), "default::Movie")
    names = [c.name for c in columns]
    assert names[0] == "id"
    assert names[-2:] == ["actors", "director"]
    assert all(c.is_link for c in columns[-2:])
    assert not any(c.is_link for c in columns[:-2])
    genre = next(c for c in columns if c.name == "genre")
    assert genre.filter_type is not None and genre.filter_type.kind == "enum"
    tags = next(c for c in columns if c.name == "tags")
    assert tags.filter_type is None  # an array: exists / not exists only


def test_the_page_query_selects_properties_and_counts_links() -> None:
    queries = build_queries(demo_schema(), movies())
    text = queries.page.query
    assert text.startswith("select default::Movie {\n  id,\n")
    assert "  actors_count := count(.actors)" in text
    assert "  director_count := count(.director)" in text
    assert "order by .id\n" in text
    assert text.endswith(f"offset <std::int64>${PAGE_OFFSET_PARAM}\n"
                         f"limit <std::int64>${PAGE_LIMIT_PARAM}")
    assert queries.page.kwargs == {PAGE_OFFSET_PARAM: 0, PAGE_LIMIT_PARAM: 11}
    assert queries.count.query == "select count(default::Movie)"
    assert queries.count.kwargs == {}


def test_a_page_turn_changes_only_the_arguments() -> None:
    first = build_queries(demo_schema(), movies())
    third = build_queries(demo_schema(), movies().at_page(2))
    assert first.page.query == third.page.query  # one text: one cached description
    assert third.page.kwargs[PAGE_OFFSET_PARAM] == 20
    assert third.page.kwargs[PAGE_LIMIT_PARAM] == 11


def test_filters_are_typed_parameters() -> None:
    state = movies().filtered((
        PropertyFilter("release_year", ">=", "2_000"),
        PropertyFilter("genre", "=", "Drama"),
        PropertyFilter("title", "ilike", "%dune%"),
        PropertyFilter("tags", "exists"),
        PropertyFilter("rating", "<", "8.5"),
    ))
    queries = build_queries(demo_schema(), state)
    assert ("filter (.release_year >= <std::int64>$f0) and "
            "(.genre = <default::Genre><std::str>$f1) and (.title ilike <std::str>$f2) and "
            "(exists .tags) and (.rating < <std::float64>$f3)") in queries.page.query
    assert queries.page.kwargs["f0"] == 2000
    assert queries.page.kwargs["f1"] == "Drama"
    assert queries.page.kwargs["f3"] == 8.5  # exists takes no parameter
    assert queries.count.query.startswith("select count((select default::Movie filter (")
    assert {k: v for k, v in queries.count.kwargs.items()} == {
        "f0": 2000, "f1": "Drama", "f2": "%dune%", "f3": 8.5}


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
def test_hostile_filter_values_never_reach_the_text(hostile: str) -> None:
    state = movies().filtered((PropertyFilter("title", "=", hostile),
                               PropertyFilter("title", "ilike", hostile)))
    queries = build_queries(demo_schema(), state)
    clean = build_queries(demo_schema(), movies().filtered((
        PropertyFilter("title", "=", "x"), PropertyFilter("title", "ilike", "x"))))
    # The text does not depend on the value at all; the value travels as an argument.
    assert queries.page.query == clean.page.query
    assert queries.count.query == clean.count.query
    assert queries.editor_text == clean.editor_text
    assert queries.page.kwargs["f0"] == hostile
    assert dict(queries.editor_args)["f1"] == hostile


def test_a_bad_filter_value_names_the_property_and_sends_nothing() -> None:
    with pytest.raises(ConsoleInputError) as caught:
        build_queries(demo_schema(), movies().filtered(
            (PropertyFilter("release_year", "=", "nineteen"),)))
    assert "release_year" in caught.value.view.message
    assert "whole number" in caught.value.view.message
    with pytest.raises(ConsoleInputError, match=r"choose one of"):
        build_queries(demo_schema(), movies().filtered((PropertyFilter("genre", "=", "Jazz"),)))


@pytest.mark.parametrize("state", [
    ExplorerState.of_type("default::Nope"),
    ExplorerState.of_type("Movie"),  # short names are not full names: refused, not guessed
    ExplorerState.of_type("default::Movie").filtered((PropertyFilter("nope", "=", "1"),)),
    ExplorerState.of_type("default::Movie").filtered((PropertyFilter("actors", "=", "1"),)),
    ExplorerState.of_type("default::Movie").filtered((PropertyFilter("tags", "=", "a"),)),
    ExplorerState.of_type("default::Movie").filtered((PropertyFilter("rating", "ilike", "a"),)),
    ExplorerState.of_type("default::Movie").ordered(OrderBy("title; delete Movie")),
    ExplorerState.of_type("default::Movie").ordered(OrderBy("actors")),
], ids=["unknown type", "short name", "unknown property", "link filter", "array value",
        "ilike on a number", "order by free text", "order by a link"])
def test_names_come_from_the_schema_or_are_refused(state: ExplorerState) -> None:
    with pytest.raises(ConsoleInputError):
        build_queries(demo_schema(), state)


def test_order_by_a_property_ends_with_id_and_puts_empty_last() -> None:
    queries = build_queries(demo_schema(), movies().ordered(OrderBy("rating", True)))
    assert "order by .rating desc empty last then .id\n" in queries.page.query
    queries = build_queries(demo_schema(), movies().ordered(OrderBy("id", True)))
    assert "order by .id desc\n" in queries.page.query


def test_following_a_link_selects_one_objects_linked_objects() -> None:
    source = uuid.UUID(int=7)
    state = movies().follow("default::Movie", source, "actors", "default::Person", "Dune")
    queries = build_queries(demo_schema(), state)
    assert queries.page.query.startswith(
        "select (select default::Movie filter .id = <std::uuid>$source).actors {\n  id,\n")
    assert "  movies_count := count(.movies)" in queries.page.query
    assert queries.page.kwargs["source"] == source
    assert queries.count.query == (
        "select count((select default::Movie filter .id = <std::uuid>$source).actors)")
    assert dict(queries.editor_args)["source"] == str(source)
    # The breadcrumb goes back to the first view as it was left.
    assert state.back_to(0) == movies()


def test_a_followed_links_properties_join_the_shape() -> None:
    source = uuid.UUID(int=7)
    state = movies().follow("default::Movie", source, "actors", "default::Person", "Dune")
    queries = build_queries(demo_schema(), state)
    assert queries.link_properties == ("character",)
    assert queries.page.query.startswith(
        "select (select default::Movie filter .id = <std::uuid>$source).actors {\n  id,\n")
    assert queries.page.query.count("@") == 1
    assert "  movies_count := count(.movies),\n  @character\n}\norder by .id" in \
        queries.page.query
    assert "@character" in queries.editor_text and "@" not in queries.count.query
    # Not at the root, nor through a link without link properties.
    assert "@" not in build_queries(demo_schema(), movies()).page.query
    director = movies().follow("default::Movie", source, "director", "default::Person")
    assert build_queries(demo_schema(), director).link_properties == ()
    # Not filterable or orderable: they are no columns.
    assert "character" not in {c.name for c in queries.columns}


def test_a_link_property_name_is_quoted_or_refused() -> None:
    def model(prop: str) -> SchemaModel:
        return SchemaModel(modules=("default",), object_types=(
            ObjectType("default::A", pointers=(
                Pointer("id", "property", "std::uuid"),
                Pointer("to", "link", "default::B", cardinality="multi",
                        link_properties=(LinkProperty(prop, "std::str"),)))),
            ObjectType("default::B", pointers=(Pointer("id", "property", "std::uuid"),)),
        ))

    state = ExplorerState.of_type("default::A").follow("default::A", uuid.UUID(int=1), "to",
                                                       "default::B")
    assert "  @`select`\n}" in build_queries(model("select"), state).page.query
    with pytest.raises(ConsoleInputError):
        build_queries(model("a`b"), state)


def test_subtypes_are_found_at_any_depth() -> None:
    model = SchemaModel(modules=("default",), object_types=(
        ObjectType("default::Base", abstract=True),
        ObjectType("default::Mid", bases=("default::Base",), ancestors=("default::Base",)),
        ObjectType("default::Leaf", bases=("default::Mid",),
                   ancestors=("default::Mid", "default::Base")),
        ObjectType("default::Other"),
    ))
    assert subtypes_of(model, "default::Base") == ("default::Leaf", "default::Mid")
    assert subtypes_of(model, "default::Mid") == ("default::Leaf",)
    assert subtypes_of(model, "default::Leaf") == ()
    assert subtypes_of(demo_schema(), "default::Auditable") == ("default::Movie",)


def test_a_followed_link_must_exist_and_lead_to_the_view_type() -> None:
    source = uuid.UUID(int=7)
    with pytest.raises(ConsoleInputError):
        build_queries(demo_schema(), movies().follow("default::Movie", source, "nope",
                                                     "default::Person"))
    with pytest.raises(ConsoleInputError):
        build_queries(demo_schema(), movies().follow("default::Movie", source, "actors",
                                                     "default::Movie"))


def test_open_as_query_has_literal_paging_and_filter_parameters() -> None:
    state = movies().filtered((PropertyFilter("release_year", ">", "2000"),)).at_page(3)
    queries = build_queries(demo_schema(), state)
    assert queries.editor_text.endswith("offset 30\nlimit 10")
    assert "(.release_year > <std::int64>$f0)" in queries.editor_text
    assert queries.editor_args == (("f0", "2000"),)
    assert "$page_" not in queries.editor_text


def test_page_size_setting_changes_the_limit_and_keeps_the_first_row() -> None:
    state = movies().at_page(3)  # rows 30..39
    bigger = state.with_page_size(25)
    assert bigger.current.page == 1  # rows 25..49 hold row 30
    queries = build_queries(demo_schema(), bigger)
    assert queries.page.kwargs == {PAGE_OFFSET_PARAM: 25, PAGE_LIMIT_PARAM: 26}


def test_custom_scalars_and_odd_names_are_quoted_and_cast() -> None:
    model = SchemaModel(
        modules=("default",),
        object_types=(ObjectType("default::Order", pointers=(
            Pointer("id", "property", "std::uuid"),
            Pointer("select", "property", "default::Slug"),
            Pointer("Odd Name", "property", "std::int64"),
        )),),
        scalar_types=(ScalarType("default::Slug", ("default::Base",)),
                      ScalarType("default::Base", ("std::str",))),
    )
    state = ExplorerState.of_type("default::Order").filtered(
        (PropertyFilter("select", "=", "a-b"),)).ordered(OrderBy("Odd Name"))
    text = build_queries(model, state).page.query
    assert text.startswith("select default::`Order` {\n  id,\n  `Odd Name`,\n  `select`\n}")
    assert "(.`select` = <default::Slug><std::str>$f0)" in text
    assert "order by .`Odd Name` asc empty last then .id" in text


def test_a_count_never_takes_a_pointers_name() -> None:
    model = SchemaModel(modules=("default",), object_types=(ObjectType("default::T", pointers=(
        Pointer("id", "property", "std::uuid"),
        Pointer("friends", "link", "default::T", cardinality="multi"),
        Pointer("friends_count", "property", "std::int64"),
    )),))
    columns = {c.name: c for c in columns_of(model, "default::T")}
    assert columns["friends"].result_name == "friends_count_"
    assert "  friends_count_ := count(.friends)" in build_queries(
        model, ExplorerState.of_type("default::T")).page.query


def test_label_property_prefers_a_name() -> None:
    assert label_property(demo_schema(), "default::Movie") == "title"
    assert label_property(demo_schema(), "default::Person") == "name"
