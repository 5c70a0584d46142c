"""ecc.display.results: from what the driver returned to what the page shows and downloads."""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import math
import uuid

import gel
import pandas as pd
import pyarrow as pa
import pytest
from gel.datatypes import datatypes as dt
from gel.pgproto.pgproto import UUID as DriverUUID
from hypothesis import given
from hypothesis import strategies as st

from ecc.display.results import (
    MAX_JSON_TEXT_CHARS,
    ShapedResult,
    TableData,
    driver_text,
    iso_duration,
    shape_result,
    table_data,
    to_csv_text,
    to_json_text,
    to_plain,
)
from ecc.driver.client import QueryMethod

UID = "12345678-1234-5678-1234-567812345678"
UTC = datetime.UTC

Person = dt.create_object_factory(id={"property", "implicit"}, name="property")
Actor = dt.create_object_factory(
    id={"property", "implicit"}, name="property", character="link-property"
)
Movie = dt.create_object_factory(
    id={"property", "implicit"},
    title="property",
    year="property",
    director="link",
    actors="link",
)
OnlyId = dt.create_object_factory(id={"property", "implicit"})
ExplicitId = dt.create_object_factory(id="property", name="property")


class Genre(gel.EnumValue):
    SCIFI = "SciFi"
    DRAMA = "Drama"


def uid(n: int = 0) -> uuid.UUID:
    return DriverUUID(f"00000000-0000-0000-0000-{n:012d}")


def movie(n: int, director: object = None, actors: list[object] | None = None) -> object:
    return Movie(uid(n), f"Movie {n}", 2000 + n, director, actors or [])


def many(rows: list[object], keep: int = 1000) -> ShapedResult:
    return shape_result(rows, QueryMethod.QUERY, keep)


def single(value: object) -> ShapedResult:
    return shape_result(value, QueryMethod.QUERY_SINGLE, 1000)


def compact(value: object) -> str:
    return json.dumps(to_plain(value), ensure_ascii=False, separators=(",", ":"))


def arrow_accepts(table: TableData) -> None:
    pa.Table.from_pandas(pd.DataFrame(table.columns))


# --- shape_result ----------------------------------------------------------------------------


def test_many_method_keeps_every_row_under_the_limit() -> None:
    result = many([1, 2, 3], keep=10)
    assert (result.value, result.total_rows, result.kept_rows, result.truncated) == (
        [1, 2, 3],
        3,
        3,
        False,
    )


def test_many_method_truncates_to_max_kept_rows_and_counts_the_total() -> None:
    result = many(list(range(10)), keep=4)
    assert result.value == [0, 1, 2, 3]
    assert (result.total_rows, result.kept_rows, result.truncated) == (10, 4, True)


def test_empty_set_has_no_rows() -> None:
    result = many([])
    assert (result.value, result.total_rows, result.kept_rows, result.truncated) == (
        [],
        0,
        0,
        False,
    )


def test_single_method_counts_one_row() -> None:
    result = single(16)
    assert (result.value, result.total_rows, result.kept_rows) == (16, 1, 1)


def test_single_none_counts_zero_rows() -> None:
    result = single(None)
    assert (result.value, result.total_rows, result.kept_rows, result.truncated) == (
        None,
        0,
        0,
        False,
    )


def test_json_method_parses_the_text_and_keeps_it() -> None:
    text = '[{"title" : "Alien", "release_year" : 1979}]'
    result = shape_result(text, QueryMethod.QUERY_JSON, 10)
    assert result.value == [{"title": "Alien", "release_year": 1979}]
    assert result.json_text == text
    assert (result.total_rows, result.kept_rows) == (1, 1)


def test_json_decimal_keeps_every_digit() -> None:
    text = '{"dec" : 12345678901234567890.123456789, "f" : 1.5}'
    result = shape_result(text, QueryMethod.QUERY_SINGLE_JSON, 10)
    assert result.value == {
        "dec": decimal.Decimal("12345678901234567890.123456789"),
        "f": decimal.Decimal("1.5"),
    }


