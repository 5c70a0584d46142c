"""The editor's language data and completion tree, built in Python from a SchemaModel."""

from __future__ import annotations

import json

from ecc.editor import language as edgeql_lang
from ecc.fake.schema import demo_schema, generated_schema
from ecc.schema.completions import completion_data, signature, wire_tree
from ecc.schema.model import (
    Function,
    FunctionParam,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
)


def test_reserved_and_unreserved_keywords_are_disjoint_and_cover_the_common_ones() -> None:
    reserved, unreserved = set(edgeql_lang.RESERVED_KEYWORDS), set(
        edgeql_lang.UNRESERVED_KEYWORDS)
    assert not reserved & unreserved
    assert {"select", "filter", "order", "insert", "update", "delete", "with", "for",
            "group", "optional", "exists", "distinct", "union", "detached", "limit",
            "offset"} <= reserved
    assert {"by", "multi", "single", "required", "link", "property", "asc", "desc"} <= unreserved
    assert len(edgeql_lang.keywords()) == len(reserved | unreserved)


def test_language_data_is_plain_json_with_builtin_types() -> None:
    data = edgeql_lang.language_data()
    assert json.loads(json.dumps(data)) == data
    assert "select" in data["keywords"] and "select" in data["reserved"]
    assert {"str", "int64", "uuid", "cal::local_date", "array", "tuple"} <= set(
        data["builtin_types"])


def test_without_a_schema_only_the_parameters_are_offered() -> None:
    assert completion_data(None, ["title", "year", "title"]) == {"params": ["$title", "$year"]}


def test_demo_schema_types_pointers_and_link_properties() -> None:
    data = completion_data(demo_schema(), ["year"])
    assert json.loads(json.dumps(data)) == data  # what the component receives: JSON only
    assert {"name": "default::Movie", "short": "Movie", "kind": "object"} in data["types"]
    assert {"name": "default::Genre", "short": "Genre", "kind": "enum"} in data["types"]
    assert data["aliases"]["Movie"] == "default::Movie"
    movie = {p["name"]: p for p in data["objects"]["default::Movie"]}
    assert movie["title"] == {"name": "title", "kind": "property", "target": "std::str",
                              "card": "single"}
    assert movie["actors"]["kind"] == "link" and movie["actors"]["card"] == "multi"
    assert movie["actors"]["link_props"] == [{"name": "character", "target": "std::str"}]
    assert data["modules"] == ["default"]  # std is the editor's own knowledge
    assert "Movie" in data["type_names"] and "Genre" in data["type_names"]
    assert data["params"] == ["$year"]


def test_the_tree_as_sent_names_each_kind_target_and_cardinality_once() -> None:
    data = completion_data(generated_schema(200, 30, 10))
    wire = wire_tree(data)
    strings = wire["strings"]
    assert len(strings) == len(set(strings))
    first_type = next(iter(data["objects"]))
    for pointer, row in zip(data["objects"][first_type], wire["objects"][first_type],
                            strict=True):
        assert [row[0], strings[row[1]], strings[row[2]], strings[row[3]]] == [
            pointer["name"], pointer["kind"], pointer["target"], pointer["card"]]
    assert {k: v for k, v in wire.items() if k not in ("objects", "strings")} == \
        {k: v for k, v in data.items() if k != "objects"}
    compact, verbose = (len(json.dumps(d, separators=(",", ":"))) for d in (wire, data))
    assert compact < verbose / 2, (compact, verbose)
    movie = wire_tree(completion_data(demo_schema()))
    actors = next(r for r in movie["objects"]["default::Movie"] if r[0] == "actors")
    assert [[name, movie["strings"][t]] for name, t in actors[4]] == [["character", "std::str"]]


def test_functions_carry_their_signatures_and_overloads_merge() -> None:
    f1 = Function("default::fmt", params=(FunctionParam("x", "std::int64"),),
                  return_type="std::str")
    f2 = Function("default::fmt", params=(
        FunctionParam("x", "std::str", typemod="OptionalType"),
        FunctionParam("sep", "std::str", kind="NamedOnlyParam", default="', '"),
    ), return_type="std::str", return_typemod="SetOfType")
    model = SchemaModel(modules=("default",), functions=(f1, f2),
                        builtin_function_names=("std::len", "default::fmt"))
    functions = {f["name"]: f for f in completion_data(model)["functions"]}
    assert functions["default::fmt"]["signature"] == (
        "(x: int64) -> str | (x: optional str, named only sep: str = …) -> set of str")
    assert functions["std::len"] == {"name": "std::len", "short": "len", "signature": "()"}
    assert signature(f1) == "(x: int64) -> str"


def test_inherited_pointers_are_offered_on_subtypes_and_standard_types_are_left_out() -> None:
    named = ObjectType("default::Named", abstract=True,
                       pointers=(Pointer("name", "property", "std::str"),))
    person = ObjectType("default::Person", bases=("default::Named",),
                        pointers=(Pointer("age", "property", "std::int16"),
                                  Pointer("name", "property", "std::str", required=True)))
    std_type = ObjectType("schema::ObjectType", pointers=(Pointer("name", "property", "x"),))
    scalar = ScalarType("default::Slug", bases=("std::str",))
    model = SchemaModel(modules=("default", "schema"), object_types=(named, person, std_type),
                        scalar_types=(scalar, ScalarType("std::str")))
    data = completion_data(model)
    people = data["objects"]["default::Person"]
    assert [p["name"] for p in people] == ["age", "name"]  # own override wins, no duplicate
    assert "schema::ObjectType" not in data["objects"]
    assert {t["name"] for t in data["types"]} == {"default::Named", "default::Person",
                                                 "default::Slug"}


def test_ambiguous_short_names_resolve_only_when_qualified() -> None:
    model = SchemaModel(object_types=(ObjectType("a::User"), ObjectType("b::User"),
                                      ObjectType("b::Post")))
    aliases = completion_data(model)["aliases"]
    assert "User" not in aliases
    assert aliases["Post"] == "b::Post"
