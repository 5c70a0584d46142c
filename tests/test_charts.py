"""ecc.display.charts: which columns chart, as what, with which defaults, and the Vega-Lite
specs."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any

import gel
import pytest
from gel.datatypes import datatypes as dt

from ecc.display import charts
from ecc.display.results import shape_result
from ecc.driver.client import QueryMethod
from tests.transcripts import MISSING_REASON, load_cases, make_enum_type, rebuild_value

UTC = datetime.UTC
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))
Genre = make_enum_type(["Drama", "SciFi", "Comedy"])


def _model(rows: list[Any], method: QueryMethod = QueryMethod.QUERY,
           max_rows: int = charts.MAX_CHART_ROWS) -> charts.ChartModel:
    return charts.chart_model(shape_result(rows, method, 100_000), max_rows)


def _object_rows(**columns: list[Any]) -> list[Any]:
    factory = dt.create_object_factory(id={"property", "implicit"},
                                       **dict.fromkeys(columns, "property"))
    length = len(next(iter(columns.values())))
    return [factory(uuid.UUID(int=i + 1), *(c[i] for c in columns.values()))
            for i in range(length)]


def _kind(model: charts.ChartModel, name: str) -> str | None:
    column = model.column(name)
    return column.kind if column else None


@pytest.mark.parametrize(
    ("values", "kind", "first_cell", "note"),
    [
        ([decimal.Decimal("1.50"), decimal.Decimal("2.25")], "quantitative", 1.5,
         "floating point"),
        ([2**70, 3], "quantitative", float(2**70), "beyond 2^53"),
        ([1, 2], "quantitative", 1.0, None),
        ([1.5, float("nan")], "quantitative", 1.5, "non-finite"),
        ([datetime.timedelta(hours=1, seconds=3.5), datetime.timedelta(0)], "quantitative",
         3603.5, "seconds"),
        ([datetime.date(2024, 2, 29), datetime.date(2024, 3, 1)], "temporal",
         "2024-02-29T00:00:00", None),
        ([datetime.datetime(2024, 2, 29, 12, 30, tzinfo=PLUS2),
          datetime.datetime(2024, 3, 1, tzinfo=UTC)], "temporal",
         "2024-02-29T12:30:00+02:00", "time zone"),
        ([datetime.datetime(2024, 2, 29, 12, 30), datetime.datetime(2024, 3, 1)], "temporal",
         "2024-02-29T12:30:00", None),
        ([datetime.time(23, 59, 59), datetime.time(0, 0)], "temporal",
         "1970-01-01T23:59:59", None),
        ([Genre("SciFi"), Genre("Drama")], "nominal", "SciFi", None),
        (["a", "b"], "nominal", "a", None),
        ([True, False], "nominal", True, None),
    ],
)
def test_each_scalar_kind_becomes_a_sensible_axis(
    values: list[Any], kind: str, first_cell: object, note: str | None
) -> None:
    model = _model(_object_rows(v=values, n=[1, 2]))
    column = model.column("v")
    assert column is not None and column.kind == kind
    assert model.values[0][column.field] == first_cell
    if note is None:
        assert not [n for n in model.notes if n.startswith("v:")]
    else:
        assert any(n.startswith("v:") and note in n for n in model.notes), model.notes
    json.dumps(model.values)  # plain JSON for the browser


@pytest.mark.parametrize(
    ("values", "note"),
    [
        ([b"\x00ab", b"x"], "bytes"),
        ([gel.RelativeDuration(months=1), gel.RelativeDuration(days=2)], "no fixed length"),
        ([gel.DateDuration(months=1), gel.DateDuration(days=2)], "no fixed length"),
        ([[1, 2], [3]], "nested"),
        ([(1, "a"), (2, "b")], "nested"),
        ([1, "a"], "mixes kinds"),
        ([None, None], "no values"),
        ([datetime.datetime(2024, 1, 1, tzinfo=UTC), datetime.datetime(2024, 1, 1)],
         "with and without offsets"),
        ([gel.Range(1, 5), gel.Range(2, 3)], "nested"),
    ],
)
def test_what_cannot_be_charted_is_left_out_with_a_note(values: list[Any], note: str) -> None:
    model = _model(_object_rows(v=values, n=[1, 2]))
    assert model.column("v") is None
    assert any(n.startswith("v:") and note in n for n in model.notes), model.notes
    assert model.column("n") is not None


def test_nested_shapes_chart_their_flat_columns_only() -> None:
    person = dt.create_object_factory(id={"property", "implicit"}, name="property")
    rows = _object_rows(title=["Dune", "Alien"], year=[2021, 1979],
                        actors=[[person(uuid.uuid4(), "A")], []])
    model = _model(rows)
    assert [c.name for c in model.columns] == ["title", "year"]
    assert any("actors" in n and "flat columns only" in n for n in model.notes)


def test_a_result_with_nothing_chartable_says_so() -> None:
    model = _model(_object_rows(name=["a", "b"]))
    assert not model.chartable
    assert charts.default_choice(model) is None
    assert charts.choice_from(model, "bar", "name", None, None) is None


def test_a_scalar_result_charts_its_one_column() -> None:
    model = _model([3, 1, 4, 1, 5])
    assert [c.name for c in model.columns] == ["value"]
    choice = charts.default_choice(model)
    assert choice == charts.ChartChoice("histogram", "value", None, None)


def test_defaults_temporal_x_number_y_few_valued_colour() -> None:
    rows = _object_rows(
        genre=[Genre("Drama"), Genre("SciFi"), Genre("Drama")],
        title=["a", "b", "c"],
        released=[datetime.date(2020, 1, 1), datetime.date(2021, 1, 1), datetime.date(2022, 1, 1)],
        budget=[decimal.Decimal("1.5"), decimal.Decimal("2"), decimal.Decimal("3")],
    )
    choice = charts.default_choice(_model(rows))
    assert choice == charts.ChartChoice("line", "released", "budget", "genre")


def test_defaults_without_time_bar_of_a_category_or_scatter_of_numbers() -> None:
    bars = _model(_object_rows(title=["a", "b"], rating=[1.5, 2.0]))
    assert charts.default_choice(bars) == charts.ChartChoice("bar", "title", "rating", None)
    scatter = _model(_object_rows(a=[1, 2], b=[1.5, 2.0]))
    assert charts.default_choice(scatter) == charts.ChartChoice("scatter", "a", "b", None)


def test_uuid_columns_are_never_a_default_axis() -> None:
    model = _model(_object_rows(ident=[uuid.uuid4(), uuid.uuid4()], n=[1, 2]))
    assert _kind(model, "ident") == "nominal"
    assert charts.default_choice(model) == charts.ChartChoice("histogram", "n", None, None)


@pytest.mark.parametrize("chart", charts.CHART_TYPES)
def test_every_chart_type_builds_a_plain_spec(chart: str) -> None:
    rows = _object_rows(
        at=[datetime.datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
        n=[1, 5, 3], kind=["x", "y", "x"],
    )
    model = _model(rows)
    choice = charts.choice_from(model, chart, "at", "n", "kind")
    assert choice is not None and choice.chart == chart
    spec = charts.chart_spec(model, choice)
    text = json.dumps(spec)
    assert json.loads(text) == spec
    assert len(spec["data"]["values"]) == 3
    assert spec["encoding"]["x"]["title"] == "at"
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["color"]["field"] == model.column("kind").field  # type: ignore[union-attr]
    if chart == "histogram":
        assert spec["encoding"]["x"]["bin"] == {"maxbins": 40}
        assert spec["encoding"]["y"]["aggregate"] == "count"
    else:
        assert spec["encoding"]["y"]["title"] == "n"


def test_field_names_never_carry_column_names() -> None:
    text = json.dumps([{"a.b": 1, "x[0]": 2.0}, {"a.b": 3, "x[0]": 4.5}])
    model = charts.chart_model(shape_result(text, QueryMethod.QUERY_JSON, 100))
    assert [c.field for c in model.columns] == ["c0", "c1"]
    spec = charts.chart_spec(model, charts.ChartChoice("scatter", "a.b", "x[0]", None))
    assert spec["encoding"]["x"] == {"field": "c0", "type": "quantitative", "title": "a.b"}


def test_durations_are_titled_in_seconds_and_local_times_by_time_of_day() -> None:
    rows = _object_rows(took=[datetime.timedelta(seconds=1), datetime.timedelta(minutes=1)],
                        at=[datetime.time(9), datetime.time(17, 30)])
    model = _model(rows)
    spec = charts.chart_spec(model, charts.ChartChoice("scatter", "at", "took", None))
    assert spec["encoding"]["y"]["title"] == "took (s)"
    assert spec["encoding"]["x"]["timeUnit"] == "hoursminutesseconds"


def test_unknown_columns_are_a_clear_error() -> None:
    model = _model(_object_rows(n=[1, 2]))
    with pytest.raises(ValueError, match="no chartable column 'nope'"):
        charts.chart_spec(model, charts.ChartChoice("bar", "nope", None, None))
    fallback = charts.choice_from(model, "pie", "nope", "gone", "missing")
    assert fallback == charts.ChartChoice("histogram", "n", None, None)


def test_rows_charted_are_counted_and_capped_with_a_note() -> None:
    model = _model(list(range(1000)), max_rows=100)
    assert model.charted_rows == 100
    assert model.kept_rows == 1000
    assert any("first 100 of the 1,000 kept rows" in n for n in model.notes)


def test_json_results_chart_numbers_and_say_dates_are_text() -> None:
    text = json.dumps([{"n": 1.5, "at": "2024-01-01T00:00:00+00:00"}, {"n": 2, "at": "x"}])
    model = charts.chart_model(shape_result(text, QueryMethod.QUERY_JSON, 100))
    assert _kind(model, "n") == "quantitative"
    assert _kind(model, "at") == "nominal"
    assert any("turn JSON off" in n for n in model.notes)


class Colour(enum.IntEnum):
    RED = 1


def test_python_enums_are_nominal_by_label() -> None:
    model = _model(_object_rows(c=[Colour.RED, Colour.RED], n=[1, 2]))
    assert _kind(model, "c") == "nominal"


RECORDED = {c.label: c for c in load_cases()}


@pytest.mark.skipif("all scalar types" not in RECORDED, reason=MISSING_REASON)
def test_every_recorded_scalar_kind_charts_or_is_noted() -> None:
    case = RECORDED["all scalar types"]
    value = rebuild_value(case)
    model = charts.chart_model(shape_result(value, QueryMethod(case.method), 100))
    fields = [f.name for f in __import__("dataclasses").fields(value)]
    noted = {n.split(":", 1)[0] for n in model.notes}
    charted = {c.name for c in model.columns}
    for name in fields:
        if name == "id":
            continue
        assert name in charted or name in noted, name
    kinds = {c.name: c.kind for c in model.columns}
    assert kinds["dec"] == kinds["big"] == kinds["dur"] == "quantitative"
    assert kinds["at"] == kinds["ld"] == kinds["ldt"] == kinds["lt"] == "temporal"
    choice = charts.default_choice(model)
    assert choice is not None
    json.dumps(charts.chart_spec(model, choice))
