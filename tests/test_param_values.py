"""Widget text to driver values, one parser per parameter type, and back again."""

from __future__ import annotations

import datetime as dt
import decimal
import pickle
import uuid

import gel
import pytest

from ecc.arguments.param_values import ParamValueError, parse_param_value, value_to_text
from ecc.arguments.params import ParamType, QueryParameter, parse_type

UTC = dt.UTC
GENRE = ParamType("enum", "default::Genre", enum_members=("Action", "SciFi", "Drama"))


def param(type_text: str | ParamType, optional: bool = False, name: str = "x") -> QueryParameter:
    ptype = type_text if isinstance(type_text, ParamType) else parse_type(type_text)
    return QueryParameter(name, ptype, optional)


def parse(type_text: str | ParamType, raw: str | bool | None, optional: bool = False) -> object:
    return parse_param_value(param(type_text, optional), raw)


def error(type_text: str | ParamType, raw: str | bool | None, optional: bool = False) -> str:
    with pytest.raises(ParamValueError) as info:
        parse(type_text, raw, optional)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Blank input and the error object


def test_blank_input_for_an_optional_parameter_is_the_empty_set() -> None:
    assert parse("int64", "", optional=True) is None
    assert parse("int64", "   ", optional=True) is None
    assert parse("array<str>", None, optional=True) is None


def test_blank_input_for_a_required_parameter_is_refused() -> None:
    assert error("int64", " ") == (
        "$x: a value is required (only <optional> parameters may be left empty)"
    )
    assert "required" in error("str", None)


def test_spaces_are_a_str_value_not_a_blank() -> None:
    assert parse("str", "  ", optional=True) == "  "


def test_the_error_names_the_parameter_and_keeps_its_parts() -> None:
    with pytest.raises(ParamValueError) as info:
        parse_param_value(param("int16", name="n"), "40000")
    assert info.value.parameter == "n"
    assert info.value.message == "40000 is out of range for int16 (-32768..32767)"
    assert str(info.value) == "$n: 40000 is out of range for int16 (-32768..32767)"


def test_the_error_survives_pickling() -> None:
    original = ParamValueError("tags[2]", "bad")
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.parameter, copy.message, str(copy)) == ("tags[2]", "bad", "$tags[2]: bad")


# ---------------------------------------------------------------------------------------------
# Scalars


def test_str_is_taken_exactly_as_typed() -> None:
    assert parse("str", "  Dune\n") == "  Dune\n"


def test_bool_takes_the_checkbox_or_words() -> None:
    assert parse("bool", True) is True
    assert parse("bool", False) is False
    for word in ("true", "Yes", "1", "on"):
        assert parse("bool", word) is True
    for word in ("false", "NO", "0", "off"):
        assert parse("bool", word) is False


def test_bool_rejects_other_words() -> None:
    assert "not a boolean" in error("bool", "maybe")


def test_a_checkbox_value_for_a_non_bool_is_refused() -> None:
    assert "checkbox" in error("int64", True)


@pytest.mark.parametrize(
    ("type_name", "low", "high"),
    [
        ("int16", -32768, 32767),
        ("int32", -(2**31), 2**31 - 1),
        ("int64", -(2**63), 2**63 - 1),
    ],
)
def test_integer_bounds_are_inclusive(type_name: str, low: int, high: int) -> None:
    assert parse(type_name, str(low)) == low
    assert parse(type_name, str(high)) == high


@pytest.mark.parametrize(
    ("type_name", "raw", "message"),
    [
        ("int16", "32768", "32768 is out of range for int16 (-32768..32767)"),
        ("int16", "-32769", "-32769 is out of range for int16 (-32768..32767)"),
        ("int64", str(2**63), f"{2**63} is out of range for int64"),
    ],
)
def test_integers_outside_their_type_name_the_bounds(
    type_name: str, raw: str, message: str
) -> None:
    assert message in error(type_name, raw)


def test_integers_allow_underscores_and_signs() -> None:
    assert parse("int32", "+1_000") == 1000
    assert parse("int64", " -7 ") == -7


def test_integers_reject_decimals_and_words() -> None:
    assert "not a whole number" in error("int64", "1.5")
    assert "not a whole number" in error("int64", "1__0")
    assert "not a whole number" in error("int64", "seven")


def test_bigint_takes_any_size_up_to_4000_digits() -> None:
    assert parse("bigint", "9" * 4000) == int("9" * 4000)
    assert parse("bigint", "123n") == 123
    assert "at most 4000" in error("bigint", "9" * 4001)