def test_json_method_truncates_the_parsed_array_and_drops_the_longer_text() -> None:
    result = shape_result("[1, 2, 3, 4]", QueryMethod.QUERY_JSON, 2)
    assert (result.value, result.total_rows, result.kept_rows) == ([1, 2], 4, 2)
    assert result.json_text is None  # it would hold rows the session does not keep
    assert driver_text(result, 10) == "[1,2]"


def test_json_text_view_shows_at_most_the_row_limit() -> None:
    result = shape_result("[1, 2, 3, 4]", QueryMethod.QUERY_JSON, 10)
    assert result.json_text == "[1, 2, 3, 4]"
    assert driver_text(result, 2) == "[1,2]"
    assert driver_text(result, 4) == "[1, 2, 3, 4]"


def test_a_many_result_that_reaches_the_implicit_limit_says_more_rows_exist() -> None:
    result = shape_result(list(range(11)), QueryMethod.QUERY, 10, implicit_limit=11)
    assert result.more_rows and result.truncated
    assert (result.kept_rows, result.total_rows) == (10, 11)
    below = shape_result(list(range(10)), QueryMethod.QUERY, 10, implicit_limit=11)
    assert not below.more_rows and not below.truncated


def test_json_single_null_counts_zero_rows() -> None:
    result = shape_result("null", QueryMethod.QUERY_SINGLE_JSON, 10)
    assert (result.value, result.total_rows) == (None, 0)


def test_json_text_above_the_size_cap_is_not_kept() -> None:
    text = '["' + "x" * MAX_JSON_TEXT_CHARS + '"]'
    result = shape_result(text, QueryMethod.QUERY_JSON, 10)
    assert result.json_text is None
    assert result.value == ["x" * MAX_JSON_TEXT_CHARS]


def test_json_method_given_a_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        shape_result([1], QueryMethod.QUERY_JSON, 10)


def test_query_json_answering_one_object_keeps_it_as_its_one_row() -> None:
    # analyze through query_json: the server answers the plan document, not an array (5.8)
    text = '{"buffers" : ["analyze select 1"], "version" : "5.8", "t" : 0.5}'
    result = shape_result(text, QueryMethod.QUERY_JSON, 10)
    assert result.value == [{"buffers": ["analyze select 1"], "version": "5.8",
                             "t": decimal.Decimal("0.5")}]
    assert (result.total_rows, result.kept_rows, result.truncated) == (1, 1, False)
    assert driver_text(result, 10) == text  # what the driver returned
    assert table_data(result, 10).columns["version"] == ["5.8"]


def test_query_json_answering_a_scalar_is_a_type_error_naming_the_method() -> None:
    with pytest.raises(TypeError, match=r"query_json\(\) returned a non-array: int"):
        shape_result("1", QueryMethod.QUERY_JSON, 10)


def test_negative_max_kept_rows_is_rejected() -> None:
    with pytest.raises(ValueError):
        many([1], keep=-1)


# --- to_plain: every driver type -------------------------------------------------------------


def test_object_is_a_dict_of_its_fields_in_order_without_the_implicit_id() -> None:
    assert to_plain(Movie(uid(1), "Alien", 1979, None, [])) == {
        "title": "Alien",
        "year": 1979,
        "director": None,
        "actors": [],
    }


def test_object_with_only_implicit_fields_shows_them() -> None:
    assert to_plain(OnlyId(uid(7))) == {"id": "00000000-0000-0000-0000-000000000007"}


def test_explicitly_selected_id_is_shown() -> None:
    assert to_plain(ExplicitId(uid(1), "A")) == {
        "id": "00000000-0000-0000-0000-000000000001",
        "name": "A",
    }


