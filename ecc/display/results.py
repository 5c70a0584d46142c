"""What the driver returned, shaped for the page: kept rows, a table, downloads, the driver's text.

``shape_result`` runs once per query and is cheap (it slices; JSON methods parse once). The page
then asks the ``ShapedResult`` for what it shows: ``table_data`` (columnar cells st.dataframe
accepts), ``to_json_text`` / ``to_csv_text`` (downloads) or ``driver_text`` (the driver's repr).

One rendering, ``to_plain``, is shared by every output:

- objects become dicts of their pointers in the driver's order, link properties (``"@name"``)
  after them. Implicit pointers (the ``id`` the driver adds when the query did not ask for it)
  are left out, as the driver's repr and the server's JSON leave them out, unless they are all
  an object has (``select Movie`` still shows the ids);
- sets, arrays and unnamed tuples become lists, named tuples dicts;
- uuid, datetime, date and time become ISO strings, ``timedelta`` an ISO-8601 duration written
  as the server writes ``std::duration`` (``PT1H2M3.5S``);
- ``Decimal`` becomes its exact string (never a float); ints stay ints however big;
- bytes become lowercase hex without a prefix (``b"\\x00ab"`` → ``"006162"``);
- enum values become their label; ``RelativeDuration``/``DateDuration``/``ConfigMemory`` their
  ``str()``; ranges ``{"lower", "upper", "inc_lower", "inc_upper", "empty"}``;
- NaN and the infinities become the strings ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has none);
- anything else becomes ``str(value)``.

Nothing here imports streamlit.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import decimal
import enum
import io
import json
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import attrgetter, itemgetter
from typing import Any

import gel
from gel.datatypes import datatypes as gel_datatypes
from gel.pgproto.pgproto import UUID as _DriverUUID  # what the driver returns; a uuid.UUID

from ecc.driver.client import QueryMethod

MAX_JSON_TEXT_CHARS = 5_000_000
"""A JSON method's original text is kept (``ShapedResult.json_text``) up to this many chars."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_NONE_TYPE = type(None)

# One compact encoder, built once: json.dumps(...) with options builds a new encoder per call.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

Row = Any
Getter = Callable[[Any], object]


# ---------------------------------------------------------------------------------------------
# Value objects


@dataclass(frozen=True)
class ShapedResult:
    """A driver result as the console keeps it.

    Invariants: ``kept_rows <= total_rows``; for many-methods ``value`` is a list of
    ``kept_rows`` rows; for single methods ``value`` is the row itself (None when there was
    none) and ``total_rows == kept_rows`` is 0 or 1. JSON methods hold the parsed JSON (floats
    as ``Decimal``, so nothing is lost) and, when not too large, the driver's original text.
    """

    method: QueryMethod
    value: object
    json_text: str | None
    total_rows: int
    kept_rows: int
    # The server stopped at the implicit limit: ``total_rows`` is a lower bound, more exist.
    more_rows: bool = False

    @property
    def truncated(self) -> bool:
        return self.kept_rows < self.total_rows or self.more_rows


@dataclass(frozen=True)
class TableData:
    """Columnar cells for st.dataframe: every column has ``shown_rows`` entries.

    Cells are None or Python scalars pandas/Arrow accept in one column (str, int within int64,
    float, bool, datetime, date, time); a column whose values would mix kinds is all str.
    ``json_columns`` name the columns whose cells are compact JSON text (nested values).
    """

    columns: dict[str, list[object]]
    json_columns: tuple[str, ...]
    shown_rows: int
    total_rows: int


# ---------------------------------------------------------------------------------------------
# Shaping