def test_floats_take_nan_and_infinity() -> None:
    value = parse("float64", "nan")
    assert isinstance(value, float) and value != value
    assert parse("float64", "-inf") == float("-inf")
    assert parse("float64", "2.5e-3") == 0.0025


def test_float32_accepts_its_largest_value_and_refuses_more() -> None:
    assert parse("float32", "3.4028235e38") == 3.4028235e38
    assert "out of range for float32" in error("float32", "3.5e38")
    assert parse("float64", "3.5e38") == 3.5e38


def test_a_float_literal_too_large_for_float64_is_refused_not_infinite() -> None:
    assert "out of range for float64" in error("float64", "1e400")


def test_decimal_keeps_the_digits_typed() -> None:
    assert parse("decimal", "12.50") == decimal.Decimal("12.50")
    assert str(parse("decimal", "12.50")) == "12.50"


def test_decimal_refuses_nan_and_infinity() -> None:
    assert "cannot be NaN or infinite" in error("decimal", "NaN")
    assert "cannot be NaN or infinite" in error("decimal", "-Infinity")


def test_uuid_is_read_and_checked() -> None:
    text = "9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41"
    assert parse("uuid", f" {text} ") == uuid.UUID(text)
    assert "not a UUID" in error("uuid", "9b2d6a9e")


def test_datetime_needs_an_offset_and_accepts_z() -> None:
    assert parse("datetime", "2024-05-01T12:30:00Z") == dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    offset = dt.timezone(dt.timedelta(hours=2))
    assert parse("datetime", "2024-05-01 12:30+02:00") == dt.datetime(
        2024, 5, 1, 12, 30, tzinfo=offset
    )


def test_a_naive_datetime_is_refused_with_how_to_add_an_offset() -> None:
    message = error("datetime", "2024-05-01T12:30:00")
    assert "has no UTC offset" in message and "2024-05-01T12:30:00Z" in message


def test_local_date_time_and_datetime_are_iso() -> None:
    assert parse("cal::local_date", "2024-02-29") == dt.date(2024, 2, 29)
    assert parse("local_time", "12:30:45.5") == dt.time(12, 30, 45, 500000)
    assert parse("local_datetime", "2024-02-29T12:30") == dt.datetime(2024, 2, 29, 12, 30)


def test_an_impossible_date_is_refused() -> None:
    assert "is not a date" in error("local_date", "2023-02-29")


def test_local_datetime_refuses_an_offset() -> None:
    assert "has a UTC offset" in error("local_datetime", "2024-02-29T12:30:00+01:00")
    assert "has a UTC offset" in error("local_time", "12:30:00+01:00")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("PT1H30M", 5400), ("1 hour 30 minutes", 5400), ("1h 30m", 5400), ("90 s", 90)],
)
def test_duration_reads_iso_and_human_forms(raw: str, seconds: int) -> None:
    assert parse("duration", raw) == dt.timedelta(seconds=seconds)


def test_duration_refuses_calendar_units() -> None:
    message = error("duration", "1 day")
    assert "without days, months or years" in message
    assert "months" in error("duration", "P1M")


def test_relative_duration_keeps_months_days_and_time_apart() -> None:
    assert parse("relative_duration", "1 year 2 months 3 days 4 hours") == gel.RelativeDuration(
        months=14, days=3, microseconds=4 * 3_600_000_000
    )


def test_date_duration_refuses_time_units() -> None:
    assert parse("date_duration", "P1M5D") == gel.DateDuration(months=1, days=5)
    assert "cannot hold 'hour'" in error("date_duration", "1 hour")


def test_json_is_validated_and_sent_as_typed() -> None:
    assert parse("json", '{"a": [1, null]}') == '{"a": [1, null]}'
    assert "not valid JSON" in error("json", "{a: 1}")
    assert "not valid JSON" in error("json", "NaN")


def test_bytes_are_read_from_hex() -> None:
    assert parse("bytes", "68656c6c6f") == b"hello"
    assert parse("bytes", "0x68 65") == b"he"
    assert parse("bytes", "b'hi\\x00'") == b"hi\x00"
    assert "not hex" in error("bytes", "xyz")


def test_an_enum_takes_one_of_its_members() -> None:
    assert parse(GENRE, " SciFi ") == "SciFi"


def test_an_enum_names_its_members_when_refusing() -> None:
    message = error(GENRE, "scifi")
    assert "did you mean SciFi?" in message and "Action, SciFi, Drama" in message


