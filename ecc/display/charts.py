"""Charts of results: which columns can be charted, sensible defaults, and a Vega-Lite spec.

Columns are judged by the driver's own types (``results.record_columns``), never by their text:

- quantitative: ``int`` (``int64``, ``bigint``), ``float``, ``Decimal`` (as floats: a chart
  has no use for more than 15 digits, and the note says so), ``timedelta`` (``std::duration``,
  as seconds, with a note);
- temporal: ``datetime`` (with its offset, so the instant is exact), ``date`` (``local_date``)
  and naive ``datetime`` (``local_datetime``) as local times, ``time`` (``local_time``) as a
  time of day;
- nominal: ``str``, enum values (their label), ``bool``, uuids;
- left out, with a note: nested values (objects, arrays, tuples: only flat columns are
  charted), bytes, relative/date durations (no fixed length), ranges, columns mixing kinds,
  columns with no value.

Field names in the spec are ``c0``, ``c1``, ... (a column named ``a.b`` or ``x[0]`` would be
a nested path in Vega-Lite); titles carry the real names. Nothing here imports streamlit.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import gel

from ecc.display.results import ShapedResult, record_columns

Kind = Literal["quantitative", "temporal", "nominal"]
ChartType = Literal["bar", "line", "area", "scatter", "histogram"]
CHART_TYPES: tuple[ChartType, ...] = ("bar", "line", "area", "scatter", "histogram")
MAX_CHART_ROWS = 50_000  # rows sent to the browser: Vega-Lite draws every one
MAX_DEFAULT_COLOURS = 12  # a nominal column with more values is no default colour


@dataclass(frozen=True)
class ChartColumn:
    name: str  # the result's column name (shown as the axis title)
    field: str  # the field in the spec's data (c0, c1, ...)
    kind: Kind
    source: str  # the driver type it came from, e.g. "Decimal", "timedelta"
    time_of_day: bool = False  # local_time: charted on one day, shown as a time
    distinct: int = 0  # distinct values (nominal columns: whether a colour is readable)


@dataclass(frozen=True)
class ChartModel:
    columns: tuple[ChartColumn, ...]
    notes: tuple[str, ...]
    values: tuple[dict[str, object], ...]  # one dict per charted row, keyed by field
    charted_rows: int
    kept_rows: int
    total_rows: int

    @property
    def chartable(self) -> bool:
        return any(c.kind in ("quantitative", "temporal") for c in self.columns)

    def column(self, name: str | None) -> ChartColumn | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class ChartChoice:
    chart: ChartType
    x: str
    y: str | None  # None: count rows
    colour: str | None


# ---------------------------------------------------------------------------------------------
# Columns

_EPOCH_DAY = datetime.date(1970, 1, 1)
_EXACT_FLOAT_INT = 2**53  # larger integers lose digits in the browser's numbers
_NESTED = (list, tuple, dict, set, frozenset)


def _category(value: object) -> str:
    """The chart category of one driver value (before deciding a column's kind)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, enum.Enum):
        return "enum"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, decimal.Decimal):
        return "Decimal"
    if isinstance(value, datetime.datetime):
        return "datetime" if value.tzinfo is not None else "local_datetime"
    if isinstance(value, datetime.date):
        return "local_date"
    if isinstance(value, datetime.time):
        return "local_time"
    if isinstance(value, datetime.timedelta):
        return "timedelta"
    if isinstance(value, str):
        return "str"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes"
    if isinstance(value, _NESTED):
        return "nested"
    if isinstance(value, gel.RelativeDuration | gel.DateDuration):
        return "relative"
    if isinstance(value, gel.Object | gel.Range | gel.MultiRange) or hasattr(value, "_fields"):
        return "nested"
    return "other:" + type(value).__name__


_QUANTITATIVE = {"int", "float", "Decimal"}
_TEMPORAL = {"datetime", "local_datetime"}