def test_nested_links_become_nested_dicts() -> None:
    value = movie(1, director=Person(uid(2), "Ridley"), actors=[Person(uid(3), "Sigourney")])
    assert to_plain(value) == {
        "title": "Movie 1",
        "year": 2001,
        "director": {"name": "Ridley"},
        "actors": [{"name": "Sigourney"}],
    }


def test_link_properties_come_after_the_fields_as_at_keys() -> None:
    assert to_plain(Actor(uid(1), "Keanu Reeves", "Neo")) == {
        "name": "Keanu Reeves",
        "@character": "Neo",
    }


def test_set_and_array_become_lists() -> None:
    assert to_plain(gel.Set([1, 2])) == [1, 2]
    assert to_plain(gel.Array(["a"])) == ["a"]


def test_tuple_becomes_a_list() -> None:
    assert to_plain((7, "seven", decimal.Decimal("1.5"))) == [7, "seven", "1.5"]


def test_named_tuple_becomes_a_dict() -> None:
    assert to_plain(gel.NamedTuple(a=1, b="x", c=[1, 2])) == {"a": 1, "b": "x", "c": [1, 2]}


def test_enum_value_becomes_its_label() -> None:
    assert to_plain(Genre("SciFi")) == "SciFi"


def test_uuid_becomes_its_canonical_string() -> None:
    assert to_plain(DriverUUID(UID)) == UID
    assert to_plain(uuid.UUID(UID)) == UID


def test_datetime_becomes_iso_with_offset() -> None:
    value = datetime.datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=UTC)
    assert to_plain(value) == "2024-02-29T12:30:45.123456+00:00"


def test_local_datetime_date_and_time_become_iso() -> None:
    assert to_plain(datetime.datetime(2024, 2, 29, 12, 30, 45)) == "2024-02-29T12:30:45"
    assert to_plain(datetime.date(2024, 2, 29)) == "2024-02-29"
    assert to_plain(datetime.time(23, 59, 59, 999999)) == "23:59:59.999999"


def test_timedelta_becomes_the_servers_iso_duration() -> None:
    assert to_plain(datetime.timedelta(seconds=3723, microseconds=500000)) == "PT1H2M3.5S"
    assert to_plain(datetime.timedelta(seconds=8160)) == "PT2H16M"
    assert to_plain(datetime.timedelta(0)) == "PT0S"


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_iso_duration_matches_gel_relative_duration(micros: int) -> None:
    expected = str(gel.RelativeDuration(microseconds=micros))
    assert iso_duration(datetime.timedelta(microseconds=micros)) == expected


def test_decimal_becomes_its_exact_string() -> None:
    assert to_plain(decimal.Decimal("12345678901234567890.123456789")) == (
        "12345678901234567890.123456789"
    )
    assert to_plain(decimal.Decimal("63000000.50")) == "63000000.50"


def test_big_int_stays_an_int() -> None:
    assert to_plain(123456789012345678901234567890) == 123456789012345678901234567890


def test_bytes_become_hex_without_prefix() -> None:
    assert to_plain(b"\x00ab") == "006162"


def test_range_becomes_a_dict_of_bounds() -> None:
    assert to_plain(gel.Range(1, 10)) == {
        "lower": 1,
        "upper": 10,
        "inc_lower": True,
        "inc_upper": False,
        "empty": False,
    }


def test_empty_range_says_so() -> None:
    assert to_plain(gel.Range(empty=True)) == {
        "lower": None,
        "upper": None,
        "inc_lower": False,
        "inc_upper": False,
        "empty": True,
    }


def test_range_bounds_are_rendered_too() -> None:
    plain = to_plain(gel.Range(decimal.Decimal("1.5"), None))
    assert isinstance(plain, dict)
    assert (plain["lower"], plain["upper"]) == ("1.5", None)


def test_multi_range_becomes_a_list_of_ranges() -> None:
    plain = to_plain(gel.MultiRange([gel.Range(1, 2), gel.Range(5, 6)]))
    assert isinstance(plain, list)
    assert [(r["lower"], r["upper"]) for r in plain] == [(1, 2), (5, 6)]