def shape_result(raw: object, method: QueryMethod, max_kept_rows: int,
                 implicit_limit: int = 0) -> ShapedResult:
    """Keep at most ``max_kept_rows`` rows of what ``method`` returned (slicing, no copying).

    ``implicit_limit``: the row bound the server was asked for; a many-result that reaches it
    was cut by the server (``more_rows``). A JSON method keeps its original text only when it
    holds exactly the kept rows and is not too large."""
    if max_kept_rows < 0:
        raise ValueError(f"max_kept_rows must be >= 0, got {max_kept_rows}")
    json_text: str | None = None
    value = raw
    if method.returns_json:
        if not isinstance(raw, str):
            raise TypeError(f"{method.value}() returns a str of JSON, got {type(raw).__name__}")
        json_text = raw if len(raw) <= MAX_JSON_TEXT_CHARS else None
        value = json.loads(raw, parse_float=decimal.Decimal)
    if method.returns_many:
        if method.returns_json and isinstance(value, dict):
            # The server's JSON for ``analyze`` is the plan document itself, one object, even
            # through query_json (recorded on 5.8): it is the result's one row, and the text
            # the driver returned is that row's.
            value = [value]
        elif not isinstance(value, list):
            if method.returns_json or value is None:
                raise TypeError(
                    f"{method.value}() returned a non-array: {type(value).__name__}. The "
                    "server's answer is not a set of rows: run the query with another "
                    "cardinality or JSON off.")
            value = list(value)  # type: ignore[call-overload]
        total = len(value)
        more = 0 < implicit_limit <= total
        kept = value if total <= max_kept_rows else value[:max_kept_rows]
        if len(kept) < total:
            json_text = None
        return ShapedResult(method, kept, json_text, total, len(kept), more_rows=more)
    rows = 0 if value is None else 1
    return ShapedResult(method, value, json_text, rows, rows)


def _rows_of(result: ShapedResult) -> list[Row]:
    value = result.value
    if result.method.returns_many:
        return value  # type: ignore[return-value]  # shape_result guarantees a list
    return [] if value is None else [value]


# ---------------------------------------------------------------------------------------------
# Object layouts: which pointers an object shows, and how to read each


@dataclass(frozen=True)
class _Layout:
    """The shown names of a record kind and one getter per name, in display order."""

    names: tuple[str, ...]
    getters: tuple[Getter, ...]

    def getter_for(self, name: str) -> Getter | None:
        try:
            return self.getters[self.names.index(name)]
        except ValueError:
            return None


# Keyed by the driver's record descriptor: every object a codec decodes shares one, so the
# cache holds one entry per result shape. Bounded (cleared when full) because a long-running
# server sees endless shapes; a dict get/set is atomic under the GIL, so threads may share it.
_OBJECT_LAYOUTS: dict[object, _Layout] = {}
_OBJECT_LAYOUTS_MAX = 512


def _object_layout(obj: Any) -> _Layout:
    desc = gel_datatypes.get_object_descriptor(obj)
    layout = _OBJECT_LAYOUTS.get(desc)
    if layout is None:
        fields = [f.name for f in dataclasses.fields(obj)]
        shown = [name for name in fields if not desc.is_implicit(name)] or fields
        # Link properties are not dataclass fields; the descriptor lists them as "@name".
        link_props = sorted((n for n in dir(desc) if n.startswith("@")), key=desc.get_pos)
        layout = _Layout(
            names=(*shown, *link_props),
            getters=(*map(attrgetter, shown), *map(itemgetter, link_props)),
        )
        if len(_OBJECT_LAYOUTS) >= _OBJECT_LAYOUTS_MAX:
            _OBJECT_LAYOUTS.clear()
        _OBJECT_LAYOUTS[desc] = layout
    return layout


def _named_tuple_layout(row: tuple[Any, ...]) -> _Layout:
    names = tuple(str(name) for name in row._fields)  # type: ignore[attr-defined]
    return _Layout(names, tuple(itemgetter(i) for i in range(len(names))))


def _dict_layout(row: dict[Any, Any]) -> _Layout:
    return _Layout(tuple(str(key) for key in row), tuple(itemgetter(key) for key in row))


def _is_named_tuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


# ---------------------------------------------------------------------------------------------
# to_plain