def _decide(name: str, categories: set[str]) -> tuple[Kind | None, str, str | None]:
    """(kind or None when left out, the source type, a note or None)."""
    if not categories:
        return None, "none", f"{name}: no values, left out."
    if categories <= _QUANTITATIVE:
        source = "Decimal" if "Decimal" in categories else ("float" if "float" in categories
                                                         else "int")
        note = (f"{name}: decimals charted as floating point (about 15 significant digits)."
                if "Decimal" in categories else None)
        return "quantitative", source, note
    if categories <= _TEMPORAL:
        if categories == {"datetime", "local_datetime"}:
            return None, "mixed", f"{name}: mixes datetimes with and without offsets, left out."
        (source,) = categories
        note = f"{name}: shown in the browser's time zone." if source == "datetime" else None
        return "temporal", source, note
    if len(categories) == 1:
        (source,) = categories
        if source == "local_date":
            return "temporal", source, None
        if source == "local_time":
            return "temporal", source, None
        if source == "timedelta":
            return "quantitative", source, f"{name}: durations charted in seconds."
        if source in ("str", "enum", "bool", "uuid"):
            return "nominal", source, None
        if source == "nested":
            return None, source, (f"{name}: nested values are not charted (flat columns only); "
                                  "the table shows them.")
        if source == "bytes":
            return None, source, f"{name}: bytes are not charted."
        if source == "relative":
            return None, source, f"{name}: relative durations have no fixed length, left out."
        return None, source, f"{name}: values of type {source.removeprefix('other:')} are " \
                             "not charted."
    return None, "mixed", f"{name}: mixes kinds of values, left out."


def _cell(value: object, source: str) -> object:
    """One value as the spec's JSON data holds it (None for a missing or non-finite one)."""
    if value is None:
        return None
    if source in ("int", "float", "Decimal"):
        number = float(value)  # type: ignore[arg-type]  # ints and Decimals by _decide
        return number if math.isfinite(number) else None
    if source == "timedelta":
        return value.total_seconds()  # type: ignore[attr-defined]
    if source in ("datetime", "local_datetime"):
        return value.isoformat()  # type: ignore[attr-defined]
    if source == "local_date":
        # A date-only ISO string is read as UTC midnight by browsers; a date-time without an
        # offset as local midnight, which keeps the day on the axis the day it is.
        return value.isoformat() + "T00:00:00"  # type: ignore[attr-defined]
    if source == "local_time":
        return _EPOCH_DAY.isoformat() + "T" + value.isoformat()  # type: ignore[attr-defined]
    if source == "enum":
        return str(value)
    if source in ("bool", "str"):
        return value
    return str(value)


def chart_model(result: ShapedResult, max_rows: int = MAX_CHART_ROWS) -> ChartModel:
    """What of ``result`` can be charted: its flat columns by kind, the data, and notes."""
    limit = min(result.kept_rows, max_rows)
    raw = record_columns(result, limit)
    columns: list[ChartColumn] = []
    notes: list[str] = []
    data_columns: list[tuple[str, list[object]]] = []
    for name, values in raw.items():
        categories = {_category(v) for v in values if v is not None}
        kind, source, note = _decide(name, categories)
        if note:
            notes.append(note)
        if kind is None:
            continue
        field = f"c{len(columns)}"
        cells = [_cell(v, source) for v in values]
        dropped = sum(1 for v, c in zip(values, cells, strict=True) if c is None and v is not None)
        if dropped:
            notes.append(f"{name}: {dropped} non-finite value(s) left out.")
        if source == "int" and any(type(v) is int and abs(v) > _EXACT_FLOAT_INT for v in values):
            notes.append(f"{name}: integers beyond 2^53 charted as floating point (rounded).")
        distinct = len({c for c in cells if c is not None}) if kind == "nominal" else 0
        columns.append(ChartColumn(name, field, kind, source, source == "local_time", distinct))
        data_columns.append((field, cells))
    values_out = tuple(
        dict(zip([f for f, _ in data_columns], row, strict=True))
        for row in zip(*(cells for _, cells in data_columns), strict=True)
    ) if data_columns else ()
    if result.method.returns_json and columns:
        notes.append("JSON results carry dates and durations as text, so they chart as "
                     "categories; turn JSON off to chart them by their types.")
    if result.kept_rows > limit:
        notes.append(f"Charting the first {limit:,} of the {result.kept_rows:,} kept rows.")
    return ChartModel(tuple(columns), tuple(notes), values_out, len(values_out),
                      result.kept_rows, result.total_rows)


