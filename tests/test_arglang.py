"""The argument language: values of every kind, errors with positions, limits, hostile input."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import pickle
import time
import uuid

import gel
import pytest

from ecc.arguments.arglang import (
    DEFAULT_LIMITS,
    ArgLimits,
    ArgParseError,
    parse_named,
    parse_positional,
    parse_value,
    render_literal,
    render_named,
    render_positional,
)

UUID_TEXT = "9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41"


def error_of(text: str, *, parse=parse_value, limits: ArgLimits = DEFAULT_LIMITS) -> ArgParseError:
    with pytest.raises(ArgParseError) as info:
        parse(text, limits=limits)
    return info.value


def same(actual: object, expected: object) -> None:
    """Equal, and of exactly the same type (so True is not 1 and 1.0 is not 1)."""
    assert type(actual) is type(expected), (actual, expected)
    assert actual == expected


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("+7", 7),
        ("1_000", 1000),
        ("0x1F", 31),
        ("-0x1f", -31),
        ("007", 7),
        ("123n", 123),
        ("-123n", -123),
    ],
)
def test_integers_parse_to_int(text: str, expected: int) -> None:
    same(parse_value(text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.14", 3.14),
        ("-2.5e-3", -2.5e-3),
        ("1e3", 1000.0),
        ("1E+3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1_000.5", 1000.5),
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("+inf", math.inf),
        ("INF", math.inf),
    ],
)
def test_floats_parse_to_float(text: str, expected: float) -> None:
    same(parse_value(text), expected)


def test_nan_parses_to_float_nan() -> None:
    value = parse_value("nan")
    assert isinstance(value, float)
    assert math.isnan(value)


def test_negative_zero_keeps_its_sign() -> None:
    value = parse_value("-0.0")
    assert value == 0.0
    assert isinstance(value, float)
    assert math.copysign(1.0, value) == -1.0


@pytest.mark.parametrize("text", ["1__0", "1_", "0x", "0xZZ", "1.2.3", "12abc", "1e", "1é"])
def test_malformed_number_is_rejected_with_the_number_shown(text: str) -> None:
    err = error_of(text)
    assert "malformed number" in err.message
    assert err.column == 1


def test_fraction_with_bigint_suffix_points_to_decimal() -> None:
    err = error_of("1.50n")
    assert "decimal('1.50')" in err.message


def test_number_with_too_many_digits_is_rejected() -> None:
    err = error_of("1" * 4001)
    assert "number too long" in err.message
    assert "4001 digits" in err.message


def test_number_at_the_digit_limit_is_accepted() -> None:
    same(parse_value("9" * 4000), int("9" * 4000))


def test_hex_number_is_bounded_by_its_decimal_size() -> None:
    limits = ArgLimits(max_number_digits=10)
    same(parse_value("0xFFFFFFFF", limits=limits), 0xFFFFFFFF)
    assert "number too long" in error_of("0x" + "F" * 10, limits=limits).message


def test_float_overflow_is_rejected_and_suggests_decimal() -> None:
    err = error_of("1e999")
    assert "too large for a float" in err.message
    assert "decimal('1e999')" in err.message


def test_sign_without_number_is_rejected() -> None:
    assert "sign must be directly followed by a number" in error_of("- 5").message


def test_arithmetic_between_numbers_is_rejected() -> None:
    err = error_of("1+2")
    assert "arithmetic is not supported" in err.message
    assert err.column == 2


# -- strings and bytes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'hello'", "hello"),
        ('"hello"', "hello"),
        ("''", ""),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\\\\b'", "a\\b"),
        ("'\\n\\r\\t'", "\n\r\t"),
        ("'\\x41'", "A"),
        ("'\\u00e9'", "é"),
        ("'\\U0001F600'", "😀"),
        ("'\"'", '"'),
        ("'日本語'", "日本語"),
    ],
)
def test_strings_decode_escapes(text: str, expected: str) -> None:
    same(parse_value(text), expected)


def test_string_may_hold_semicolons_commas_hashes_and_newlines() -> None:
    same(parse_value("'a;b, c # not a comment\nnext line'"), "a;b, c # not a comment\nnext line")


def test_raw_string_keeps_backslashes() -> None:
    same(parse_value(r"r'C:\new\table'"), "C:\\new\\table")
    same(parse_value(r'R"\d+"'), "\\d+")


def test_byte_string_parses_to_bytes() -> None:
    same(parse_value(r"b'hi\x00\xff\n'"), b"hi\x00\xff\n")


def test_byte_string_rejects_non_ascii() -> None:
    err = error_of("b'café'")
    assert "non-ASCII" in err.message
    assert err.column == 6


def test_byte_string_rejects_unicode_escapes() -> None:
    assert "use \\xHH" in error_of(r"b'\u00e9'").message


def test_unterminated_string_points_at_the_opening_quote() -> None:
    err = error_of("[1, 'abc")
    assert err.message == "unterminated string starting here: close it with '"
    assert (err.position, err.line, err.column) == (4, 1, 5)


def test_unterminated_double_quoted_string_names_its_quote() -> None:
    err = error_of('x = "abc\n', parse=parse_named)
    assert err.message.endswith('close it with "')
    assert err.column == 5


def test_unknown_escape_is_rejected_and_lists_the_escapes() -> None:
    err = error_of(r"'a\qb'")
    assert "unknown escape" in err.message
    assert "\\uXXXX" in err.message
    assert err.column == 3


def test_backslash_zero_is_not_an_escape() -> None:
    assert "NUL" in error_of(r"'\0'").message


def test_escaped_nul_is_rejected_in_text() -> None:
    assert "NUL characters are not allowed" in error_of(r"'\x00'").message
    assert "NUL characters are not allowed" in error_of(r"'\u0000'").message


def test_surrogate_escape_is_rejected() -> None:
    assert "surrogate" in error_of(r"'\ud800'").message


def test_escape_beyond_unicode_is_rejected() -> None:
    assert "U+10FFFF" in error_of(r"'\U00110000'").message


def test_short_hex_escape_is_rejected() -> None:
    assert "exactly 2 hex digits" in error_of(r"'\x4'").message


def test_string_over_the_length_limit_is_rejected() -> None:
    limits = ArgLimits(max_string_chars=5)
    same(parse_value("'12345'", limits=limits), "12345")
    assert "string too long" in error_of("'123456'", limits=limits).message


# -- keywords -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("false", False), ("True", True), ("FALSE", False)],
)
def test_booleans(text: str, expected: bool) -> None:
    same(parse_value(text), expected)


@pytest.mark.parametrize("text", ["null", "none", "None", "NULL"])
def test_null_and_none_are_none(text: str) -> None:
    assert parse_value(text) is None


def test_unknown_bare_name_suggests_quotes() -> None:
    err = error_of("hello")
    assert "unknown name 'hello'" in err.message
    assert "quotes" in err.message


# -- containers ---------------------------------------------------------------------------------


def test_list() -> None:
    same(parse_value("[1, 'a', null]"), [1, "a", None])


def test_list_allows_trailing_comma_and_newlines() -> None:
    same(parse_value("[\n  1,\n  2,\n]"), [1, 2])


def test_empty_list() -> None:
    same(parse_value("[]"), [])


def test_tuple() -> None:
    same(parse_value("(1, 'a')"), (1, "a"))


def test_one_element_tuple_needs_a_comma() -> None:
    same(parse_value("(1,)"), (1,))


def test_empty_tuple() -> None:
    same(parse_value("()"), ())


def test_parentheses_around_one_value_are_just_grouping() -> None:
    same(parse_value("(1)"), 1)
    same(parse_value("(('a'))"), "a")


def test_object_with_name_and_quoted_keys() -> None:
    same(
        parse_value("{a: 1, \"b c\": [2], 'd': {}, `e f`: null}"),
        {
            "a": 1,
            "b c": [2],
            "d": {},
            "e f": None,
        },
    )


def test_object_allows_trailing_comma() -> None:
    same(parse_value("{a: 1,}"), {"a": 1})


def test_nested_containers() -> None:
    same(parse_value("[{a: (1, [2, {b: ()}])}]"), [{"a": (1, [2, {"b": ()}])}])


def test_duplicate_object_key_is_rejected_at_the_second_key() -> None:
    err = error_of("{a: 1, 'a': 2}")
    assert "duplicate key 'a'" in err.message
    assert "line 1, column 2" in err.message
    assert err.column == 8


def test_object_key_without_colon_is_rejected() -> None:
    err = error_of("{a 1}")
    assert "expected ':' after the key 'a'" in err.message
    assert err.column == 4


def test_object_key_without_value_is_rejected() -> None:
    assert "missing value for the key 'a'" in error_of("{a: }").message


def test_numeric_object_key_is_rejected() -> None:
    assert "put the number in quotes" in error_of("{1: 2}").message


def test_missing_comma_between_values_points_at_the_second_value() -> None:
    err = error_of("[1 2]")
    assert err.message.startswith("missing comma between values")
    assert err.column == 4


def test_missing_comma_in_an_object_points_at_the_next_key() -> None:
    err = error_of("{a: 1\n b: 2}")
    assert err.message.startswith("missing comma between values")
    assert (err.line, err.column) == (2, 2)


def test_unclosed_bracket_points_at_the_opener() -> None:
    err = error_of("[1, [2, 3]")
    assert err.message == "unclosed '[': the input ends before its ']'; add it"
    assert err.column == 1


def test_unclosed_constructor_points_at_its_name() -> None:
    err = error_of("[uuid('x'")
    assert "unclosed 'uuid('" in err.message
    assert err.column == 2


def test_mismatched_closer_names_the_opener() -> None:
    err = error_of("[1, 2)")
    assert "')' does not close the '[' at line 1, column 1" in err.message
    assert err.column == 6


def test_unmatched_closer_is_rejected() -> None:
    assert "unmatched ']': there is no opening bracket for it" in error_of("]").message
    assert "unmatched ']'" in error_of("[1]]").message


def test_double_comma_in_a_list_is_rejected() -> None:
    err = error_of("[1,,2]")
    assert "expected a value before ','" in err.message
    assert err.column == 4


def test_colon_outside_an_object_is_rejected() -> None:
    assert "belong inside {...}" in error_of("['a': 1]").message


# -- constructors -------------------------------------------------------------------------------


def test_uuid() -> None:
    same(parse_value(f"uuid('{UUID_TEXT}')"), uuid.UUID(UUID_TEXT))


def test_invalid_uuid_includes_the_library_reason() -> None:
    err = error_of("uuid('not-a-uuid')")
    assert "invalid uuid 'not-a-uuid'" in err.message
    assert "badly formed hexadecimal UUID string" in err.message
    assert err.column == 6


def test_datetime_with_offset_is_aware() -> None:
    same(
        parse_value("datetime('2024-02-29T12:30:45+02:00')"),
        dt.datetime(2024, 2, 29, 12, 30, 45, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )


def test_datetime_accepts_trailing_z() -> None:
    same(
        parse_value("datetime('2024-02-29T12:30:45.5Z')"),
        dt.datetime(2024, 2, 29, 12, 30, 45, 500000, tzinfo=dt.UTC),
    )


def test_naive_datetime_is_rejected_with_how_to_fix() -> None:
    err = error_of("datetime('2024-02-29T12:30:45')")
    assert "has no time zone" in err.message
    assert "+00:00 or Z" in err.message
    assert "local_datetime" in err.message


def test_invalid_date_includes_the_library_reason() -> None:
    err = error_of("local_date('2023-02-29')")
    assert "invalid local_date '2023-02-29'" in err.message
    assert "day is out of range for month" in err.message


def test_local_date() -> None:
    same(parse_value("local_date('2024-02-29')"), dt.date(2024, 2, 29))


def test_local_time() -> None:
    same(parse_value("local_time('12:30:45.5')"), dt.time(12, 30, 45, 500000))


def test_local_time_with_offset_is_rejected() -> None:
    assert "has a time zone" in error_of("local_time('12:30:45+01:00')").message


def test_local_datetime_is_naive() -> None:
    same(parse_value("local_datetime('2024-02-29T12:30')"), dt.datetime(2024, 2, 29, 12, 30))


def test_aware_local_datetime_is_rejected() -> None:
    err = error_of("local_datetime('2024-02-29T12:30Z')")
    assert "has a time zone" in err.message
    assert "datetime('...')" in err.message


def test_decimal_from_string_keeps_its_digits() -> None:
    value = parse_value("decimal('1.50')")
    same(value, decimal.Decimal("1.50"))
    assert str(value) == "1.50"


def test_decimal_from_number_uses_the_text_not_a_float() -> None:
    value = parse_value("decimal(0.10000000000000000001)")
    same(value, decimal.Decimal("0.10000000000000000001"))
    same(parse_value("decimal(-1_000.5e3)"), decimal.Decimal("-1000.5e3"))
    same(parse_value("decimal(0x10)"), decimal.Decimal(16))


def test_invalid_decimal_is_rejected() -> None:
    assert "invalid decimal 'abc'" in error_of("decimal('abc')").message


def test_non_finite_decimal_is_rejected() -> None:
    assert "finite" in error_of("decimal('NaN')").message
    assert "finite" in error_of("decimal(-inf)").message


def test_decimal_out_of_range_is_rejected() -> None:
    assert "out of range" in error_of("decimal('1e999999999')").message


def test_bigint_from_string_number_and_suffix() -> None:
    big = 12345678901234567890123
    same(parse_value(f"bigint('{big}')"), big)
    same(parse_value(f"bigint({big})"), big)
    same(parse_value(f"{big}n"), big)


def test_bigint_of_a_fraction_is_rejected() -> None:
    assert "whole number" in error_of("bigint(1.5)").message
    assert "invalid bigint" in error_of("bigint('1.5')").message


def test_bytes_from_hex() -> None:
    same(parse_value("bytes('68656c6c6f')"), b"hello")


def test_bytes_with_bad_hex_includes_the_library_reason() -> None:
    err = error_of("bytes('6g')")
    assert "invalid hex in bytes()" in err.message
    assert "non-hexadecimal number found in fromhex() arg at position 1" in err.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H30M", dt.timedelta(hours=1, minutes=30)),
        ("PT45.5S", dt.timedelta(seconds=45.5)),
        ("-PT1H", dt.timedelta(hours=-1)),
        ("PT0S", dt.timedelta(0)),
        ("1 hour 30 minutes", dt.timedelta(hours=1, minutes=30)),
        ("1h 30m", dt.timedelta(hours=1, minutes=30)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("45.5 seconds", dt.timedelta(seconds=45.5)),
        ("-10 ms", dt.timedelta(milliseconds=-10)),
        ("300 us", dt.timedelta(microseconds=300)),
        ("1.5 hours", dt.timedelta(minutes=90)),
    ],
)
def test_duration(text: str, expected: dt.timedelta) -> None:
    same(parse_value(f"duration('{text}')"), expected)


@pytest.mark.parametrize("text", ["P1D", "1 day", "P1M", "2 weeks"])
def test_duration_with_days_or_months_is_rejected(text: str) -> None:
    err = error_of(f"duration('{text}')")
    assert "exact length of time without days, months or years" in err.message
    assert "relative_duration" in err.message


def test_duration_finer_than_a_microsecond_is_rejected() -> None:
    assert "precision is one microsecond" in error_of("duration('0.0000001 s')").message


def test_duration_with_unknown_unit_is_rejected() -> None:
    assert "unknown duration unit 'fortnights'" in error_of("duration('1 fortnights')").message


def test_unreadable_duration_is_rejected() -> None:
    assert "cannot read the duration" in error_of("duration('soon')").message


def test_relative_duration_iso() -> None:
    same(
        parse_value("relative_duration('P1Y2M3DT4H5M6.5S')"),
        gel.RelativeDuration(
            months=14, days=3, microseconds=(4 * 3600 + 5 * 60 + 6) * 1_000_000 + 500_000
        ),
    )


def test_relative_duration_human_form_counts_years_and_weeks() -> None:
    same(
        parse_value("relative_duration('1 year 1 month 2 weeks 2 days')"),
        gel.RelativeDuration(months=13, days=16, microseconds=0),
    )


def test_fractional_months_are_rejected() -> None:
    assert "whole number of months" in error_of("relative_duration('1.5 months')").message


def test_date_duration() -> None:
    same(parse_value("date_duration('P1M5D')"), gel.DateDuration(months=1, days=5))


def test_date_duration_with_time_parts_is_rejected() -> None:
    assert "cannot hold 'hours'" in error_of("date_duration('P1DT1H')").message


def test_json_from_text_keeps_the_original_text() -> None:
    same(parse_value("json('{\"a\":  [1, null]}')"), '{"a":  [1, null]}')


def test_invalid_json_includes_the_reason() -> None:
    err = error_of("json('{\"a\": }')")
    assert "invalid JSON: Expecting value" in err.message


def test_json_text_with_nan_is_rejected() -> None:
    assert "NaN is not valid JSON" in error_of("json('[NaN]')").message


def test_json_from_a_value_is_dumped() -> None:
    same(parse_value("json({a: [1, null, true, 'é']})"), '{"a": [1, null, true, "é"]}')


def test_json_of_a_tuple_or_decimal_is_rejected() -> None:
    assert "cannot hold a tuple" in error_of("json((1, 2))").message
    assert "cannot hold a Decimal" in error_of("json([decimal('1')])").message


def test_range_defaults_to_inclusive_lower_exclusive_upper() -> None:
    value = parse_value("range(1, 10)")
    same(value, gel.Range(1, 10, inc_lower=True, inc_upper=False))


def test_range_with_null_bound_is_unbounded() -> None:
    same(parse_value("range(null, 2.5)"), gel.Range(None, 2.5))


def test_range_of_dates() -> None:
    same(
        parse_value("range(local_date('2024-01-01'), local_date('2024-02-01'))"),
        gel.Range(dt.date(2024, 1, 1), dt.date(2024, 2, 1)),
    )


def test_range_with_mixed_bound_types_is_rejected() -> None:
    assert "same type" in error_of("range(1, 2.5)").message


def test_range_with_reversed_bounds_is_rejected() -> None:
    assert "above the upper bound" in error_of("range(10, 1)").message


def test_range_needs_two_arguments() -> None:
    assert "takes two arguments" in error_of("range(1)").message


def test_constructor_with_wrong_argument_count_is_rejected() -> None:
    err = error_of("uuid()")
    assert "uuid() takes exactly one argument" in err.message
    assert err.column == 1


def test_constructor_needs_a_string() -> None:
    assert "takes a string in quotes" in error_of("uuid(42)").message


def test_constructor_accepts_a_trailing_comma_and_newlines() -> None:
    same(parse_value(f"uuid(\n  '{UUID_TEXT}',\n)"), uuid.UUID(UUID_TEXT))


def test_unknown_constructor_lists_the_known_ones() -> None:
    err = error_of("eval('1')")
    assert "unknown name 'eval'" in err.message
    assert "uuid(…)" in err.message
    assert "relative_duration(…)" in err.message


def test_uppercase_constructor_name_suggests_lowercase() -> None:
    assert "write uuid(…)" in error_of("UUID('x')").message


def test_constructor_name_without_parenthesis_is_rejected() -> None:
    err = error_of("uuid 'x'")
    assert "uuid must be followed by '('" in err.message
    assert "uuid(" in error_of("[uuid]").message


# -- comments and whitespace --------------------------------------------------------------------


def test_comments_run_to_the_end_of_the_line() -> None:
    same(parse_positional("1 # first\n# a whole line\n'#2' # second"), (1, "#2"))


def test_comment_inside_a_list() -> None:
    same(parse_value("[1, # one\n 2]"), [1, 2])


def test_windows_line_endings() -> None:
    same(parse_positional("1\r\n2\r\n"), (1, 2))


# -- positional ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "# only a comment"])
def test_empty_positional_text_is_an_empty_tuple(text: str) -> None:
    same(parse_positional(text), ())


def test_positional_values_separated_by_commas() -> None:
    same(parse_positional("1, 'a', [2]"), (1, "a", [2]))


def test_positional_values_separated_by_newlines() -> None:
    same(parse_positional("1\n'a'\n\n[2,\n 3]"), (1, "a", [2, 3]))


def test_positional_allows_a_trailing_comma() -> None:
    same(parse_positional("1, 2,\n"), (1, 2))


def test_positional_rejects_two_commas_in_a_row() -> None:
    err = error_of("1,, 2", parse=parse_positional)
    assert "two commas in a row" in err.message
    assert err.column == 3


def test_positional_rejects_a_leading_comma() -> None:
    assert "expected a value before ','" in error_of(", 1", parse=parse_positional).message


def test_positional_missing_comma_on_one_line() -> None:
    err = error_of("1 2", parse=parse_positional)
    assert err.message.startswith("missing comma between values")
    assert err.column == 3


# -- named --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " \n ", "# nothing"])
def test_empty_named_text_is_an_empty_dict(text: str) -> None:
    same(parse_named(text), {})


def test_named_with_equals_and_colon() -> None:
    same(parse_named("limit = 10, name: 'x'"), {"limit": 10, "name": "x"})


def test_named_separated_by_newlines() -> None:
    same(parse_named("a = 1\nb = [1,\n 2]\n"), {"a": 1, "b": [1, 2]})


def test_named_accepts_unicode_quoted_and_dollar_names() -> None:
    same(
        parse_named("größe = 1, `odd name` = 2, $limit = 3, _x1 = 4"),
        {
            "größe": 1,
            "odd name": 2,
            "limit": 3,
            "_x1": 4,
        },
    )


def test_named_keyword_can_be_a_name() -> None:
    same(parse_named("true = false"), {"true": False})


def test_duplicate_name_is_rejected_naming_it() -> None:
    err = error_of("a = 1\nb = 2\na = 3", parse=parse_named)
    assert "duplicate argument 'a'" in err.message
    assert "line 1" in err.message
    assert (err.line, err.column) == (3, 1)


def test_name_starting_with_a_digit_is_rejected() -> None:
    assert "expected an argument name" in error_of("2 = 'x'", parse=parse_named).message


def test_named_without_equals_is_rejected() -> None:
    err = error_of("limit 10", parse=parse_named)
    assert "expected '=' after the argument name 'limit'" in err.message
    assert err.column == 7


def test_named_without_value_is_rejected() -> None:
    err = error_of("a =\nb = 2", parse=parse_named)
    assert "missing value for 'a'" in err.message
    assert (err.line, err.column) == (1, 4)


# -- parse_value and the top level --------------------------------------------------------------


def test_parse_value_rejects_a_second_value() -> None:
    assert "only one value is expected" in error_of("1, 2").message
    assert "only one value is expected" in error_of("1\n2").message


def test_parse_value_rejects_empty_text() -> None:
    err = error_of("  ")
    assert err.message == "unexpected end of input: expected a value"
    assert err.position == 2


def test_parse_value_allows_surrounding_blank_lines_and_comments() -> None:
    same(parse_value("\n# the answer\n42\n\n"), 42)


# -- error positions and rendering --------------------------------------------------------------


def test_error_has_position_line_and_column() -> None:
    err = error_of("a = 1\nb = [1, @]", parse=parse_named)
    assert (err.position, err.line, err.column) == (14, 2, 9)
    assert "unexpected character '@'" in err.message


def test_error_str_is_line_column_message() -> None:
    err = error_of("[1 2]")
    assert str(err) == f"line 1, column 4: {err.message}"


def test_error_is_a_value_error() -> None:
    assert isinstance(error_of("?"), ValueError)


def test_excerpt_puts_a_caret_under_the_column() -> None:
    err = error_of("x = 1\ny = [1 2]", parse=parse_named)
    assert err.excerpt() == "y = [1 2]\n       ^"


def test_excerpt_keeps_tabs_so_the_caret_lines_up() -> None:
    err = error_of("\t[1 2]")
    assert err.excerpt() == "\t[1 2]\n\t   ^"


def test_excerpt_of_a_long_line_shows_the_part_around_the_column() -> None:
    err = error_of("[" + "1, " * 1000 + "1 2]")
    excerpt_line, caret_line = err.excerpt().split("\n")
    assert len(excerpt_line) <= 102
    assert excerpt_line[caret_line.index("^")] == "2"


def test_error_survives_pickling() -> None:
    err = error_of("[1 2]")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.line, copy.column, copy.excerpt()) == (
        err.message,
        err.line,
        err.column,
        err.excerpt(),
    )


def test_unexpected_character_is_shown_with_repr() -> None:
    assert "unexpected character '\\x01'" in error_of("\x01").message


def test_semicolon_outside_strings_explains_separators() -> None:
    assert "use ',' or a new line" in error_of("1; 2", parse=parse_positional).message


# -- limits -------------------------------------------------------------------------------------


def test_depth_exactly_at_the_limit_is_allowed() -> None:
    limits = ArgLimits(max_depth=5)
    same(parse_value("[[[[[1]]]]]", limits=limits), [[[[[1]]]]])


def test_depth_one_over_the_limit_is_rejected_at_the_extra_bracket() -> None:
    err = error_of("[[[[[[1]]]]]]", limits=ArgLimits(max_depth=5))
    assert "too deeply nested: more than 5 levels" in err.message
    assert err.column == 6


def test_default_depth_limit_is_64() -> None:
    same(parse_value("[" * 64 + "]" * 64), parse_value("[" * 64 + "]" * 64))
    assert "more than 64 levels" in error_of("[" * 65 + "]" * 65).message


def test_constructors_count_towards_depth() -> None:
    limits = ArgLimits(max_depth=2)
    same(parse_value("[json(1)]", limits=limits), ["1"])
    assert "too deeply nested" in error_of("[json([])]", limits=limits).message


def test_hundred_thousand_open_brackets_fail_fast_without_recursion() -> None:
    limits = ArgLimits(max_chars=1_000_000, max_depth=1_000_000)
    start = time.perf_counter()
    err = error_of("[" * 100_000, limits=limits)
    assert time.perf_counter() - start < 10.0  # runaway guard, not a speed target
    assert err.message.startswith("unclosed '['")


def test_deep_nesting_with_a_huge_depth_limit_still_parses_iteratively() -> None:
    limits = ArgLimits(max_depth=10_000)
    value = parse_value("[" * 5000 + "]" * 5000, limits=limits)
    for _ in range(4999):
        assert isinstance(value, list)
        value = value[0]
    assert value == []


def test_items_at_the_limit_are_allowed_and_one_more_is_rejected() -> None:
    limits = ArgLimits(max_items=3)
    same(parse_value("[1, 2, 3]", limits=limits), [1, 2, 3])
    err = error_of("[1, 2, 3, 4]", limits=limits)
    assert "too many items: the limit is 3" in err.message
    assert err.column == 11


def test_top_level_arguments_count_as_items() -> None:
    limits = ArgLimits(max_items=2)
    same(parse_positional("1, 2", limits=limits), (1, 2))
    assert "too many items" in error_of("1, 2, 3", parse=parse_positional, limits=limits).message
    assert "too many items" in error_of("a=1, b=2, c=3", parse=parse_named, limits=limits).message


def test_input_at_the_length_limit_is_allowed() -> None:
    limits = ArgLimits(max_chars=5)
    same(parse_value("12345", limits=limits), 12345)


def test_input_over_the_length_limit_is_rejected_before_anything_else() -> None:
    err = error_of("\x00" + "[" * 10, limits=ArgLimits(max_chars=5))
    assert err.message.startswith("input too long: 11 characters, the limit is 5")


def test_nul_byte_is_rejected_naming_its_position() -> None:
    err = error_of("'ab\x00c'")
    assert err.message == "NUL character (\\x00) at position 3 is not allowed: remove it"
    assert err.position == 3


def test_lone_surrogate_in_the_input_is_rejected() -> None:
    err = error_of("'a\ud800'")
    assert "unpaired surrogate character U+D800 at position 2" in err.message


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        ArgLimits(max_depth=0)


def test_limits_reject_digit_counts_python_cannot_convert() -> None:
    with pytest.raises(ValueError, match="max_number_digits"):
        ArgLimits(max_number_digits=5000)


def test_non_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_value(b"1")  # type: ignore[arg-type]


# -- hostile input ------------------------------------------------------------------------------

# (text, what parse_value/parse_positional say, what parse_named says)
HOSTILE = [
    pytest.param(
        "__import__('os').system('id')",
        "unknown name '__import__': it is not a constructor",
        "expected '=' after the argument name '__import__'",
        id="import",
    ),
    pytest.param(
        "open('/etc/passwd').read()",
        "unknown name 'open': it is not a constructor",
        "expected '=' after the argument name 'open'",
        id="open",
    ),
    pytest.param(
        "().__class__.__mro__[1].__subclasses__()",
        "unexpected character '.': attribute access",
        "expected an argument name",
        id="dunder-walk",
    ),
    pytest.param(
        "9**9**9",
        "unexpected character '*': expressions",
        "expected an argument name",
        id="power",
    ),
    pytest.param(
        "'a'*10**9",
        "unexpected character '*': expressions",
        "expected an argument name",
        id="repeat",
    ),
    pytest.param(
        "[" * 100_000,
        "input too long: 100,000 characters, the limit is 65,536",
        "input too long: 100,000 characters, the limit is 65,536",
        id="deep-brackets",
    ),
    pytest.param(
        "'never closed",
        "unterminated string starting here: close it with '",
        "unterminated string starting here: close it with '",
        id="unterminated-string",
    ),
    pytest.param(
        "'a\x00b'",
        "NUL character (\\x00) at position 2 is not allowed",
        "NUL character (\\x00) at position 2 is not allowed",
        id="nul-byte",
    ),
    pytest.param(
        "1," * 500_000,
        "input too long: 1,000,000 characters",
        "input too long: 1,000,000 characters",
        id="one-megabyte",
    ),
]


@pytest.mark.parametrize(("text", "reason", "named_reason"), HOSTILE)
@pytest.mark.parametrize("parse", [parse_value, parse_positional, parse_named])
def test_hostile_input_is_rejected_quickly_with_a_meaningful_message(
    text: str, reason: str, named_reason: str, parse
) -> None:
    start = time.perf_counter()
    with pytest.raises(ArgParseError) as info:
        parse(text)
    assert time.perf_counter() - start < 5.0  # runaway guard: '9**9**9' is never computed
    assert (named_reason if parse is parse_named else reason) in info.value.message


# -- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -12345678901234567890,
        1.5,
        -0.0,
        1e300,
        math.inf,
        -math.inf,
        "",
        'it\'s "quoted"\n\t\\ é 😀 \x01 \u2028',
        b"\x00\xffab'\"\\",
        [],
        (),
        (1,),
        (1, [2, {"k": (3,)}]),
        {"a b": None, "": 1},
        uuid.UUID(UUID_TEXT),
        dt.datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2024, 2, 29, 12, 30),
        dt.date(2024, 2, 29),
        dt.time(12, 30, 45, 500000),
        decimal.Decimal("1.50"),
        decimal.Decimal("-1E+5"),
        dt.timedelta(days=1, seconds=5, microseconds=7),
        -dt.timedelta(hours=1, microseconds=1),
        dt.timedelta(0),
        gel.RelativeDuration(months=-14, days=3, microseconds=-1_500_000),
        gel.DateDuration(months=1, days=-5),
        gel.Range(1, 10),
        gel.Range(None, decimal.Decimal("2.5")),
    ],
)
def test_render_literal_round_trips(value: object) -> None:
    same(parse_value(render_literal(value)), value)


def test_render_literal_writes_int_enums_as_numbers() -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    same(parse_value(render_literal(Level.HIGH)), 3)


def test_render_literal_of_nan_reads_back_as_nan() -> None:
    value = parse_value(render_literal(math.nan))
    assert isinstance(value, float)
    assert math.isnan(value)


def test_render_literal_rejects_unsupported_types() -> None:
    with pytest.raises(TypeError):
        render_literal({1, 2})
    with pytest.raises(TypeError):
        render_literal({1: "a"})


def test_render_literal_rejects_values_the_language_cannot_hold() -> None:
    with pytest.raises(ValueError, match="U\\+0000"):
        render_literal("a\x00b")
    with pytest.raises(ValueError, match="ranges"):
        render_literal(gel.Range(1, 10, inc_upper=True))


def test_render_literal_rejects_cycles() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        render_literal(loop)


def test_render_literal_allows_shared_non_cyclic_parts() -> None:
    shared = [1]
    same(parse_value(render_literal([shared, shared])), [[1], [1]])


def test_render_positional_round_trips() -> None:
    values = (1, "two\nlines", [3], None)
    same(parse_positional(render_positional(values)), values)


def test_render_named_round_trips_with_odd_names() -> None:
    values = {"limit": 10, "odd name": "x", "größe": [1]}
    text = render_named(values)
    assert "`odd name` = " in text
    same(parse_named(text), values)