def to_plain(value: object) -> object:
    """``value`` as JSON-able Python (see the module docstring for the rules)."""
    if value is None:
        return None
    return _plain_converter(type(value))(value)


_PLAIN_BY_TYPE: dict[type, Callable[[Any], object]] = {}
_TYPE_CACHE_MAX = 1024  # enum and named-tuple types are created per query shape


def _plain_converter(kind: type) -> Callable[[Any], object]:
    converter = _PLAIN_BY_TYPE.get(kind)
    if converter is None:
        converter = _resolve_plain(kind)
        if len(_PLAIN_BY_TYPE) >= _TYPE_CACHE_MAX:
            _PLAIN_BY_TYPE.clear()
        _PLAIN_BY_TYPE[kind] = converter
    return converter


def _identity(value: object) -> object:
    return value


def _plain_float(value: float) -> object:
    return value if math.isfinite(value) else str(value)


def _iso_time(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


def _plain_enum(value: enum.Enum) -> object:
    return str(value) if isinstance(value, gel.EnumValue) else to_plain(value.value)


def iso_duration(value: datetime.timedelta) -> str:
    """``value`` as the server writes a ``std::duration`` (``PT1H2M3.5S``, ``PT0S``).

    Hours are not folded into days. A negative duration signs every component
    (``PT-1H-30M``), as ``gel.RelativeDuration`` and the server's ``interval_out`` do.
    """
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if not micros:
        return "PT0S"
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    parts = ["PT"]
    if hours:
        parts.append(f"{sign}{hours}H")
    if minutes:
        parts.append(f"{sign}{minutes}M")
    if seconds or fraction:
        frac = f".{fraction:06d}".rstrip("0") if fraction else ""
        parts.append(f"{sign}{seconds}{frac}S")
    return "".join(parts)


def _plain_bytes(value: bytes | bytearray | memoryview) -> str:
    return bytes(value).hex()


def _plain_range(value: gel.Range[Any]) -> dict[str, object]:
    return {
        "lower": to_plain(value.lower),
        "upper": to_plain(value.upper),
        "inc_lower": value.inc_lower,
        "inc_upper": value.inc_upper,
        "empty": value.is_empty(),
    }


def _plain_multi_range(value: gel.MultiRange[Any]) -> list[object]:
    return [to_plain(item) for item in value]


def _plain_object(value: Any) -> dict[str, object]:
    layout = _object_layout(value)
    return {
        name: to_plain(get(value)) for name, get in zip(layout.names, layout.getters, strict=True)
    }


def _plain_named_tuple(value: Any) -> dict[str, object]:
    return {str(name): to_plain(item) for name, item in zip(value._fields, value, strict=True)}


def _plain_list(value: Iterable[object]) -> list[object]:
    return [to_plain(item) for item in value]


def _plain_dict(value: dict[Any, Any]) -> dict[str, object]:
    return {str(key): to_plain(item) for key, item in value.items()}


def _resolve_plain(kind: type) -> Callable[[Any], object]:
    # Order matters: bool before int, enums (IntEnum too) before int and str, named tuples
    # before tuples, datetime before date.
    if issubclass(kind, bool):
        return _identity
    if issubclass(kind, enum.Enum):
        return _plain_enum
    if issubclass(kind, int | str):
        return _identity
    if issubclass(kind, float):
        return _plain_float
    if issubclass(kind, decimal.Decimal | uuid.UUID):
        return str
    if issubclass(kind, datetime.date | datetime.time):
        return _iso_time
    if issubclass(kind, datetime.timedelta):
        return iso_duration
    if issubclass(kind, bytes | bytearray | memoryview):
        return _plain_bytes
    if issubclass(kind, gel.RelativeDuration | gel.DateDuration | gel.ConfigMemory):
        return str
    if issubclass(kind, gel.Range):
        return _plain_range
    if issubclass(kind, gel.MultiRange):
        return _plain_multi_range
    if issubclass(kind, gel.Object):
        return _plain_object
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return _plain_named_tuple
    if issubclass(kind, list | tuple | set | frozenset):
        return _plain_list
    if issubclass(kind, dict):
        return _plain_dict
    return str


# ---------------------------------------------------------------------------------------------
# Compact JSON text for nested cells, built column by column.
#
# Invariant: _json_fragments(values)[i] == _COMPACT_JSON.encode(to_plain(values[i])), with
# "null" for None. The column-wise paths below only avoid per-cell Python calls.


def _quoted_str(value: object) -> str:
    return '"' + str(value) + '"'  # only for ASCII texts JSON never escapes


def _quoted_iso(value: datetime.date | datetime.time) -> str:
    return '"' + value.isoformat() + '"'


def _float_fragment(value: float) -> str:
    return float.__repr__(value) if math.isfinite(value) else '"' + str(value) + '"'


def _bool_fragment(value: bool) -> str:
    return "true" if value else "false"


def _duration_fragment(value: datetime.timedelta) -> str:
    return '"' + iso_duration(value) + '"'


_FRAGMENT_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,
    int: int.__repr__,
    bool: _bool_fragment,
    float: _float_fragment,
    decimal.Decimal: _quoted_str,
    uuid.UUID: _quoted_str,
    _DriverUUID: _quoted_str,
    datetime.datetime: _quoted_iso,
    datetime.date: _quoted_iso,
    datetime.time: _quoted_iso,
    datetime.timedelta: _duration_fragment,
}