def test_gel_durations_and_memory_become_their_text() -> None:
    assert to_plain(gel.RelativeDuration(months=14, days=3, microseconds=3_600_000_000)) == (
        "P1Y2M3DT1H"
    )
    assert to_plain(gel.DateDuration(months=2, days=5)) == "P2M5D"
    assert to_plain(gel.ConfigMemory(bytes=1024)) == "1KiB"


def test_nan_and_infinities_become_strings() -> None:
    assert [to_plain(math.nan), to_plain(math.inf), to_plain(-math.inf)] == [
        "nan",
        "inf",
        "-inf",
    ]


def test_plain_scalars_stay_themselves() -> None:
    assert [to_plain(v) for v in (None, True, 3, 1.5, "x")] == [None, True, 3, 1.5, "x"]


def test_json_dicts_keep_their_keys_and_render_decimals() -> None:
    assert to_plain({"a": [decimal.Decimal("2.50")], "b": None}) == {"a": ["2.50"], "b": None}


# --- table_data ------------------------------------------------------------------------------


def test_objects_get_one_column_per_field() -> None:
    table = table_data(many([movie(1), movie(2)]), limit=100)
    assert list(table.columns) == ["title", "year", "director", "actors"]
    assert table.columns["title"] == ["Movie 1", "Movie 2"]
    assert table.columns["year"] == [2001, 2002]


def test_nested_link_cells_are_compact_json_text() -> None:
    rows = [movie(1, director=Person(uid(2), "Ridley")), movie(2)]
    table = table_data(many(rows), limit=100)
    assert table.columns["director"] == ['{"name":"Ridley"}', None]
    assert "director" in table.json_columns
    assert "title" not in table.json_columns


def test_multi_link_cells_are_json_arrays() -> None:
    rows = [movie(1, actors=[Person(uid(3), "A"), Person(uid(4), "B")]), movie(2)]
    table = table_data(many(rows), limit=100)
    assert table.columns["actors"] == ['[{"name":"A"},{"name":"B"}]', "[]"]


def test_link_property_columns_follow_the_fields() -> None:
    rows = [Actor(uid(1), "Keanu Reeves", "Neo"), Actor(uid(2), "Hugo Weaving", None)]
    table = table_data(many(rows), limit=100)
    assert table.columns == {
        "name": ["Keanu Reeves", "Hugo Weaving"],
        "@character": ["Neo", None],
    }


def test_link_properties_inside_nested_cells_are_at_keys() -> None:
    rows = [movie(1, actors=[Actor(uid(3), "Keanu", "Neo")])]
    assert table_data(many(rows), limit=100).columns["actors"] == [
        '[{"name":"Keanu","@character":"Neo"}]'
    ]


def test_json_cells_equal_compact_dumps_of_to_plain() -> None:
    values: list[object] = [
        movie(1, director=Person(uid(2), 'Q"uote\\ é'), actors=[Actor(uid(3), "A", "x")]),
        [1.5, math.nan, True, None, DriverUUID(UID), decimal.Decimal("1.10")],
        (datetime.date(2024, 1, 2), datetime.timedelta(hours=-1), b"\xff", Genre("Drama")),
        gel.NamedTuple(x=1.25, y=-2.5),
        {"k": ["100%", {"n": 2**70}]},
        gel.Range(datetime.datetime(2024, 1, 1, tzinfo=UTC), None),
        [Person(uid(4), "p"), None],
        [[], ["a"], ["b", "c"]],
        None,
    ]
    table = table_data(many(values), limit=100)
    assert table.columns["value"] == [None if v is None else compact(v) for v in values]
    assert table.json_columns == ("value",)


def test_scalars_get_a_single_value_column() -> None:
    table = table_data(many([1979, 1982]), limit=100)
    assert table == TableData({"value": [1979, 1982]}, (), 2, 2)