def test_an_enum_without_known_members_takes_a_label() -> None:
    unknown_members = ParamType("enum", "default::Genre")
    assert parse(unknown_members, "Horror") == "Horror"
    assert "not an enum label" in error(unknown_members, "two words")


def test_an_unknown_type_takes_the_text_as_a_string() -> None:
    assert parse("Genre", "Action") == "Action"


def test_a_custom_scalar_is_read_like_its_base() -> None:
    positive = ParamType("scalar", "default::Positive", (ParamType("scalar", "std::int64"),))
    assert parse(positive, "5") == 5
    assert "not a whole number" in error(positive, "five")


# ---------------------------------------------------------------------------------------------
# Arrays, tuples, ranges


def test_an_array_is_read_from_a_list_literal() -> None:
    assert parse("array<int64>", "[1, 2, 3]") == [1, 2, 3]
    assert parse("array<str>", "[]") == []


def test_an_array_is_read_one_element_a_line() -> None:
    assert parse("array<int64>", "1\n 2 \n\n3\n") == [1, 2, 3]
    assert parse("array<str>", "sci-fi\n classic") == ["sci-fi", " classic"]


def test_an_array_element_error_names_its_index() -> None:
    assert error("array<int16>", "[1, 2, 99999]").startswith("$x[2]: 99999 is out of range")
    assert error("array<int64>", "1\n2\nx").startswith("$x[2]: 'x' is not a whole number")


def test_quoted_elements_are_read_by_the_element_type() -> None:
    value = parse("array<datetime>", "['2024-05-01T00:00:00Z']")
    assert value == [dt.datetime(2024, 5, 1, tzinfo=UTC)]
    assert parse("array<int64>", "['7']") == [7]


def test_a_str_array_refuses_numbers() -> None:
    assert error("array<str>", "[1]").startswith("$x[0]: expected str, got int")


def test_arrays_cannot_hold_null() -> None:
    assert "cannot be empty" in error("array<int64>", "[1, null]")


def test_a_malformed_list_literal_says_where() -> None:
    assert "line 1, column" in error("array<int64>", "[1, 2")


def test_a_tuple_is_read_from_a_tuple_literal() -> None:
    assert parse("tuple<int64, str>", "(1, 'a')") == (1, "a")


def test_a_tuple_must_have_exactly_its_arity() -> None:
    assert "expected 2 elements for tuple<int64, str>, got 3" in error(
        "tuple<int64, str>", "(1, 'a', 2)"
    )
    assert "expected 2 elements" in error("tuple<int64, str>", "(1,)")


def test_a_tuple_element_error_names_its_index() -> None:
    assert error("tuple<int64, str>", "('x', 'a')").startswith("$x[0]:")


def test_a_tuple_needs_parentheses() -> None:
    assert "in parentheses" in error("tuple<int64, str>", "1, 'a'")


def test_a_named_tuple_takes_an_object_and_gives_a_dict_in_field_order() -> None:
    value = parse("tuple<x: float64, y: float64>", "{y: 2, x: 1.5}")
    assert value == {"x": 1.5, "y": 2.0}
    assert isinstance(value, dict) and list(value) == ["x", "y"]


def test_a_named_tuple_takes_a_positional_tuple() -> None:
    assert parse("tuple<x: float64, y: float64>", "(1, 2)") == {"x": 1.0, "y": 2.0}


def test_a_named_tuple_needs_exactly_its_fields() -> None:
    message = error("tuple<x: float64, y: float64>", "{x: 1, z: 2}")
    assert "missing y" in message and "unknown z" in message


def test_a_named_tuple_element_error_names_the_field() -> None:
    assert error("tuple<x: float64, y: float64>", "{x: 1, y: 'a'}").startswith("$x.y:")


def test_nested_containers_name_the_whole_path() -> None:
    message = error("array<tuple<str, int64>>", "[('a', 1), ('b', 'two')]")
    assert message.startswith("$x[1][1]: 'two' is not a whole number")


def test_a_range_is_read_in_interval_notation() -> None:
    assert parse("range<int64>", "[1, 10)") == gel.Range(1, 10)
    assert parse("range<int64>", "(, 5]") == gel.Range(None, 5, inc_upper=True)
    assert parse("range<int64>", "empty") == gel.Range(empty=True)


def test_a_range_with_bounds_reversed_is_refused() -> None:
    assert "lower bound is above" in error("range<int64>", "[10, 1)")


def test_a_range_bound_error_names_the_bound() -> None:
    assert error("range<int16>", "[1, 99999)").startswith("$x.upper: 99999 is out of range")