# ---------------------------------------------------------------------------------------------
# Defaults and the spec


def default_choice(model: ChartModel) -> ChartChoice | None:
    """Temporal → x, numbers → y, a few-valued str/enum → colour; None if nothing charts."""
    if not model.chartable:
        return None
    temporal = [c for c in model.columns if c.kind == "temporal"]
    numbers = [c for c in model.columns if c.kind == "quantitative"]
    nominal = [c for c in model.columns if c.kind == "nominal" and c.source != "uuid"]
    if temporal:
        x = temporal[0]
        chart: ChartType = "line" if numbers else "histogram"
    elif nominal and numbers:
        x = nominal[0]
        chart = "bar"
    elif len(numbers) >= 2:
        x = numbers[0]
        chart = "scatter"
    else:
        x = numbers[0]
        chart = "histogram"
    y = next((c for c in numbers if c is not x), None)
    colour = next((c for c in nominal if c is not x and 1 < c.distinct <= MAX_DEFAULT_COLOURS),
                  None)
    return ChartChoice(chart, x.name, y.name if y and chart != "histogram" else None,
                       colour.name if colour else None)


def _channel(column: ChartColumn, **extra: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {"field": column.field, "type": column.kind,
                               "title": column.name, **extra}
    if column.time_of_day:
        channel["timeUnit"] = "hoursminutesseconds"
    if column.source == "timedelta":
        channel["title"] = f"{column.name} (s)"
    return channel


def chart_spec(model: ChartModel, choice: ChartChoice) -> dict[str, Any]:
    """A Vega-Lite spec (a plain dict) of ``choice``; unknown or missing columns raise
    ``ValueError`` with a message fit for the page."""
    x = model.column(choice.x)
    if x is None:
        raise ValueError(f"There is no chartable column {choice.x!r}.")
    y = model.column(choice.y) if choice.y is not None else None
    if choice.y is not None and y is None:
        raise ValueError(f"There is no chartable column {choice.y!r}.")
    colour = model.column(choice.colour) if choice.colour is not None else None
    encoding: dict[str, Any] = {}
    tooltip: list[dict[str, Any]] = []
    if choice.chart == "histogram":
        if x.kind == "nominal":
            encoding["x"] = _channel(x, sort="-y")
        else:
            encoding["x"] = _channel(x, bin={"maxbins": 40})
        encoding["y"] = {"aggregate": "count", "type": "quantitative", "title": "rows"}
        mark: dict[str, Any] = {"type": "bar"}
    else:
        encoding["x"] = _channel(x)
        if y is None or (y.kind != "quantitative" and choice.chart != "scatter"):
            encoding["y"] = {"aggregate": "count", "type": "quantitative", "title": "rows"}
        else:
            encoding["y"] = _channel(y)
            tooltip = [_channel(x), _channel(y)]
        marks: dict[str, dict[str, Any]] = {
            "bar": {"type": "bar"},
            "line": {"type": "line", "point": model.charted_rows <= 200},
            "area": {"type": "area", "opacity": 0.7},
            "scatter": {"type": "point", "filled": True},
        }
        mark = marks[choice.chart]
    if colour is not None:
        encoding["color"] = _channel(colour)
        if tooltip:
            tooltip.append(_channel(colour))
    if tooltip:
        encoding["tooltip"] = tooltip
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": list(model.values)},
        "mark": mark if tooltip else {**mark, "tooltip": True},
        "encoding": encoding,
    }


def choice_from(model: ChartModel, chart: str, x: str | None, y: str | None,
                colour: str | None) -> ChartChoice | None:
    """A choice from pickers' values, falling back to the defaults for unknown ones."""
    default = default_choice(model)
    if default is None:
        return None
    kind = next((t for t in CHART_TYPES if t == chart), default.chart)
    names = {c.name for c in model.columns}
    return ChartChoice(
        chart=kind,
        x=x if x in names else default.x,
        y=y if y in names else None,
        colour=colour if colour in names else None,
    )


def column_names(model: ChartModel, kinds: Sequence[Kind] | None = None) -> list[str]:
    return [c.name for c in model.columns if kinds is None or c.kind in kinds]