def _json_fragments(values: Sequence[object]) -> list[str]:
    kinds = set(map(type, values))
    has_none = _NONE_TYPE in kinds
    kinds.discard(_NONE_TYPE)
    if len(kinds) == 1:
        (kind,) = kinds
        fragment = _FRAGMENT_BY_TYPE.get(kind)
        if fragment is not None:
            if not has_none:
                return list(map(fragment, values))
            return ["null" if v is None else fragment(v) for v in values]
        if kind is gel.Object or kind is list:
            present: Sequence[Any] = [v for v in values if v is not None] if has_none else values
            nested = _object_fragments(present) if kind is gel.Object else _list_fragments(present)
            if nested is not None:
                if not has_none:
                    return nested
                it = iter(nested)
                return ["null" if v is None else next(it) for v in values]
    encode = _COMPACT_JSON.encode
    return ["null" if v is None else encode(to_plain(v)) for v in values]


def _object_fragments(objects: Sequence[Any]) -> list[str] | None:
    """One JSON text per object when they all share one shape, else None."""
    get_desc = gel_datatypes.get_object_descriptor
    shape = get_desc(objects[0])
    if not all(get_desc(o) is shape for o in objects):
        return None
    layout = _object_layout(objects[0])
    if not layout.names:
        return ["{}"] * len(objects)
    parts = [_json_fragments(list(map(get, objects))) for get in layout.getters]
    keys = (encode_basestring(name).replace("%", "%%") for name in layout.names)
    template = "{" + ",".join(key + ":%s" for key in keys) + "}"
    return [template % row for row in zip(*parts, strict=True)]


def _list_fragments(lists: Sequence[list[object]]) -> list[str]:
    """One JSON array per list: encode all items in one pass, then cut them back apart."""
    flat = [item for items in lists for item in items]
    fragments = _json_fragments(flat)
    out: list[str] = []
    start = 0
    for items in lists:
        end = start + len(items)
        out.append("[" + ",".join(fragments[start:end]) + "]")
        start = end
    return out


# ---------------------------------------------------------------------------------------------
# Table cells

_NATIVE = "native"  # kept as is: pandas and Arrow take them
_TEXT = "text"  # one scalar shown as its text
_NESTED = "nested"  # shown as compact JSON text

_NATIVE_TYPES = (str, int, float, bool, datetime.date, datetime.time)
_NESTED_TYPES = (gel.Object, list, tuple, dict, set, frozenset, gel.Range, gel.MultiRange)