def test_single_scalar_is_one_row() -> None:
    assert table_data(single(16), limit=100).columns == {"value": [16]}


def test_tuples_get_a_value_column_of_json() -> None:
    table = table_data(many([(1, "x"), (2, "y")]), limit=100)
    assert table.columns == {"value": ['[1,"x"]', '[2,"y"]']}
    assert table.json_columns == ("value",)


def test_named_tuples_get_one_column_per_field() -> None:
    table = table_data(single(gel.NamedTuple(a=1, b="x", c=[1, 2])), limit=100)
    assert table.columns == {"a": [1], "b": ["x"], "c": ["[1,2]"]}
    assert table.json_columns == ("c",)


def test_empty_set_gives_no_columns() -> None:
    assert table_data(many([]), limit=100) == TableData({}, (), 0, 0)


def test_single_none_gives_no_rows() -> None:
    assert table_data(single(None), limit=100) == TableData({}, (), 0, 0)


def test_rows_with_different_fields_get_the_union_with_missing_as_none() -> None:
    rows = [Person(uid(1), "Ann"), Actor(uid(2), "Bob", "Neo"), movie(3)]
    table = table_data(many(rows), limit=100)
    assert table.columns == {
        "name": ["Ann", "Bob", None],
        "title": [None, None, "Movie 3"],
        "year": [None, None, 2003],
        "director": [None, None, None],
        "actors": [None, None, "[]"],
        "@character": [None, "Neo", None],
    }
    assert table.json_columns == ("actors",)


def test_limit_caps_shown_rows_but_not_total_rows() -> None:
    table = table_data(many(list(range(50)), keep=20), limit=5)
    assert (table.columns["value"], table.shown_rows, table.total_rows) == ([0, 1, 2, 3, 4], 5, 50)


def test_scalar_cells_become_types_arrow_accepts() -> None:
    Sample = dt.create_object_factory(
        uid="property", dec="property", dur="property", raw="property", genre="property"
    )
    row = Sample(
        DriverUUID(UID), decimal.Decimal("1.50"), datetime.timedelta(hours=2), b"\x01", Genre.SCIFI
    )
    table = table_data(single(row), limit=10)
    assert table.columns == {
        "uid": [UID],
        "dec": ["1.50"],
        "dur": ["PT2H"],
        "raw": ["01"],
        "genre": ["SciFi"],
    }
    arrow_accepts(table)


def test_ints_beyond_int64_make_the_column_text() -> None:
    table = table_data(many([1, 2**64, None]), limit=10)
    assert table.columns["value"] == ["1", str(2**64), None]
    arrow_accepts(table)


def test_int_and_float_share_a_numeric_column() -> None:
    table = table_data(many([1, 2.5]), limit=10)
    assert table.columns["value"] == [1, 2.5]
    arrow_accepts(table)


def test_a_column_mixing_scalar_kinds_becomes_text() -> None:
    date = datetime.date(2024, 1, 2)
    table = table_data(many([1, "a", True, date, decimal.Decimal("2.0")]), limit=10)
    assert table.columns["value"] == ["1", "a", "True", "2024-01-02", "2.0"]
    arrow_accepts(table)


def test_a_column_mixing_scalars_and_nested_values_is_all_json() -> None:
    table = table_data(many([1, "a", [2]]), limit=10)
    assert table.columns["value"] == ["1", '"a"', "[2]"]
    assert table.json_columns == ("value",)
    arrow_accepts(table)


def test_json_method_objects_get_one_column_per_key() -> None:
    text = '[{"title" : "Alien", "n" : 1.5, "tags" : ["a"]}, {"title" : "B", "n" : 2}]'
    table = table_data(shape_result(text, QueryMethod.QUERY_JSON, 10), limit=10)
    assert table.columns == {"title": ["Alien", "B"], "n": ["1.5", "2"], "tags": ['["a"]', None]}
    assert table.json_columns == ("tags",)
    arrow_accepts(table)


