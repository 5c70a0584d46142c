"""Property tests: any text either parses or raises ArgParseError, quickly; rendered values
read back equal (and of the same types)."""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Callable

import gel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc.arguments.arglang import (
    ArgLimits,
    ArgParseError,
    parse_named,
    parse_positional,
    parse_value,
    render_literal,
    render_named,
    render_positional,
)

# A runaway guard, not a speed target (benchmarks measure speed): generous enough that a
# loaded 2-core CI box never trips it, tight enough to catch quadratic or worse behaviour.
PER_INPUT_SECONDS = 5.0
PARSERS: tuple[Callable[..., object], ...] = (parse_value, parse_positional, parse_named)
FUZZ = settings(
    max_examples=1000,
    deadline=None,  # we time each call ourselves, below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Pieces that steer random text into the parser's interesting corners.
FRAGMENTS = [
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "'",
    '"',
    "\\",
    ",",
    ":",
    "=",
    " ",
    "\t",
    "\n",
    "\r\n",
    "#",
    "$",
    "`",
    "-",
    "+",
    ".",
    "_",
    "e",
    "E",
    "n",
    "x",
    "u",
    "U",
    "0",
    "1",
    "9",
    "07",
    "0x",
    "1_000",
    "3.14",
    "1e3",
    "-2.5e-3",
    "123n",
    "1e999",
    "\x00",
    "\x01",
    "é",
    "日",
    "\\x4",
    "\\x41",
    "\\u00e9",
    "\\ud800",
    "\\U0010FFFF",
    "\\0",
    "\\q",
    "r'",
    'b"',
    "b'\\xff",
    "true",
    "false",
    "null",
    "none",
    "nan",
    "inf",
    "-inf",
    "foo",
    "__import__",
    "a =",
    "b:",
    "uuid(",
    "datetime(",
    "local_date(",
    "local_time(",
    "local_datetime(",
    "decimal(",
    "bigint(",
    "bytes(",
    "duration(",
    "relative_duration(",
    "date_duration(",
    "json(",
    "range(",
    "'9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41'",
    "'2024-02-29T12:30:45Z'",
    "'2024-02-29'",
    "'12:30'",
    "'1.50'",
    "'PT1H30M'",
    "'P1D'",
    "'1h 30m'",
    "'-10 ms'",
    "'1 month 2 days'",
    "'68656c6c6f'",
    "'{\"a\": [1, null]}'",
    "'[[[['",
    "'NaN'",
]
grammar_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.text(
    # Every encodable character, control characters included, plus the syntax ones often.
    alphabet=st.characters(codec="utf-8") | st.sampled_from("[](){}'\",:=\\#\n\x00"),
    max_size=200,
)
small_limits = st.builds(
    ArgLimits,
    max_chars=st.integers(1, 400),
    max_depth=st.integers(1, 8),
    max_items=st.integers(1, 20),
    max_string_chars=st.integers(1, 50),
    max_number_digits=st.integers(1, 30),
)


def parse_or_reject_quickly(text: str, limits: ArgLimits | None = None) -> None:
    for parse in PARSERS:
        start = time.perf_counter()
        try:
            if limits is None:
                parse(text)
            else:
                parse(text, limits=limits)
        except ArgParseError as err:
            assert err.message
            assert 0 <= err.position <= len(text)
            assert err.line >= 1 and err.column >= 1
            assert "^" in err.excerpt()
        elapsed = time.perf_counter() - start
        assert elapsed < PER_INPUT_SECONDS, (parse.__name__, text[:80], elapsed)


@FUZZ
@given(any_text)
def test_random_text_parses_or_raises_arg_parse_error(text: str) -> None:
    parse_or_reject_quickly(text)


@settings(FUZZ, max_examples=2000)
@given(grammar_text)
def test_grammar_biased_text_parses_or_raises_arg_parse_error(text: str) -> None:
    parse_or_reject_quickly(text)


@settings(FUZZ, max_examples=1000)
@given(grammar_text, small_limits)
def test_text_under_small_limits_parses_or_raises_arg_parse_error(
    text: str, limits: ArgLimits
) -> None:
    parse_or_reject_quickly(text, limits)


# -- round trip ---------------------------------------------------------------------------------


def fits_std_decimal(value: decimal.Decimal) -> bool:
    """Within what PostgreSQL numeric (and so the parser) accepts."""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -16383 and value.adjusted() <= 131071


safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
aware_zones = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]
)
moments = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    safe_text,
    st.binary(max_size=20),
    st.uuids(),
    st.dates(),
    st.times(),
    moments,
    st.builds(lambda moment, zone: moment.replace(tzinfo=zone), moments, aware_zones),
    st.decimals(allow_nan=False, allow_infinity=False).filter(fits_std_decimal),
    # std::duration is int64 microseconds, about ±292 000 years; timedelta goes further.
    st.timedeltas(min_value=-dt.timedelta(days=10**8), max_value=dt.timedelta(days=10**8)),
    st.builds(
        lambda months, days, micros: gel.RelativeDuration(
            months=months, days=days, microseconds=micros
        ),
        st.integers(-(2**31) + 1, 2**31 - 1),
        st.integers(-(2**31) + 1, 2**31 - 1),
        st.integers(-(2**63) + 1, 2**63 - 1),
    ),
    st.builds(
        lambda months, days: gel.DateDuration(months=months, days=days),
        st.integers(-(2**31) + 1, 2**31 - 1),
        st.integers(-(2**31) + 1, 2**31 - 1),
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(safe_text, children, max_size=5),
    ),
    max_leaves=15,
)


def shape(value: object) -> object:
    """The value with every node tagged by its exact type, so True != 1 and [1] != (1,)."""
    if isinstance(value, list | tuple):
        return (type(value), [shape(item) for item in value])
    if isinstance(value, dict):
        return (dict, {key: shape(item) for key, item in value.items()})
    return (type(value), value)


@settings(FUZZ, max_examples=500)
@given(values)
def test_rendered_values_parse_back_equal(value: object) -> None:
    text = render_literal(value)
    start = time.perf_counter()
    parsed = parse_value(text)
    assert time.perf_counter() - start < PER_INPUT_SECONDS
    assert shape(parsed) == shape(value), text


@settings(FUZZ, max_examples=100)
@given(st.lists(values, max_size=5))
def test_rendered_positional_arguments_parse_back_equal(items: list[object]) -> None:
    assert shape(list(parse_positional(render_positional(items)))) == shape(items)


@settings(FUZZ, max_examples=100)
@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}|[a-z ]{1,8}", fullmatch=True),
        values,
        max_size=5,
    )
)
def test_rendered_named_arguments_parse_back_equal(items: dict[str, object]) -> None:
    assert shape(parse_named(render_named(items))) == shape(items)


@settings(FUZZ, max_examples=300)
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, max_value=10**12, min_value=-(10**12)
    )
)
def test_decimal_written_as_a_number_keeps_every_digit(value: decimal.Decimal) -> None:
    assert parse_value(f"decimal({value})") == value