def _cell_kind(kind: type) -> str:
    if issubclass(kind, enum.Enum):
        return _TEXT
    if issubclass(kind, _NATIVE_TYPES):
        return _NATIVE
    if issubclass(kind, _NESTED_TYPES):
        return _NESTED
    return _TEXT


def _cell_text(value: object) -> str:
    plain = to_plain(value)
    return plain if isinstance(plain, str) else str(plain)


def _scalar_text(value: object) -> str:
    """A scalar as text in a column that mixes kinds; dates stay ISO like elsewhere."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return _cell_text(value)


_TEXT_BY_TYPE: dict[type, Callable[[Any], str]] = {
    uuid.UUID: str,
    _DriverUUID: str,
    decimal.Decimal: str,
    datetime.timedelta: iso_duration,
    bytes: bytes.hex,
}


def _outside_int64(values: Sequence[object]) -> bool:
    ints = [v for v in values if type(v) is int]
    return bool(ints) and (min(ints) < _INT64_MIN or max(ints) > _INT64_MAX)


def _cell_column(values: list[object]) -> tuple[list[object], bool]:
    """Cells for one column and whether they are JSON text."""
    kinds = set(map(type, values))
    has_none = _NONE_TYPE in kinds
    kinds.discard(_NONE_TYPE)
    if not kinds:
        return values, False
    categories = {_cell_kind(kind) for kind in kinds}
    if _NESTED in categories:
        fragments = _json_fragments(values)
        if not has_none:
            return fragments, True  # type: ignore[return-value]
        return [None if v is None else f for v, f in zip(values, fragments, strict=True)], True
    if categories == {_NATIVE}:
        # int + float is one numeric column; ints beyond int64 would overflow Arrow.
        numeric = kinds <= {int, float}
        if (numeric or len(kinds) == 1) and not (int in kinds and _outside_int64(values)):
            return values, False
        convert: Callable[[Any], str] = str if numeric else _scalar_text
    elif len(kinds) == 1:
        (kind,) = kinds
        convert = _TEXT_BY_TYPE.get(kind, _cell_text)
    else:
        convert = _scalar_text
    if not has_none:
        return list(map(convert, values)), False
    return [None if v is None else convert(v) for v in values], False


def _record_columns(rows: list[Row]) -> dict[str, list[object]] | None:
    """Columns per record field (objects, named tuples, dicts), or None if rows are not records.

    Rows of one shape (the normal case) are read column by column; otherwise the columns are
    the union of the shapes' names (regular names in first-seen order, then link properties)
    and a row lacking a name (or a None row) gives None there.
    """
    first = rows[0]
    if type(first) is gel.Object:
        get_desc = gel_datatypes.get_object_descriptor
        shape = get_desc(first)
        if all(type(r) is gel.Object and get_desc(r) is shape for r in rows):
            return _read_columns(_object_layout(first), rows)
    elif _is_named_tuple(first):
        kind = type(first)
        if all(type(r) is kind for r in rows):
            return _read_columns(_named_tuple_layout(first), rows)
    elif type(first) is dict:
        keys = first.keys()
        if all(type(r) is dict and r.keys() == keys for r in rows):
            return _read_columns(_dict_layout(first), rows)
    return _mixed_record_columns(rows)


def _read_columns(layout: _Layout, rows: list[Row]) -> dict[str, list[object]]:
    return {
        name: list(map(get, rows)) for name, get in zip(layout.names, layout.getters, strict=True)
    }


def _row_layout(row: Row) -> _Layout | None:
    if isinstance(row, gel.Object):
        return _object_layout(row)
    if _is_named_tuple(row):
        return _named_tuple_layout(row)
    if isinstance(row, dict):
        return _dict_layout(row)
    return None


def _mixed_record_columns(rows: list[Row]) -> dict[str, list[object]] | None:
    layouts: list[_Layout | None] = []
    for row in rows:
        layout = None if row is None else _row_layout(row)
        if layout is None and row is not None:
            return None
        layouts.append(layout)
    names: dict[str, None] = {}
    for layout in layouts:
        if layout is not None:
            names.update(dict.fromkeys(n for n in layout.names if not n.startswith("@")))
    for layout in layouts:
        if layout is not None:
            names.update(dict.fromkeys(n for n in layout.names if n.startswith("@")))
    columns: dict[str, list[object]] = {}
    for name in names:
        column: list[object] = []
        for row, layout in zip(rows, layouts, strict=True):
            get = None if layout is None else layout.getter_for(name)
            column.append(None if get is None else get(row))
        columns[name] = column
    return columns


def _raw_columns(rows: list[Row]) -> dict[str, list[object]]:
    if not rows:
        return {}
    first = next((r for r in rows if r is not None), None)
    if first is not None and (isinstance(first, gel.Object | dict) or _is_named_tuple(first)):
        columns = _record_columns(rows)
        if columns is not None:
            return columns
    return {"value": list(rows)}


def record_columns(result: ShapedResult, limit: int) -> dict[str, list[object]]:
    """The first ``limit`` kept rows as columns of the driver's own values (no conversion):
    the columns ``table_data`` shows, for code that needs the values' types (charts)."""
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return _raw_columns(_rows_of(result)[:limit])