# ---------------------------------------------------------------------------------------------
# Back to text: parse(value_to_text(value)) == value for every type

STR_CASES = ["Dune", "  spaced  ", "multi\nline", "[not a list]"]
ROUND_TRIP_CASES: list[tuple[str | ParamType, object]] = [
    *[("str", s) for s in STR_CASES],
    ("bool", True),
    ("bool", False),
    ("int16", -32768),
    ("int32", 2**31 - 1),
    ("int64", -(2**63)),
    ("bigint", 10**100),
    ("float32", 3.4028235e38),
    ("float64", -0.1),
    ("float64", float("inf")),
    ("decimal", decimal.Decimal("12.50")),
    ("decimal", decimal.Decimal("1E+30")),
    ("uuid", uuid.UUID("9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41")),
    ("datetime", dt.datetime(2024, 5, 1, 12, 30, 1, 5, tzinfo=UTC)),
    ("local_datetime", dt.datetime(2024, 5, 1, 12, 30)),
    ("local_date", dt.date(2024, 2, 29)),
    ("local_time", dt.time(23, 59, 59, 999999)),
    ("duration", dt.timedelta(hours=1, minutes=30, microseconds=5)),
    ("duration", dt.timedelta(seconds=-90)),
    ("duration", dt.timedelta(0)),
    ("relative_duration", gel.RelativeDuration(months=-14, days=3, microseconds=1_500_000)),
    ("relative_duration", gel.RelativeDuration()),
    ("date_duration", gel.DateDuration(months=13, days=-2)),
    ("date_duration", gel.DateDuration()),
    ("json", '{"a": [1, null]}'),
    ("json", ' "padded" '),
    ("bytes", b"\x00hello\xff"),
    (GENRE, "Drama"),
    ("Genre", "Action"),
    ("array<str>", ["a", "b c"]),
    ("array<str>", ["", "x"]),
    ("array<str>", [" [x", "y"]),
    ("array<str>", ["line\nbreak"]),
    ("array<str>", []),
    ("array<int64>", [1, -2, 3]),
    ("array<float64>", [0.5, float("-inf")]),
    ("array<datetime>", [dt.datetime(2024, 1, 1, tzinfo=UTC)]),
    ("array<json>", ['{"a": 1}', " 2"]),
    ("array<bytes>", [b"ab", b""]),
    (ParamType("array", "array<default::Genre>", (GENRE,)), ["Action", "SciFi"]),
    ("array<tuple<str, int64>>", [("a", 1), ("b", 2)]),
    ("array<range<int64>>", [gel.Range(1, 5, inc_upper=True), gel.Range(empty=True)]),
    ("tuple<int64, str>", (1, "a")),
    ("tuple<str>", ("only",)),
    ("tuple<x: float64, y: float64>", {"x": 1.5, "y": -2.0}),
    ("tuple<d: duration, when: local_date>", {"d": dt.timedelta(days=2), "when": dt.date.today()}),
    ("range<int64>", gel.Range(1, 10)),
    ("range<int64>", gel.Range(None, 10, inc_upper=True)),
    ("range<local_date>", gel.Range(dt.date(2024, 1, 1), None)),
    ("range<float64>", gel.Range(empty=True)),
]


@pytest.mark.parametrize(
    ("type_text", "value"),
    ROUND_TRIP_CASES,
    ids=[
        f"{t if isinstance(t, str) else t.label()}-{i}" for i, (t, _) in enumerate(ROUND_TRIP_CASES)
    ],
)
def test_value_to_text_round_trips(type_text: str | ParamType, value: object) -> None:
    p = param(type_text)
    assert parse_param_value(p, value_to_text(p, value)) == value


def test_the_empty_set_becomes_no_text_and_back() -> None:
    p = param("int64", optional=True)
    assert value_to_text(p, None) is None
    assert parse_param_value(p, None) is None


def test_a_bool_refills_a_checkbox() -> None:
    assert value_to_text(param("bool"), True) is True


def test_a_scalar_array_refills_one_element_a_line() -> None:
    assert value_to_text(param("array<int64>"), [1, 2]) == "1\n2"


def test_a_str_array_that_lines_cannot_hold_refills_as_a_list_literal() -> None:
    assert value_to_text(param("array<str>"), ["a\nb"]) == '["a\\nb"]'


def test_durations_refill_in_the_human_form() -> None:
    text = value_to_text(param("duration"), dt.timedelta(hours=1, minutes=30))
    assert text == "1 hour 30 minutes"
