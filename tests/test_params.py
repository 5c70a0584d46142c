"""Parameters read from query text, their types, and the merge with the server's description."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import gel
import gel.describe as gd
import pytest

from ecc.arguments.params import (
    MAX_PROBLEMS,
    UNTYPED,
    ParameterScan,
    ParamType,
    QueryParameter,
    merge_with_server,
    parameters_from_description,
    parse_type,
    scan_parameters,
)

TRANSCRIPTS = Path(__file__).parents[2] / "shared" / "gel-transcripts" / "transcripts.json"


def names(scan: ParameterScan) -> list[str]:
    return [p.name for p in scan.parameters]


def only(query: str) -> QueryParameter:
    scan = scan_parameters(query)
    assert len(scan.parameters) == 1, scan
    return scan.parameters[0]


def messages(scan: ParameterScan) -> list[str]:
    return [p.message for p in scan.problems]


# ---------------------------------------------------------------------------------------------
# Finding parameters and their casts


def test_a_named_parameter_with_a_scalar_cast_is_found_with_its_position() -> None:
    scan = scan_parameters("select <str>$title")
    assert scan.parameters == (
        QueryParameter("title", ParamType("scalar", "std::str"), False, (12,)),
    )
    assert scan.problems == ()
    assert scan.style == "named"


def test_a_query_without_parameters_has_style_none() -> None:
    scan = scan_parameters("select Movie { title } filter .year > 2000")
    assert scan.parameters == () and scan.problems == () and scan.style == "none"


def test_positional_parameters_are_sorted_by_index() -> None:
    scan = scan_parameters("select (<str>$1, <int64>$0)")
    assert names(scan) == ["0", "1"]
    assert scan.style == "positional"
    assert scan.parameters[0].type.name == "std::int64"


def test_named_parameters_keep_their_order_of_first_appearance() -> None:
    scan = scan_parameters("select (<str>$b, <str>$a, <str>$b)")
    assert names(scan) == ["b", "a"]


def test_every_use_of_a_parameter_is_a_position() -> None:
    query = "select <str>$x ++ <str>$x ++ <str>$x"
    assert only(query).positions == (12, 23, 34)
    assert all(query[p : p + 2] == "$x" for p in only(query).positions)


def test_optional_prefix_makes_the_parameter_optional() -> None:
    param = only("select <optional datetime>$since")
    assert param.optional and param.type.name == "std::datetime"


def test_required_prefix_keeps_the_parameter_required() -> None:
    param = only("select <required str>$x")
    assert not param.optional and param.type.name == "std::str"


def test_qualifiers_are_case_insensitive() -> None:
    assert only("select <OPTIONAL str>$x").optional


def test_a_cast_may_span_lines_spaces_and_comments() -> None:
    param = only("select <\n  array < str # the element\n >\n>\n  $tags")
    assert param.type.name == "array<std::str>"


def test_nested_casts_close_with_double_and_triple_angle_brackets() -> None:
    assert only("select <array<str>>$a").type.name == "array<std::str>"
    pairs = only("select <array<tuple<str, int64>>>$pairs").type
    assert pairs.name == "array<tuple<std::str, std::int64>>"
    assert pairs.label() == "array<tuple<str, int64>>"


def test_module_qualified_casts_keep_their_module() -> None:
    scan = scan_parameters("select (<cal::local_date>$d, <std::str>$s, <default::Genre>$g)")
    assert [p.type.name for p in scan.parameters] == [
        "cal::local_date",
        "std::str",
        "default::Genre",
    ]
    assert [p.type.kind for p in scan.parameters] == ["scalar", "scalar", "unknown"]


def test_a_comparison_before_a_cast_is_not_part_of_it() -> None:
    scan = scan_parameters("select x filter .a < <int64>$lo and .b <= <int64>$hi")
    assert [p.type.name for p in scan.parameters] == ["std::int64", "std::int64"]
    assert scan.problems == ()


def test_parameters_in_a_tuple_literal_each_get_their_cast() -> None:
    scan = scan_parameters("select (<str>$a, <int32>$b, <bool>$c)")
    assert [p.type.name for p in scan.parameters] == ["std::str", "std::int32", "std::bool"]


def test_unicode_identifiers_are_parameter_names() -> None:
    scan = scan_parameters("select (<str>$título, <str>$名前, <str>$_x1)")
    assert names(scan) == ["título", "名前", "_x1"]
    assert scan.problems == ()


def test_a_backquoted_parameter_name_may_hold_spaces() -> None:
    assert only("select <str>$`my name`").name == "my name"


def test_a_doubled_backquote_inside_a_quoted_name_is_one_backquote() -> None:
    assert only("select <str>$`a``b`").name == "a`b"


def test_a_backquoted_type_name_is_a_type() -> None:
    assert only("select <`my type`>$x").type == ParamType("unknown", "default::my type")


# ---------------------------------------------------------------------------------------------
# What is not a parameter


def test_a_parameter_in_a_comment_is_ignored() -> None:
    scan = scan_parameters("# uses <str>$x\nselect <int64>$y # and $z")
    assert names(scan) == ["y"]


def test_parameters_inside_single_and_double_quoted_strings_are_ignored() -> None:
    scan = scan_parameters("""select ('$x', "<str>$y", 'it\\'s $z', <str>$real)""")
    assert names(scan) == ["real"]
    assert scan.problems == ()


def test_a_raw_string_ends_at_its_first_quote_despite_a_backslash() -> None:
    scan = scan_parameters(r"select r'C:\' ++ <str>$x ++ r'$no'")
    assert names(scan) == ["x"]


def test_an_escaped_quote_does_not_end_a_byte_string() -> None:
    scan = scan_parameters(r"select b'\'$no' ++ <str>$x")
    assert names(scan) == ["x"]


def test_dollar_quoted_strings_hide_parameters() -> None:
    scan = scan_parameters("select $$ <str>$x $$ ++ $tag$ $y $$ $tag$ ++ <str>$z")
    assert names(scan) == ["z"]
    assert scan.problems == ()


def test_a_backquoted_identifier_hides_a_dollar() -> None:
    scan = scan_parameters("select Movie { `$weird` } filter .id = <uuid>$id")
    assert names(scan) == ["id"]


def test_a_hash_inside_a_string_does_not_start_a_comment() -> None:
    scan = scan_parameters("select '#' ++ <str>$x")
    assert names(scan) == ["x"]
    assert only("select '#' ++ <str>$x").type.name == "std::str"


def test_a_quote_inside_a_comment_does_not_start_a_string() -> None:
    scan = scan_parameters("select <str> # it's the title\n  $title")
    assert only("select <str> # it's the title\n  $title").type.name == "std::str"
    assert scan.problems == ()


def test_a_cast_after_a_string_and_several_comments_is_found() -> None:
    param = only("select 'a' ++ <str> # one\n # two 'quoted'\n $x")
    assert param.type.name == "std::str"


# ---------------------------------------------------------------------------------------------
# Types


def test_short_std_scalar_names_are_canonical() -> None:
    for short in ("str", "bool", "int16", "int32", "int64", "float32", "float64", "bigint"):
        assert parse_type(short) == ParamType("scalar", f"std::{short}")
    for short in ("decimal", "uuid", "json", "bytes", "datetime", "duration"):
        assert parse_type(short) == ParamType("scalar", f"std::{short}")


def test_cal_scalars_get_the_cal_module() -> None:
    for short in ("local_date", "local_time", "local_datetime", "relative_duration"):
        assert parse_type(short) == ParamType("scalar", f"cal::{short}")
    assert parse_type("date_duration").name == "cal::date_duration"
    assert parse_type("cal::local_date") == ParamType("scalar", "cal::local_date")


def test_qualified_std_names_are_the_same_scalars() -> None:
    assert parse_type("std::str") == parse_type("str")


def test_an_unqualified_unknown_name_is_a_default_type_of_unknown_kind() -> None:
    assert parse_type("Genre") == ParamType("unknown", "default::Genre")
    assert parse_type("default::Genre") == ParamType("unknown", "default::Genre")


def test_a_tuple_type_composes_its_element_names() -> None:
    t = parse_type("tuple<int64, str>")
    assert t.kind == "tuple" and t.name == "tuple<std::int64, std::str>"
    assert t.label() == "tuple<int64, str>"


def test_a_named_tuple_keeps_its_field_names() -> None:
    t = parse_type("tuple<x: float64, y: float64>")
    assert t.kind == "named_tuple"
    assert t.field_names == ("x", "y")
    assert t.name == "tuple<x: std::float64, y: std::float64>"
    assert t.label() == "tuple<x: float64, y: float64>"


def test_a_range_is_its_own_kind() -> None:
    t = parse_type("range<int64>")
    assert t == ParamType("range", "range<std::int64>", (ParamType("scalar", "std::int64"),))


def test_labels_are_short_but_keep_non_default_modules() -> None:
    assert parse_type("std::str").label() == "str"
    assert parse_type("cal::local_date").label() == "cal::local_date"
    assert parse_type("default::Genre").label() == "Genre"
    assert parse_type("array<Genre>").label() == "array<Genre>"
    assert UNTYPED.label() == "untyped"


def test_container_keywords_are_case_insensitive() -> None:
    assert parse_type("ARRAY<str>").name == "array<std::str>"


def test_parse_type_rejects_a_malformed_type_with_a_clear_message() -> None:
    for text, fragment in [
        ("array<str", "expected '>'"),
        ("array<int64, str>", "exactly one element type"),
        ("array", "needs element types"),
        ("tuple<a: str, int64>", "all named or all unnamed"),
        ("str<int64>", "takes no type arguments"),
        ("", "expected a type name"),
        ("str str", "after the type"),
        ("optional str", "optional/required belong to the cast"),
        ("'str'", "unexpected"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            parse_type(text)


def test_parse_type_refuses_types_nested_too_deeply() -> None:
    with pytest.raises(ValueError, match="nested more than"):
        parse_type("array<" * 40 + "str" + ">" * 40)


# ---------------------------------------------------------------------------------------------
# Problems


def test_a_parameter_without_a_cast_is_reported_with_a_fix() -> None:
    scan = scan_parameters("select $x")
    assert scan.parameters[0].type == UNTYPED
    assert messages(scan) == ["$x has no type: write <str>$x"]
    assert scan.problems[0].parameter == "x" and scan.problems[0].position == 7


def test_a_comparison_before_a_parameter_is_not_a_cast() -> None:
    scan = scan_parameters("select .n > $x")
    assert messages(scan) == ["$x has no type: write <str>$x"]


def test_a_later_use_without_a_cast_is_reported_with_the_known_cast() -> None:
    scan = scan_parameters("select <optional str>$x ?? $x")
    (problem,) = scan.problems
    assert problem.position == 27
    assert "<optional str>$x" in problem.message and "offset 27" in problem.message


def test_a_parameter_cast_two_ways_names_both_casts() -> None:
    scan = scan_parameters("select <str>$a ++ <int64>$a")
    (problem,) = scan.problems
    assert "<str>" in problem.message and "<int64>" in problem.message
    assert problem.parameter == "a" and problem.position == 25


def test_optional_in_one_place_and_required_in_another_is_a_conflict() -> None:
    scan = scan_parameters("select <optional str>$a ?? <str>$a")
    (problem,) = scan.problems
    assert "<optional str>" in problem.message and "<str> at offset" in problem.message


def test_the_same_cast_twice_is_not_a_conflict() -> None:
    assert scan_parameters("select <array<str>>$a ++ <array<std::str>>$a").problems == ()


def test_mixing_positional_and_named_parameters_is_reported() -> None:
    scan = scan_parameters("select (<str>$0, <str>$name)")
    assert scan.style == "mixed"
    assert any(m.startswith("cannot mix $0 and $name: use one style") for m in messages(scan))


def test_a_gap_in_positional_indexes_names_the_missing_one() -> None:
    scan = scan_parameters("select (<str>$0, <str>$2)")
    (problem,) = scan.problems
    assert "$2 is used but $1 is missing" in problem.message


def test_positional_indexes_must_start_at_zero() -> None:
    scan = scan_parameters("select (<str>$2, <str>$3)")
    assert "$0..$1 are missing" in messages(scan)[0]


def test_an_unclosed_container_in_a_cast_is_malformed() -> None:
    scan = scan_parameters("select <array<str>$x")
    (problem,) = scan.problems
    assert problem.message.startswith("$x: the cast before it is malformed")
    assert "'<' at offset 7 is never closed" in problem.message
    assert scan.parameters[0].type == UNTYPED


def test_a_cast_missing_its_closing_bracket_is_malformed() -> None:
    (problem,) = scan_parameters("select <str $x").problems
    assert "never closed" in problem.message and problem.parameter == "x"


def test_an_extra_closing_bracket_is_malformed() -> None:
    (problem,) = scan_parameters("select <array<str>>>$x").problems
    assert "has no matching '<'" in problem.message


def test_a_wrong_element_count_in_a_cast_is_malformed() -> None:
    (problem,) = scan_parameters("select <array<int64, str>>$x").problems
    assert "exactly one element type" in problem.message


def test_a_lone_dollar_is_reported() -> None:
    scan = scan_parameters("select $ + 1")
    assert scan.parameters == ()
    assert messages(scan) == [
        "'$' at offset 7 is not followed by a parameter name: write $name or $0"
    ]


def test_a_dollar_before_digits_and_letters_is_not_a_parameter() -> None:
    scan = scan_parameters("select <str>$0abc")
    assert scan.parameters == ()
    assert "not a valid parameter" in messages(scan)[0]


def test_an_empty_backquoted_parameter_name_is_reported() -> None:
    assert "empty parameter name" in messages(scan_parameters("select <str>$``"))[0]


def test_an_unterminated_string_is_reported_and_hides_what_follows() -> None:
    scan = scan_parameters("select 'abc ++ <str>$x")
    assert scan.parameters == ()
    assert "never closed" in messages(scan)[0]


def test_problems_are_capped_with_a_summary() -> None:
    scan = scan_parameters("$ " * (MAX_PROBLEMS + 50))
    assert len(scan.problems) == MAX_PROBLEMS + 1
    assert scan.problems[-1].message == "... and 50 more problems with parameters"


def test_a_cast_longer_than_the_limit_is_reported_not_parsed() -> None:
    query = "select <" + "array<" * 5000 + "str" + ">" * 5001 + "$x"
    (problem,) = scan_parameters(query).problems
    assert "longer than" in problem.message


# ---------------------------------------------------------------------------------------------
# Speed: linear-ish on big and hostile texts


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<" * 100_000 + "str" + ">" * 100_000 + "$x", id="100k-nested-angles"),
        pytest.param("select <str>$a, 'text', # comment\n" * 30_000, id="1MB-realistic"),
        pytest.param("<str>$a " * 125_000, id="1MB-of-casts"),
        pytest.param("'' " * 330_000, id="1MB-of-strings"),
        pytest.param("a > " * 250_000 + "$x", id="1MB-comparison-chain"),
        pytest.param("<" * 1_000_000, id="1MB-of-less-than"),
        pytest.param("#\n" * 500_000, id="1MB-of-comments"),
    ],
)
def test_scanning_a_megabyte_finishes_in_bounded_time(text: str) -> None:
    # A runaway guard (quadratic scanning of 1 MB would take minutes), not a speed target.
    start = time.perf_counter()
    scan_parameters(text)
    assert time.perf_counter() - start < 10.0


# ---------------------------------------------------------------------------------------------
# The server's description


def _cardinality(text: str) -> gel.Cardinality:
    return gel.Cardinality[text.split(".")[-1]]


def build_described_type(record: dict[str, Any]) -> gd.AnyType:
    """A real gel.describe type from its JSON form in transcripts.json."""
    kind, name, desc_id = record["kind"], record.get("name"), uuid.uuid4()
    if kind == "BaseScalarType":
        return gd.BaseScalarType(desc_id=desc_id, name=name)
    if kind == "ScalarType":
        base = build_described_type(record["base_type"])
        assert isinstance(base, gd.BaseScalarType)
        return gd.ScalarType(desc_id=desc_id, name=name, base_type=base)
    if kind == "EnumType":
        return gd.EnumType(desc_id=desc_id, name=name, members=tuple(record["members"]))
    if kind == "ArrayType":
        element = build_described_type(record["element_type"])
        return gd.ArrayType(desc_id=desc_id, name=name, element_type=element)
    if kind == "TupleType":
        members = tuple(build_described_type(e) for e in record["element_types"])
        return gd.TupleType(desc_id=desc_id, name=name, element_types=members)  # type: ignore[arg-type]
    if kind == "NamedTupleType":
        fields = {k: build_described_type(v) for k, v in record["element_types"].items()}
        return gd.NamedTupleType(desc_id=desc_id, name=name, element_types=fields)
    if kind == "RangeType":
        value = build_described_type(record["value_type"])
        return gd.RangeType(desc_id=desc_id, name=name, value_type=value)
    if kind == "ObjectType":
        elements = {
            key: gd.Element(
                type=build_described_type(element["type"]),
                cardinality=_cardinality(element["cardinality"]),
                is_implicit=False,
                kind=gel.ElementKind.PROPERTY,
            )
            for key, element in record["elements"].items()
        }
        return gd.ObjectType(desc_id=desc_id, name=name, elements=elements)
    raise AssertionError(f"no builder for {kind}")


def expected_name(record: dict[str, Any]) -> str:
    """The canonical name, computed from the JSON independently of ecc.arguments.params."""
    kind = record["kind"]
    if kind == "ArrayType":
        return f"array<{expected_name(record['element_type'])}>"
    if kind == "RangeType":
        return f"range<{expected_name(record['value_type'])}>"
    if kind == "TupleType":
        return "tuple<" + ", ".join(expected_name(e) for e in record["element_types"]) + ">"
    if kind == "NamedTupleType":
        items = record["element_types"].items()
        return "tuple<" + ", ".join(f"{k}: {expected_name(v)}" for k, v in items) + ">"
    return str(record["name"])


def described_queries() -> list[dict[str, Any]]:
    if not TRANSCRIPTS.exists():
        return []
    entries = json.loads(TRANSCRIPTS.read_text())["describe"]
    return [e for e in entries if "error" not in e]


@pytest.fixture
def described() -> list[dict[str, Any]]:
    entries = described_queries()
    if not entries:
        pytest.skip(f"no recorded descriptions at {TRANSCRIPTS}")
    return entries


def test_recorded_descriptions_convert_to_the_recorded_parameters(
    described: list[dict[str, Any]],
) -> None:
    checked = 0
    for entry in described:
        record = entry["input_type"]
        input_type = None if record is None else build_described_type(record)
        params = parameters_from_description(input_type)
        if record is None:
            assert params == (), entry["query"]
            continue
        elements = record["elements"]
        assert [p.name for p in params] == list(elements), entry["query"]
        for param in params:
            element = elements[param.name]
            assert param.type.name == expected_name(element["type"]), entry["query"]
            assert param.optional == (element["cardinality"] == "Cardinality.AT_MOST_ONE")
            assert param.positions == ()
            if element["type"]["kind"] == "EnumType":
                assert param.type.kind == "enum"
                assert param.type.enum_members == tuple(element["type"]["members"])
            checked += 1
    assert checked >= 10


def test_recorded_descriptions_agree_with_the_text_scan(described: list[dict[str, Any]]) -> None:
    for entry in described:
        record = entry["input_type"]
        server = parameters_from_description(
            None if record is None else build_described_type(record)
        )
        scan = scan_parameters(entry["query"])
        assert scan.problems == (), entry["query"]
        merged = merge_with_server(scan, server)
        assert merged.disagreements == (), entry["query"]
        assert [p.name for p in merged.parameters] == [p.name for p in scan.parameters]


def test_the_recorded_enum_parameter_lists_its_members(described: list[dict[str, Any]]) -> None:
    entry = next(e for e in described if "<Genre>$g" in e["query"])
    server = parameters_from_description(build_described_type(entry["input_type"]))
    genre = next(p for p in server if p.name == "g")
    assert genre.type == ParamType(
        "enum", "default::Genre", enum_members=("Action", "SciFi", "Drama", "Crime", "Thriller")
    )


def _element(t: gd.AnyType, cardinality: str = "ONE") -> gd.Element:
    return gd.Element(
        type=t,
        cardinality=gel.Cardinality[cardinality],
        is_implicit=False,
        kind=gel.ElementKind.PROPERTY,
    )


def _scalar(name: str) -> gd.BaseScalarType:
    return gd.BaseScalarType(desc_id=uuid.uuid4(), name=name)


def test_no_input_type_means_no_parameters() -> None:
    assert parameters_from_description(None) == ()


def test_a_described_named_tuple_keeps_field_names_and_order() -> None:
    point = gd.NamedTupleType(
        desc_id=uuid.uuid4(),
        name=None,
        element_types={"x": _scalar("std::float64"), "y": _scalar("std::float64")},
    )
    obj = gd.ObjectType(desc_id=uuid.uuid4(), name=None, elements={"p": _element(point)})
    (param,) = parameters_from_description(obj)
    assert param.type == parse_type("tuple<x: float64, y: float64>")


def test_a_described_range_is_a_range() -> None:
    span = gd.RangeType(
        desc_id=uuid.uuid4(), name="range<std|int64>", value_type=_scalar("std::int64")
    )
    obj = gd.ObjectType(desc_id=uuid.uuid4(), name=None, elements={"r": _element(span)})
    assert parameters_from_description(obj)[0].type == parse_type("range<int64>")


def test_a_custom_scalar_is_read_like_its_base() -> None:
    email = gd.ScalarType(
        desc_id=uuid.uuid4(), name="default::Email", base_type=_scalar("std::str")
    )
    obj = gd.ObjectType(desc_id=uuid.uuid4(), name=None, elements={"e": _element(email)})
    (param,) = parameters_from_description(obj)
    assert param.type == ParamType("scalar", "default::Email", (ParamType("scalar", "std::str"),))
    assert param.type.label() == "Email"


def test_described_positional_parameters_are_sorted_by_index() -> None:
    elements = {str(i): _element(_scalar("std::str")) for i in (1, 0, 2)}
    obj = gd.ObjectType(desc_id=uuid.uuid4(), name=None, elements=elements)
    assert [p.name for p in parameters_from_description(obj)] == ["0", "1", "2"]


# ---------------------------------------------------------------------------------------------
# Merging


def server_params(**types: tuple[ParamType, bool]) -> tuple[QueryParameter, ...]:
    return tuple(QueryParameter(n, t, opt, ()) for n, (t, opt) in types.items())


GENRE = ParamType("enum", "default::Genre", enum_members=("Action", "SciFi", "Drama"))


def test_the_server_type_wins_and_the_text_positions_stay() -> None:
    scan = scan_parameters("select <Genre>$g")
    merged = merge_with_server(scan, server_params(g=(GENRE, False)))
    assert merged.parameters == (QueryParameter("g", GENRE, False, (14,)),)


def test_an_unknown_kind_resolved_to_the_same_name_is_no_disagreement() -> None:
    scan = scan_parameters("select <array<Genre>>$g")
    enum_array = ParamType("array", "array<default::Genre>", (GENRE,))
    assert merge_with_server(scan, server_params(g=(enum_array, False))).disagreements == ()


def test_an_unqualified_name_found_in_another_module_is_no_disagreement() -> None:
    scan = scan_parameters("with module shop select <Color>$c")
    color = ParamType("enum", "shop::Color", enum_members=("Red",))
    assert merge_with_server(scan, server_params(c=(color, False))).disagreements == ()


def test_a_different_type_name_is_a_disagreement_that_names_both() -> None:
    scan = scan_parameters("select <Genre>$g")
    other = ParamType("enum", "default::Mood", enum_members=("Happy",))
    (sentence,) = merge_with_server(scan, server_params(g=(other, False))).disagreements
    assert sentence == (
        "$g: the query text says default::Genre (unknown kind), "
        "the server says enum default::Mood [Happy]"
    )


def test_a_different_optional_flag_is_a_disagreement() -> None:
    scan = scan_parameters("select <str>$x")
    str_type = ParamType("scalar", "std::str")
    (sentence,) = merge_with_server(scan, server_params(x=(str_type, True))).disagreements
    assert sentence == "$x: the query text says required, the server says optional"


def test_a_parameter_only_the_server_has_is_a_disagreement_and_is_kept() -> None:
    merged = merge_with_server(
        scan_parameters("select 1"), server_params(x=(ParamType("scalar", "std::str"), False))
    )
    assert [p.name for p in merged.parameters] == ["x"]
    assert "the server expects it" in merged.disagreements[0]


def test_a_parameter_only_the_text_has_is_a_disagreement_and_is_dropped() -> None:
    merged = merge_with_server(scan_parameters("select <str>$x"), ())
    assert merged.parameters == ()
    assert merged.disagreements == ("$x: the query text uses it but the server does not list it",)


def test_an_untyped_text_parameter_takes_the_server_type_silently() -> None:
    str_type = ParamType("scalar", "std::str")
    merged = merge_with_server(scan_parameters("select $x"), server_params(x=(str_type, False)))
    assert merged.parameters[0].type == str_type
    assert merged.disagreements == ()