def table_data(result: ShapedResult, limit: int) -> TableData:
    """The first ``limit`` kept rows as columns of cells st.dataframe shows without fuss.

    Records (objects, named tuples, JSON objects) get one column per field, link properties
    as ``@name`` columns; anything else one column ``value``. Nested values are compact JSON
    text (listed in ``json_columns``); see ``TableData`` for the scalar cells.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    rows = _rows_of(result)
    if len(rows) > limit:
        rows = rows[:limit]
    columns: dict[str, list[object]] = {}
    json_columns: list[str] = []
    for name, values in _raw_columns(rows).items():
        cells, is_json = _cell_column(values)
        columns[name] = cells
        if is_json:
            json_columns.append(name)
    return TableData(columns, tuple(json_columns), len(rows), result.total_rows)


# ---------------------------------------------------------------------------------------------
# Downloads and the driver's text


def to_json_text(result: ShapedResult) -> str:
    """All kept rows as pretty JSON (``to_plain``); JSON methods keep their exact numbers."""
    if result.method.returns_json:
        return _dump_parsed_json(result.value, indent=2)
    return json.dumps(to_plain(result.value), indent=2, ensure_ascii=False)


def to_csv_text(result: ShapedResult) -> str:
    """All kept rows as CSV: the columns of ``table_data``; None is an empty cell."""
    table = table_data(result, limit=result.kept_rows)
    if not table.columns:
        return ""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    cells = [_csv_column(column) for column in table.columns.values()]
    writer.writerows(zip(*cells, strict=True))
    return out.getvalue()


def _csv_column(column: list[object]) -> list[object]:
    # csv writes str(value): dates would get a space instead of ISO's "T".
    if any(isinstance(v, datetime.date | datetime.time) for v in column):
        return [
            v.isoformat() if isinstance(v, datetime.date | datetime.time) else v for v in column
        ]
    return column


def driver_text(result: ShapedResult, limit: int) -> str:
    """The driver's own text: JSON methods their JSON, others ``repr`` of each row.

    Many-methods give one row per line, at most ``limit`` rows; an empty set is ``[]``. JSON
    methods give the driver's text when it holds at most ``limit`` rows and was kept; otherwise
    the first ``limit`` rows are written again.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    value = result.value
    if result.method.returns_json:
        if isinstance(value, list) and len(value) > limit:
            return _dump_parsed_json(value[:limit], indent=None)
        if result.json_text is not None:
            return result.json_text
        return _dump_parsed_json(value, indent=None)
    if not result.method.returns_many:
        return repr(value)
    rows: list[Row] = value  # type: ignore[assignment]  # shape_result guarantees a list
    if not rows:
        return "[]"
    return "\n".join(map(repr, rows[:limit]))


