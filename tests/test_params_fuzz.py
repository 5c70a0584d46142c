"""Property tests: scan_parameters never raises and stays fast on any text; what it skips
(comments, strings) never yields parameters; typed inputs fail only with ParamValueError."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc.arguments.param_values import ParamValueError, parse_param_value
from ecc.arguments.params import ParameterScan, QueryParameter, parse_type, scan_parameters

# A runaway guard, not a speed target (benchmarks measure speed): generous enough that a
# loaded 2-core CI box never trips it, tight enough to catch quadratic or worse behaviour.
PER_INPUT_SECONDS = 5.0
FUZZ = settings(
    max_examples=1000,
    deadline=None,  # each call is timed below
    suppress_health_check=[HealthCheck.too_slow],
)

# Generating nested type expressions is slower than generating text: fewer, richer examples.
TYPE_FUZZ = settings(FUZZ, max_examples=300)

# Pieces that steer random text into the tokenizer's corners: quotes, prefixes, dollar quotes,
# comments, backquotes, casts and their brackets, names and numbers.
TOKENS = [
    "<",
    ">",
    ">>",
    "$",
    "$$",
    "$a$",
    "'",
    '"',
    "\\",
    "r'",
    "b'",
    "rb'",
    "#",
    "`",
    "``",
    "::",
    ":",
    ",",
    "(",
    ")",
    "\n",
    " ",
    "str",
    "int64",
    "array",
    "tuple",
    "optional",
    "required",
    "Genre",
    "x",
    "título",
    "0",
    "12",
    "$x",
    "$0",
    "$1",
    "$`a b`",
    "<str>",
    "<array<str>>",
    "<=",
    ">=",
    ":=",
]
token_glued = st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)
mixed_text = st.one_of(st.text(max_size=2000), token_glued)


def timed_scan(text: str) -> ParameterScan:
    start = time.perf_counter()
    scan = scan_parameters(text)
    assert time.perf_counter() - start < PER_INPUT_SECONDS
    return scan


def assert_well_formed(text: str, scan: ParameterScan) -> None:
    assert not any("internal error" in p.message for p in scan.problems), scan.problems
    names = [p.name for p in scan.parameters]
    assert len(names) == len(set(names))
    for parameter in scan.parameters:
        assert parameter.positions
        for position in parameter.positions:
            assert text[position] == "$"
    for problem in scan.problems:
        assert problem.position is None or 0 <= problem.position <= len(text)


@FUZZ
@given(st.text(max_size=2000))
def test_random_text_never_raises_and_is_fast(text: str) -> None:
    assert_well_formed(text, timed_scan(text))


@FUZZ
@given(token_glued)
def test_token_glued_text_never_raises_and_is_fast(text: str) -> None:
    assert_well_formed(text, timed_scan(text))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join))
def test_a_repeated_fragment_of_100kb_is_fast(fragment: str) -> None:
    text = fragment * (100_000 // len(fragment) + 1)
    assert_well_formed(text, timed_scan(text))


@FUZZ
@given(mixed_text)
def test_text_inside_a_comment_has_no_parameters(text: str) -> None:
    commented = "\n".join("# " + line for line in text.splitlines()) + "\nselect 1"
    scan = timed_scan(commented)
    assert scan.parameters == () and scan.problems == ()


def edgeql_string(content: str, quote: str) -> str:
    escaped = content.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + escaped + quote


@FUZZ
@given(mixed_text, st.sampled_from(["'", '"']))
def test_text_inside_a_string_has_no_parameters(text: str, quote: str) -> None:
    query = f"select {edgeql_string(text, quote)} ++ <str>$found"
    scan = timed_scan(query)
    assert [p.name for p in scan.parameters] == ["found"]
    assert scan.parameters[0].type == parse_type("str")
    assert scan.problems == ()


@FUZZ
@given(mixed_text)
def test_text_inside_a_dollar_quote_has_no_parameters(text: str) -> None:
    body = text.replace("$$", "")
    if body.endswith("$"):  # `$` right before the closing `$$` would close it early
        body += " "
    scan = timed_scan(f"select $${body}$$ ++ <int64>$found")
    assert [p.name for p in scan.parameters] == ["found"]
    assert scan.problems == ()


SCALAR_TYPE_TEXTS = st.sampled_from(
    ["str", "int64", "std::float64", "cal::local_date", "local_time", "bigint", "Genre", "m::Color"]
)
FIELD_NAMES = st.sampled_from(["a", "b", "x", "título"])


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    fields = st.lists(
        st.tuples(FIELD_NAMES, children), min_size=1, max_size=3, unique_by=lambda f: f[0]
    )
    return st.one_of(
        children.map(lambda c: f"array<{c}>"),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: f"tuple<{', '.join(cs)}>"),
        fields.map(lambda fs: "tuple<" + ", ".join(f"{n}: {t}" for n, t in fs) + ">"),
        st.sampled_from(["int64", "float64", "local_date"]).map(lambda c: f"range<{c}>"),
    )


TYPE_TEXTS = st.recursive(SCALAR_TYPE_TEXTS, _containers, max_leaves=8)
BLANKS = st.sampled_from(["", " ", "\n", "  \n\t", " # a comment\n "])


@TYPE_FUZZ
@given(TYPE_TEXTS, st.booleans(), BLANKS, BLANKS, st.data())
def test_a_generated_cast_is_read_back_as_its_type(
    type_text: str, optional: bool, before: str, after: str, data: st.DataObject
) -> None:
    spaced = type_text.replace("<", f"{before}<{after}").replace(",", f"{after},{before}")
    spaced = spaced.replace(">", f"{data.draw(BLANKS)}>")
    prefix = "optional " if optional else data.draw(st.sampled_from(["", "required "]))
    scan = timed_scan(f"select <{prefix}{spaced}>{data.draw(BLANKS)}$x")
    assert scan.problems == ()
    (parameter,) = scan.parameters
    assert parameter.type == parse_type(type_text)
    assert parameter.optional == optional


@TYPE_FUZZ
@given(TYPE_TEXTS)
def test_a_type_label_and_name_parse_back_to_the_same_type(type_text: str) -> None:
    ptype = parse_type(type_text)
    assert parse_type(ptype.name) == ptype
    assert parse_type(ptype.label()) == ptype


TYPES = [
    parse_type(t)
    for t in (
        "str",
        "bool",
        "int16",
        "bigint",
        "float32",
        "decimal",
        "uuid",
        "datetime",
        "local_time",
        "duration",
        "relative_duration",
        "json",
        "bytes",
        "Genre",
        "array<int64>",
        "array<tuple<str, datetime>>",
        "tuple<x: float64, y: array<str>>",
        "range<decimal>",
    )
]


@FUZZ
@given(st.sampled_from(TYPES), st.booleans(), mixed_text)
def test_typed_input_either_parses_or_raises_param_value_error(
    ptype: object, optional: bool, text: str
) -> None:
    assert hasattr(ptype, "kind")
    parameter = QueryParameter("p", ptype, optional)  # type: ignore[arg-type]
    start = time.perf_counter()
    try:
        parse_param_value(parameter, text)
    except ParamValueError as exc:
        assert str(exc).startswith("$p")
    assert time.perf_counter() - start < PER_INPUT_SECONDS
