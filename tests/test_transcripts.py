"""The recorded transcripts rebuild into the driver's real objects, and ecc.display.results
renders them.

Where ``to_plain`` and the recording's ``plain`` differ, it is by design (``expected_plain``
maps one to the other): the recording wraps exotic scalars in tags (``{"UUID": ...}``), writes
datetimes with ``str()`` (a space, not ISO's ``T``), durations with ``str(timedelta)``
(``1:02:03.500000``; we write the server's ``PT1H2M3.5S``), ranges as their repr (we write the
bounds), and keeps implicit ``id`` fields (we hide them, as the driver's repr does).
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import io
import json
from typing import Any

import gel
import gel.color
import pandas as pd
import pyarrow as pa
import pytest
from gel.datatypes import datatypes as dt

from ecc.display.results import (
    driver_text,
    shape_result,
    table_data,
    to_csv_text,
    to_json_text,
    to_plain,
)
from ecc.driver.client import QueryMethod
from tests.transcripts import (
    MISSING_REASON,
    TRANSCRIPTS_PATH,
    TranscriptCase,
    behaviour_errors,
    error_from_record,
    load_cases,
    make_enum_type,
    parse_range,
    parse_timedelta,
    rebuild_error,
    rebuild_value,
    type_tree_of,
)

pytestmark = pytest.mark.skipif(not TRANSCRIPTS_PATH.exists(), reason=MISSING_REASON)

CASES = load_cases()
OK_CASES = [c for c in CASES if c.ok]
VALUE_CASES = [c for c in OK_CASES if not c.method.endswith("_json")]
JSON_CASES = [c for c in OK_CASES if c.method.endswith("_json")]
ERROR_CASES = [c for c in CASES if not c.ok]
BEHAVIOUR_ERRORS = behaviour_errors()


def by_label(cases: list[TranscriptCase]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c.label for c in cases])


@pytest.fixture
def no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """str(err) is compared to a recording made without colour."""
    monkeypatch.setattr(gel.color, "COLOR", gel.color.Color())


def case_named(label: str) -> TranscriptCase:
    return next(c for c in CASES if c.label == label)


# --- the recording ---------------------------------------------------------------------------


def test_transcripts_hold_values_and_errors() -> None:
    assert VALUE_CASES and JSON_CASES and ERROR_CASES and BEHAVIOUR_ERRORS


def test_case_arguments_are_python_values() -> None:
    assert case_named("named args").kwargs == {"pattern": "%chris%"}
    assert case_named("positional args").args == (2014, 2017)


# --- values: the rebuilt objects are the driver's ---------------------------------------------


@by_label(OK_CASES)
def test_rebuilt_value_has_the_drivers_repr(case: TranscriptCase) -> None:
    assert case.repr is not None
    rebuilt = repr(rebuild_value(case))
    if case.repr_is_cut:
        assert rebuilt.startswith(case.repr) and len(rebuilt) > len(case.repr)
    else:
        assert rebuilt == case.repr


@by_label(VALUE_CASES)
def test_rebuilt_value_has_the_drivers_types(case: TranscriptCase) -> None:
    assert type_tree_of(rebuild_value(case)) == case.raw["type_tree"]


def test_cut_recording_is_rebuilt_at_its_full_length() -> None:
    case = case_named("big result 2000 rows")
    value = rebuild_value(case)
    assert isinstance(value, list)
    assert len(value) == case.raw["plain"]["len"]


def test_rebuilt_objects_keep_link_properties() -> None:
    movies: Any = rebuild_value(case_named("link properties"))
    first_actor = movies[0].actors[0]
    assert (first_actor.name, first_actor["@character"]) == ("Carrie-Anne Moss", "Trinity")
    desc = dt.get_object_descriptor(first_actor)
    assert desc.is_linkprop("@character") and desc.is_implicit("id")


def test_rebuilt_enum_is_a_driver_enum_value() -> None:
    genre = rebuild_value(case_named("enum and decimal and duration"))[0].genre  # type: ignore[index]
    assert isinstance(genre, gel.EnumValue)
    assert (str(genre), repr(genre), genre == "SciFi") == ("SciFi", "<gel.EnumValue 'SciFi'>", True)
    assert type(genre).__qualname__ == "gel.DerivedEnumValue"


def test_enum_type_orders_values_by_declaration() -> None:
    genre = make_enum_type(["Action", "SciFi", "Drama"])
    assert genre("Action") < genre("Drama")
    assert make_enum_type(["Action", "SciFi", "Drama"]) is genre


def test_range_repr_upper_bracket_is_inverted_in_gel() -> None:
    half_open = parse_range("<Range [1, 10]>")
    assert (half_open.inc_lower, half_open.inc_upper) == (True, False)
    assert repr(gel.Range(1, 10, inc_upper=True)) == "<Range [1, 10)>"
    assert parse_range("<Range [1, 10)>").inc_upper


# --- errors ----------------------------------------------------------------------------------


@by_label(ERROR_CASES)
def test_rebuilt_error_has_the_recorded_class_and_mro(case: TranscriptCase) -> None:
    assert case.error is not None
    err = rebuild_error(case)
    assert [k.__name__ for k in type(err).__mro__] == case.error["mro"]
    assert isinstance(err, gel.errors.EdgeDBError)


@by_label(ERROR_CASES)
def test_rebuilt_error_has_the_recorded_message_and_fields(case: TranscriptCase) -> None:
    assert case.error is not None
    err = rebuild_error(case)
    recorded = case.error
    assert err.args[0] == recorded["message"]
    assert hex(err.get_code()) == recorded["code"]
    fields = ("_line", "_col", "_hint", "_details", "_position_start", "_position_end")
    assert {f: getattr(err, f) for f in fields} == {f: recorded[f] for f in fields}
    assert sorted(tag.name for tag in err.tags) == sorted(recorded["tags"])


@by_label(ERROR_CASES)
def test_rebuilt_error_str_draws_the_drivers_caret(case: TranscriptCase, no_colour: None) -> None:
    assert case.error is not None
    assert str(rebuild_error(case)) == case.error["str"]


def test_error_class_matches_the_drivers_code_lookup() -> None:
    for case in ERROR_CASES:
        assert case.error is not None
        code = int(case.error["code"], 16)
        from_code = gel.errors.EdgeDBError._from_code(code, "m")
        assert type(from_code) is type(rebuild_error(case)), case.label


@pytest.mark.parametrize("label", list(BEHAVIOUR_ERRORS))
def test_behaviour_errors_rebuild_with_class_str_and_tags(label: str, no_colour: None) -> None:
    recorded = BEHAVIOUR_ERRORS[label]
    err = error_from_record(recorded)
    assert [k.__name__ for k in type(err).__mro__] == recorded["mro"]
    assert str(err) == recorded["str"]
    assert sorted(tag.name for tag in err.tags) == sorted(recorded["tags"])


# --- ecc.display.results renders what the driver returns ------------------------------------------


def shaped(case: TranscriptCase) -> Any:
    return shape_result(rebuild_value(case), QueryMethod(case.method), 10_000)


@by_label(OK_CASES)
def test_results_render_every_recorded_value(case: TranscriptCase) -> None:
    result = shaped(case)
    table = table_data(result, limit=10_000)
    pa.Table.from_pandas(pd.DataFrame(table.columns))  # what st.dataframe does with it
    assert all(len(cells) == table.shown_rows for cells in table.columns.values())
    for name in table.json_columns:
        for cell in table.columns[name]:
            if cell is not None:
                json.loads(str(cell))  # every JSON cell parses
    json.loads(to_json_text(result))
    rows = list(csv.reader(io.StringIO(to_csv_text(result))))
    assert len(rows) == (1 + table.shown_rows if table.columns else 0)
    assert driver_text(result, limit=10_000)


@by_label(VALUE_CASES)
def test_driver_text_is_the_drivers_repr(case: TranscriptCase) -> None:
    result = shaped(case)
    text = driver_text(result, limit=10_000)
    if result.method.returns_many:
        text = "[" + ", ".join(text.splitlines()) + "]" if result.value else text
    assert case.repr is not None
    if case.repr_is_cut:
        assert text.startswith(case.repr)
    else:
        assert text == case.repr


@by_label(JSON_CASES)
def test_json_results_keep_the_drivers_text_and_numbers(case: TranscriptCase) -> None:
    result = shaped(case)
    assert result.json_text == case.raw["plain"]
    assert result.value == json.loads(case.raw["plain"], parse_float=decimal.Decimal)


def expected_plain(recorded: object, value: object) -> object:
    """The recording's ``plain`` rewritten in ``to_plain``'s format (see the module docstring)."""
    if recorded is None:
        return None
    if isinstance(value, gel.Object):
        assert isinstance(recorded, dict)
        desc = dt.get_object_descriptor(value)
        fields = [k for k in recorded if not k.startswith("@")]
        shown = [k for k in fields if not desc.is_implicit(k)] or fields
        out = {k: expected_plain(recorded[k], getattr(value, k)) for k in shown}
        out.update({k: expected_plain(recorded[k], value[k]) for k in recorded if k[0] == "@"})
        return out
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        assert isinstance(recorded, dict)
        return {
            k: expected_plain(recorded[k], v) for k, v in zip(value._fields, value, strict=True)
        }
    if isinstance(value, list | tuple):
        assert isinstance(recorded, list)
        return [expected_plain(r, v) for r, v in zip(recorded, value, strict=True)]
    if isinstance(recorded, dict):
        ((tag, text),) = recorded.items()
        if tag == "datetime":
            return text.replace(" ", "T", 1)
        if tag == "timedelta":
            micros = parse_timedelta(text) // datetime.timedelta(microseconds=1)
            return str(gel.RelativeDuration(microseconds=micros))
        if tag == "Range":
            r = parse_range(text)
            return {
                "lower": r.lower,
                "upper": r.upper,
                "inc_lower": r.inc_lower,
                "inc_upper": r.inc_upper,
                "empty": r.is_empty(),
            }
        return text  # UUID, Decimal, date, time, bytes_hex, enum, durations: the same text
    return recorded


@by_label([c for c in VALUE_CASES if not c.repr_is_cut])
def test_to_plain_agrees_with_the_recorded_plain(case: TranscriptCase) -> None:
    value = rebuild_value(case)
    assert to_plain(value) == expected_plain(case.raw["plain"], value)


def test_to_plain_of_a_cut_recording_agrees_with_its_first_items() -> None:
    case = case_named("big result 2000 rows")
    plain = to_plain(rebuild_value(case))
    assert isinstance(plain, list)
    assert plain[:50] == case.raw["plain"]["first_50"]


# Where to_plain of the driver's object and the server's own JSON for the same query differ:
# bytes (server: base64, ours: hex), decimals and floats (server: JSON numbers, ours: str and
# float), std::json (the driver hands it over as text), ranges (ours also say "empty").
SERVER_JSON_DIFFERENCES = {"raw", "dec", "f32", "f64", "doc", "span"}


def test_to_plain_agrees_with_the_servers_json_for_the_same_query() -> None:
    ours = to_plain(rebuild_value(case_named("all scalar types")))
    server = json.loads(
        case_named("all scalar types json").raw["plain"], parse_float=decimal.Decimal
    )
    assert isinstance(ours, dict)
    assert list(ours) == list(server)
    for key in ours.keys() - SERVER_JSON_DIFFERENCES:
        assert ours[key] == server[key], key
    assert bytes.fromhex(ours["raw"]) == base64.b64decode(server["raw"])
    for key in ("dec", "f32", "f64"):
        assert decimal.Decimal(str(ours[key])) == server[key], key
    assert json.loads(ours["doc"], parse_float=decimal.Decimal) == server["doc"]
    assert {k: v for k, v in ours["span"].items() if k != "empty"} == server["span"]