def _dump_parsed_json(value: object, indent: int | None) -> str:
    """JSON text for parsed JSON (dict, list, str, int, Decimal, bool, None).

    Unlike ``json.dumps`` it writes a ``Decimal`` as the number it is, digit for digit.
    """
    out: list[str] = []
    _write_json(value, out, indent, 0)
    return "".join(out)


def _write_json(value: object, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(value, decimal.Decimal):
        out.append(str(value) if value.is_finite() else '"' + str(value) + '"')
        return
    if not isinstance(value, dict | list):
        out.append(_COMPACT_JSON.encode(to_plain(value)))
        return
    items: Iterable[tuple[str | None, object]] = (
        ((str(k), v) for k, v in value.items())
        if isinstance(value, dict)
        else ((None, v) for v in value)
    )
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    if not value:
        out.append(opening + closing)
        return
    if indent is None:
        newline, inner_pad, outer_pad, colon = "", "", "", ":"
    else:
        newline = "\n"
        inner_pad = " " * (indent * (level + 1))
        outer_pad = " " * (indent * level)
        colon = ": "
    out.append(opening)
    for i, (key, item) in enumerate(items):
        out.append(("," if i else "") + newline + inner_pad)
        if key is not None:
            out.append(encode_basestring(key) + colon)
        _write_json(item, out, indent, level + 1)
    out.append(newline + outer_pad + closing)


# ---------------------------------------------------------------------------------------------
# What a kept result weighs (``max_kept_bytes``)
#
# The implicit limit bounds rows, not bytes: one row can hold an ``array_agg`` or a string of
# any size. ``estimated_bytes`` sizes the data cheaply: column by column (as ``table_data``
# reads rows), a column of one scalar kind in one C-level pass (``sum(map(len, ...))``, or a
# fixed size times its length), long sequences in chunks, and it stops as soon as the count
# passes the budget, so an oversized result costs at most about the budget's worth of walking.

_CHUNK = 65_536  # items walked per step: the budget is checked between steps
_FIXED_BYTES: dict[type, int] = {
    _NONE_TYPE: 0, bool: 1, int: 8, float: 8, decimal.Decimal: 16, uuid.UUID: 16,
    _DriverUUID: 16, datetime.datetime: 8, datetime.date: 4, datetime.time: 8,
    datetime.timedelta: 8,
}
_OTHER_BYTES = 16  # enums, durations, ranges' bounds of other kinds, anything else


@dataclass(frozen=True)
class ResultNotKept:
    """A result over ``max_kept_bytes``: the run keeps its metadata, not its rows."""

    rows: int
    more_rows: bool
    at_least_bytes: int  # where the estimate stopped counting: past the budget
    max_kept_bytes: int

    def message(self) -> str:
        """What the page says (plain text made of numbers only)."""
        rows = f"{'more than ' if self.more_rows else ''}{self.rows:,} row" + (
            "" if self.rows == 1 and not self.more_rows else "s")
        return (f"The result ({rows}) was at least {_megabytes(self.at_least_bytes)}, over the "
                f"{_megabytes(self.max_kept_bytes)} a session keeps per result "
                "(max_kept_bytes), so it was not kept. Narrow the query: fewer rows or "
                "properties, a filter or a limit.")


def _megabytes(count: int) -> str:
    """``count`` bytes in MB (KB, bytes for small settings), one decimal at most."""
    for unit, size in (("MB", 1_000_000), ("KB", 1_000)):
        if count >= size:
            return f"{count / size:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{count:,} bytes"


def within_byte_budget(result: ShapedResult, max_kept_bytes: int
                       ) -> ShapedResult | ResultNotKept:
    """``result`` when its estimated size (its kept rows, plus a JSON method's kept text) is
    at most ``max_kept_bytes``; else what the run keeps instead. Called after shaping."""
    text_bytes = len(result.json_text or "")
    size = text_bytes + estimated_bytes(result.value, max_kept_bytes - text_bytes)
    if size <= max_kept_bytes:
        return result
    return ResultNotKept(result.total_rows, result.more_rows, size, max_kept_bytes)


def estimated_bytes(value: object, budget: int) -> int:
    """The data in ``value`` in bytes, estimated: characters of text, bytes of binary, a fixed
    size per number, date or uuid (8, 16 ...), containers the sum of their items. Counting
    stops once past ``budget``: a result over it returns a lower bound above ``budget``."""
    estimate = _Estimate(budget)
    estimate.values([value])
    return estimate.total


class _Estimate:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.total = 0

    @property
    def over(self) -> bool:
        return self.total > self.budget

    def values(self, values: Sequence[object]) -> None:
        """Add a column (or list) of values: grouped by type, each group in one pass."""
        if len(values) > _CHUNK:
            for start in range(0, len(values), _CHUNK):
                self.values(values[start:start + _CHUNK])
                if self.over:
                    return
            return
        kinds = set(map(type, values))
        if len(kinds) == 1:
            self._group(kinds.pop(), values)
            return
        groups: dict[type, list[object]] = {}
        for item in values:
            groups.setdefault(type(item), []).append(item)
        for kind, group in groups.items():
            self._group(kind, group)
            if self.over:
                return

    def _group(self, kind: type, group: Sequence[Any]) -> None:
        if self.over:
            return
        fixed = _FIXED_BYTES.get(kind)
        if fixed is not None:
            self.total += fixed * len(group)
        elif issubclass(kind, str | bytes | bytearray | memoryview) and \
                not issubclass(kind, enum.Enum):
            self.total += sum(map(len, group))
        elif issubclass(kind, gel.Object):
            self._objects(group)
        elif _is_named_tuple_type(kind):
            for index in range(len(kind._fields)):  # type: ignore[attr-defined]
                self.values(list(map(itemgetter(index), group)))
                if self.over:
                    return
        elif issubclass(kind, dict):
            for items in group:
                self.total += sum(len(str(key)) for key in items)
                self.values(list(items.values()))
                if self.over:
                    return
        elif issubclass(kind, list | tuple | set | frozenset | gel.MultiRange):
            self._items(group)
        elif issubclass(kind, gel.Range):
            self.values([bound for r in group for bound in (r.lower, r.upper)])
        else:
            base = next((size for base, size in _FIXED_BYTES.items() if issubclass(kind, base)),
                        _OTHER_BYTES)  # subclasses (IntEnum, datetime kinds), then the rest
            self.total += base * len(group)

    def _objects(self, objects: Sequence[Any]) -> None:
        descs = list(map(gel_datatypes.get_object_descriptor, objects))
        shapes: dict[object, list[Any]] = {}
        if len(set(descs)) == 1:  # the usual case: one shape, no regrouping
            shapes[descs[0]] = list(objects)
        else:
            for desc, obj in zip(descs, objects, strict=True):
                shapes.setdefault(desc, []).append(obj)
        for same_shape in shapes.values():
            for get in _object_layout(same_shape[0]).getters:
                self.values(list(map(get, same_shape)))
                if self.over:
                    return

    def _items(self, containers: Sequence[Any]) -> None:
        """Items of many small containers walked together; a long one on its own."""
        batch: list[object] = []
        for container in containers:
            if len(container) >= _CHUNK:
                self.values(container if isinstance(container, list | tuple)
                            else list(container))
            else:
                batch.extend(container)
                if len(batch) >= _CHUNK:
                    self.values(batch)
                    batch = []
            if self.over:
                return
        self.values(batch)


def _is_named_tuple_type(kind: type) -> bool:
    return issubclass(kind, tuple) and hasattr(kind, "_fields")