def test_datetime_columns_stay_datetimes() -> None:
    value = datetime.datetime(2024, 2, 29, 12, 30, tzinfo=UTC)
    table = table_data(many([value, None]), limit=10)
    assert table.columns["value"] == [value, None]
    arrow_accepts(table)


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValueError):
        table_data(many([1]), limit=-1)


# --- downloads and the driver's text ---------------------------------------------------------


def test_json_download_parses_back_to_the_plain_rows() -> None:
    rows = [movie(1, director=Person(uid(2), "R")), movie(2)]
    assert json.loads(to_json_text(many(rows))) == to_plain(rows)


def test_json_download_is_pretty() -> None:
    assert to_json_text(single(gel.NamedTuple(a=1))) == '{\n  "a": 1\n}'


def test_json_download_of_a_json_method_keeps_decimal_digits() -> None:
    text = '[{"dec" : 12345678901234567890.123456789, "s" : "é\\n"}, []]'
    download = to_json_text(shape_result(text, QueryMethod.QUERY_JSON, 10))
    assert "12345678901234567890.123456789" in download
    parsed = json.loads(download, parse_float=decimal.Decimal)
    assert parsed == json.loads(text, parse_float=decimal.Decimal)


def test_json_download_holds_only_kept_rows() -> None:
    assert json.loads(to_json_text(many(list(range(10)), keep=3))) == [0, 1, 2]


def test_csv_download_parses_back_to_the_table_columns() -> None:
    rows = [movie(1, director=Person(uid(2), 'R, "the" director')), movie(2)]
    text = to_csv_text(many(rows))
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header == ["title", "year", "director", "actors"]
    assert lines == [
        ["Movie 1", "2001", '{"name":"R, \\"the\\" director"}', "[]"],
        ["Movie 2", "2002", "", "[]"],
    ]


def test_csv_download_writes_dates_as_iso() -> None:
    value = datetime.datetime(2024, 2, 29, 12, 30, tzinfo=UTC)
    text = to_csv_text(many([value]))
    assert list(csv.reader(io.StringIO(text))) == [["value"], ["2024-02-29T12:30:00+00:00"]]


def test_csv_download_holds_every_kept_row() -> None:
    text = to_csv_text(many(list(range(10)), keep=7))
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 7


def test_csv_download_of_nothing_is_empty() -> None:
    assert to_csv_text(many([])) == ""


def test_driver_text_is_one_repr_per_row() -> None:
    rows = [Person(uid(1), "Ann"), Person(uid(2), "Bob")]
    assert driver_text(many(rows), limit=10) == ("Object{name := 'Ann'}\nObject{name := 'Bob'}")


def test_driver_text_stops_at_the_limit() -> None:
    assert driver_text(many([1, 2, 3]), limit=2) == "1\n2"


def test_driver_text_of_an_empty_set_is_brackets() -> None:
    assert driver_text(many([]), limit=10) == "[]"


def test_driver_text_of_a_single_value_is_its_repr() -> None:
    assert driver_text(single(None), limit=10) == "None"
    assert driver_text(single(decimal.Decimal("1.5")), limit=10) == "Decimal('1.5')"


def test_driver_text_of_a_json_method_is_the_drivers_json() -> None:
    text = '{"n" : 16, "p" : 40}'
    result = shape_result(text, QueryMethod.QUERY_SINGLE_JSON, 10)
    assert driver_text(result, limit=10) == text


def test_driver_text_of_oversized_json_is_rewritten_from_the_kept_rows() -> None:
    text = "[" + ", ".join(["1.10"] * 3) + ', "' + "x" * MAX_JSON_TEXT_CHARS + '"]'
    result = shape_result(text, QueryMethod.QUERY_JSON, 10)
    assert driver_text(result, limit=2) == "[1.10,1.10]"
