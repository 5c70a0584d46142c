r"""One input parser per parameter type: widget text (or a checkbox bool) to a driver value.

The typed form shows one input per query parameter (see `ecc.arguments.params`). `parse_param_value`
turns what the widget holds into the exact Python value the gel driver encodes for that type,
or raises `ParamValueError` naming the parameter (and the element, `$tags[2]`, `$p.x`) and
saying how to fix the input. `value_to_text` is its inverse, to refill widgets from a saved
value (history, shareable links): `parse_param_value(p, value_to_text(p, v)) == v`.

What each type takes (surrounding blanks are ignored except for `str`):

    str                   the text exactly as typed
    bool                  the checkbox, or true/false, yes/no, on/off, 1/0
    int16/int32/int64     whole numbers (1_000, -7, +3), range-checked; bigint: any, <= 4000 digits
    float32/float64       3.14, -2.5e-3, nan, inf; float32 is range-checked
    decimal               12.50 (finite only: Gel decimals have no NaN)
    uuid                  9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41
    datetime              ISO 8601 with an offset: 2024-05-01T12:00:00Z, ...+02:00
    cal::local_*          ISO 8601 without an offset: 2024-05-01, 12:30:00, 2024-05-01T12:30
    duration              PT1H30M, 1 hour 30 minutes, 1h 30m, 90 s (no days/months/years)
    cal::relative_duration, cal::date_duration   P1Y2M3D, 1 year 2 months 3 days
    json                  any JSON text; it is validated and sent as typed
    bytes                 hex digits (68656c6c6f, 0x prefix allowed) or a byte string b'..'
    enum                  one of its labels (when the server described them)
    range<T>              [lower, upper) with [ ] ( ), a blank bound for unbounded, or empty
    array<T>              a list literal [a, b] or one element a line
    tuple<...>            a tuple literal (1, 'a'); named tuples also {x: 1.5, y: 2}

List and tuple literals are read by `ecc.arguments.arglang` (the console's safe literal language);
each
element is then checked by its type's parser, and a quoted string is read by that parser too
(`['2024-05-01T00:00:00Z']` fits `array<datetime>`).

What the driver accepts, from its codecs (gel 3.1.0, `gel/protocol/codecs/*.pyx`): a tuple
argument must be a sized sequence of the right length; a named tuple argument may be a
sequence in field order, a namedtuple, or a dict keyed by field name (`BaseNamedRecordCodec.
encode`). Named tuples are returned here as dicts in field order. `json` is sent as `str`,
`datetime` must be timezone-aware, `cal::local_*` naive, `duration` a `timedelta`, the cal
durations `gel.RelativeDuration`/`gel.DateDuration`, ranges `gel.Range`.

Exceptions::

    ValueError
     └── ParamValueError   bad input for one parameter; str(e) is "$name: message"
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import gel

from ecc.arguments import arglang
from ecc.arguments.arglang import _show
from ecc.arguments.params import ParamType, QueryParameter

__all__ = [
    "ParamValueError", "RawValue", "is_blank", "parse_param_value", "value_to_text",
]

RawValue = str | bool | None


class ParamValueError(ValueError):
    """The input for one parameter is not a valid value of its type.

    `parameter` is the name without `$`, extended with the element path when an element is at
    fault (`tags[2]`, `p.x`); `message` says what is wrong and what to write instead.
    """

    parameter: str
    message: str

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"${parameter}: {message}")
        self.parameter = parameter
        self.message = message

    def __reduce__(self) -> tuple[type[ParamValueError], tuple[str, str]]:
        return (type(self), (self.parameter, self.message))


class _Invalid(Exception):
    """Internal: what is wrong, and where below the parameter (`[2]`, `.x`)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def under(self, step: str) -> _Invalid:
        return _Invalid(self.message, step + self.path)


# ---------------------------------------------------------------------------------------------
# Scalars: text parsers (str -> value) and value checkers (any literal value -> value)

_INT_BOUNDS = {
    "std::int16": (-(2**15), 2**15 - 1),
    "std::int32": (-(2**31), 2**31 - 1),
    "std::int64": (-(2**63), 2**63 - 1),
}
_MAX_DIGITS = 4000
_FLOAT32_MAX = 3.4028235e38
# Postgres numeric (what Gel decimals are stored as) limits, as adjusted exponents.
_DECIMAL_MAX_EXPONENT = 131071
_DECIMAL_MIN_EXPONENT = -16383
_INTEGER_RE = re.compile(r"[+-]?[0-9](?:_?[0-9])*")
_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})
_LABEL_RE = re.compile(r"[^\W\d]\w*")


def _parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Invalid(f"{_show(text)} is not a boolean: write true or false")


def _parse_whole(text: str, type_name: str) -> int:
    stripped = text.strip()
    if type_name == "std::bigint" and stripped.endswith("n"):
        stripped = stripped[:-1]  # EdgeQL's bigint literal suffix
    if not _INTEGER_RE.fullmatch(stripped):
        raise _Invalid(
            f"{_show(text)} is not a whole number: write digits like 42 or -7 "
            "(underscores between digits are fine: 1_000)"
        )
    digits = len(stripped) - stripped.count("_") - (stripped[0] in "+-")
    if digits > _MAX_DIGITS:
        raise _Invalid(f"the number has {digits} digits; at most {_MAX_DIGITS} are accepted")
    return _check_whole(int(stripped), type_name)


def _check_whole(value: int, type_name: str) -> int:
    bounds = _INT_BOUNDS.get(type_name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        low, high = bounds
        shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:27]}..."
        short = type_name.removeprefix("std::")
        raise _Invalid(f"{shown} is out of range for {short} ({low}..{high})")
    if type_name == "std::bigint" and len(str(abs(value))) > _MAX_DIGITS:
        raise _Invalid(f"the number has more than {_MAX_DIGITS} digits")
    return value


def _parse_float(text: str, type_name: str) -> float:
    stripped = text.strip()
    try:
        if not stripped.isascii():
            raise ValueError(stripped)
        value = float(stripped)
    except ValueError:
        raise _Invalid(
            f"{_show(text)} is not a number: write it like 3.14, -2.5e-3, 1e10, nan or inf"
        ) from None
    if math.isinf(value) and "inf" not in stripped.lower():
        raise _Invalid(f"{_show(text)} is out of range for {type_name.removeprefix('std::')}")
    return _check_float(value, type_name)


def _check_float(value: float, type_name: str) -> float:
    if type_name == "std::float32" and math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        raise _Invalid(
            f"{value!r} is out of range for float32 (largest magnitude {_FLOAT32_MAX!r})"
        )
    return value


def _parse_decimal(text: str) -> decimal.Decimal:
    stripped = text.strip()
    try:
        if not stripped.isascii():
            raise decimal.InvalidOperation(stripped)
        value = decimal.Decimal(stripped)
    except decimal.InvalidOperation:
        raise _Invalid(f"{_show(text)} is not a decimal number: write it like 12.50") from None
    return _check_decimal(value)


def _check_decimal(value: decimal.Decimal) -> decimal.Decimal:
    if not value.is_finite():
        raise _Invalid(f"{value} is not allowed: a Gel decimal cannot be NaN or infinite")
    if len(value.as_tuple().digits) > _MAX_DIGITS:
        raise _Invalid(f"the decimal has more than {_MAX_DIGITS} digits")
    if value and not _DECIMAL_MIN_EXPONENT <= value.adjusted() <= _DECIMAL_MAX_EXPONENT:
        raise _Invalid(f"{value:.3e} is out of range for a Gel decimal")
    return value


def _parse_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise _Invalid(
            f"{_show(text)} is not a UUID: write 32 hex digits like "
            "9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41"
        ) from None


_Temporal = TypeVar("_Temporal", dt.datetime, dt.date, dt.time)
_Local = TypeVar("_Local", dt.datetime, dt.time)  # the cal:: types with a clock


def _iso(text: str, parse: Callable[[str], _Temporal], example: str, what: str) -> _Temporal:
    stripped = text.strip()
    try:
        return parse(stripped)
    except ValueError:
        raise _Invalid(f"{_show(text)} is not {what}: write it like {example}") from None


def _parse_datetime(text: str) -> dt.datetime:
    return _check_datetime(
        _iso(text, dt.datetime.fromisoformat, "2024-05-01T12:30:00Z", "a date and time"))


def _check_datetime(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        shown = value.isoformat()
        raise _Invalid(
            f"{shown} has no UTC offset, and a datetime is a point in time: add one, like "
            f"{shown}Z (UTC) or {shown}+02:00"
        )
    return value


def _parse_local_datetime(text: str) -> dt.datetime:
    return _check_local_datetime(
        _iso(text, dt.datetime.fromisoformat, "2024-05-01T12:30:00", "a date and time"))


def _check_local_datetime(value: dt.datetime) -> dt.datetime:
    return _without_offset(value, "cal::local_datetime",
                           "remove the offset (or cast to datetime in the query)")


def _parse_local_date(text: str) -> dt.date:
    return _iso(text, dt.date.fromisoformat, "2024-05-01", "a date")


def _parse_local_time(text: str) -> dt.time:
    return _check_local_time(_iso(text, dt.time.fromisoformat, "12:30:00", "a time of day"))


def _check_local_time(value: dt.time) -> dt.time:
    return _without_offset(value, "cal::local_time", "remove the offset")



def _without_offset(value: _Local, type_name: str, fix: str) -> _Local:
    """``value`` of a ``cal::`` type, which has no time zone: one with a UTC offset is refused."""
    if value.tzinfo is not None:
        raise _Invalid(
            f"{value.isoformat()} has a UTC offset, but {type_name} has no time zone: {fix}"
        )
    return value


def _via_constructor(constructor: str, text: str) -> object:
    """Durations share one grammar with the argument language: its constructor reads them."""
    try:
        return arglang.parse_value(f"{constructor}({arglang.render_literal(text.strip())})")
    except arglang.ArgParseError as exc:
        raise _Invalid(exc.message) from None
    except ValueError as exc:  # render_literal: a character the language cannot quote
        raise _Invalid(f"{_show(text)} cannot be read: {exc}") from None


def _parse_duration(text: str) -> dt.timedelta:
    value = _via_constructor("duration", text)
    assert isinstance(value, dt.timedelta)
    return value


def _parse_relative_duration(text: str) -> gel.RelativeDuration:
    value = _via_constructor("relative_duration", text)
    assert isinstance(value, gel.RelativeDuration)
    return value


def _parse_date_duration(text: str) -> gel.DateDuration:
    value = _via_constructor("date_duration", text)
    assert isinstance(value, gel.DateDuration)
    return value


def _reject_json_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str) -> str:
    try:
        json.loads(text, parse_constant=_reject_json_constant)
    except json.JSONDecodeError as exc:
        raise _Invalid(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}); "
            'a JSON string needs double quotes, like "text"'
        ) from None
    except RecursionError:
        raise _Invalid("not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise _Invalid(f"not valid JSON: {exc}") from None
    return text  # sent exactly as typed


def _check_json(value: object) -> str:
    if isinstance(value, str):
        return _parse_json(value)
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _Invalid(f"cannot be sent as JSON: {exc}") from None


_HEX_JUNK_RE = re.compile(r"[\s_:]+")


def _parse_bytes(text: str) -> bytes:
    stripped = text.strip()
    if stripped[:2] in ("b'", 'b"'):
        value = _literal(stripped)
        if isinstance(value, bytes):
            return value
    digits = _HEX_JUNK_RE.sub("", stripped)
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    try:
        if not digits.isascii():
            raise ValueError(digits)
        return bytes.fromhex(digits)
    except ValueError:
        raise _Invalid(
            f"{_show(text)} is not hex: write pairs of hex digits like 68656c6c6f "
            "(0x prefix and spaces allowed), or a byte string b'hello'"
        ) from None


_TEXT_PARSERS: dict[str, Callable[[str], object]] = {
    "std::str": lambda text: text,
    "std::bool": _parse_bool,
    "std::int16": lambda text: _parse_whole(text, "std::int16"),
    "std::int32": lambda text: _parse_whole(text, "std::int32"),
    "std::int64": lambda text: _parse_whole(text, "std::int64"),
    "std::bigint": lambda text: _parse_whole(text, "std::bigint"),
    "std::float32": lambda text: _parse_float(text, "std::float32"),
    "std::float64": lambda text: _parse_float(text, "std::float64"),
    "std::decimal": _parse_decimal,
    "std::uuid": _parse_uuid,
    "std::datetime": _parse_datetime,
    "cal::local_datetime": _parse_local_datetime,
    "cal::local_date": _parse_local_date,
    "cal::local_time": _parse_local_time,
    "std::duration": _parse_duration,
    "cal::relative_duration": _parse_relative_duration,
    "cal::date_duration": _parse_date_duration,
    "std::json": _parse_json,
    "std::bytes": _parse_bytes,
}


def _wrong_kind(value: object, label: str) -> _Invalid:
    shown = _show(repr(value)) if not isinstance(value, str) else _show(value)
    return _Invalid(f"expected {label}, got {type(value).__name__} {shown}")


def _check_scalar(type_name: str, label: str, value: object) -> object:
    """A literal value (from a list or tuple) as the scalar `type_name`.

    A string is read by the type's text parser, so `'2024-05-01'` works for a local_date;
    other values must already have the right Python type.
    """
    if isinstance(value, str) and type_name != "std::str":
        return _TEXT_PARSERS[type_name](value)
    if type_name == "std::str":
        if isinstance(value, str):
            return value
    elif type_name == "std::bool":
        if isinstance(value, bool):
            return value
    elif type_name in _INT_BOUNDS or type_name == "std::bigint":
        if isinstance(value, int) and not isinstance(value, bool):
            return _check_whole(int(value), type_name)
    elif type_name in ("std::float32", "std::float64"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _check_float(float(value), type_name)
    elif type_name == "std::decimal":
        if isinstance(value, decimal.Decimal):
            return _check_decimal(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return _check_decimal(decimal.Decimal(value))
        if isinstance(value, float):  # the shortest repr, not the binary expansion
            return _check_decimal(decimal.Decimal(repr(value)))
    elif type_name == "std::uuid":
        if isinstance(value, uuid.UUID):
            return value
    elif type_name == "std::datetime":
        if isinstance(value, dt.datetime):
            return _check_datetime(value)
    elif type_name == "cal::local_datetime":
        if isinstance(value, dt.datetime):
            return _check_local_datetime(value)
    elif type_name == "cal::local_date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
    elif type_name == "cal::local_time":
        if isinstance(value, dt.time):
            return _check_local_time(value)
    elif type_name == "std::duration":
        if isinstance(value, dt.timedelta):
            return value
    elif type_name == "cal::relative_duration":
        if isinstance(value, gel.RelativeDuration):
            return value
    elif type_name == "cal::date_duration":
        if isinstance(value, gel.DateDuration):
            return value
    elif type_name == "std::json":
        return _check_json(value)
    elif type_name == "std::bytes" and isinstance(value, bytes | bytearray):
        return bytes(value)
    raise _wrong_kind(value, label)


# ---------------------------------------------------------------------------------------------
# Dispatch by type


def _scalar_name(ptype: ParamType) -> str | None:
    """The built-in scalar whose parser reads `ptype`, following custom scalars to their base."""
    seen = 0
    while ptype.kind == "scalar" and seen < 64:
        if ptype.name in _TEXT_PARSERS:
            return ptype.name
        if not ptype.elements:
            return None
        ptype = ptype.elements[0]
        seen += 1
    return None


def _is_verbatim(ptype: ParamType) -> bool:
    """Types whose text is the value itself, blanks included: str and its kin."""
    if ptype.kind == "unknown":
        return True
    if ptype.kind != "scalar":
        return False
    name = _scalar_name(ptype)
    return name is None or name == "std::str"


def _literal(text: str) -> object:
    try:
        return arglang.parse_value(text)
    except arglang.ArgParseError as exc:
        raise _Invalid(str(exc)) from None


def _from_text(ptype: ParamType, text: str) -> object:
    """Read `text` typed into the input for `ptype`."""
    kind = ptype.kind
    if kind == "scalar":
        name = _scalar_name(ptype)
        return text if name is None else _TEXT_PARSERS[name](text)
    if kind == "enum":
        return _check_enum(ptype, text.strip())
    if kind == "array":
        return _array_from_text(ptype, text)
    if kind == "range":
        return _range_from_text(ptype, text)
    if kind in ("tuple", "named_tuple"):
        stripped = text.strip()
        if not stripped.startswith(("(", "{", "[")):
            example = "{x: 1.5, y: 2}" if kind == "named_tuple" else "(1, 'a')"
            raise _Invalid(f"write a tuple in parentheses, like {example}")
        return _from_value(ptype, _literal(stripped))
    return text  # unknown: a custom scalar or enum the server has not described


def _from_value(ptype: ParamType, value: object) -> object:
    """Check a literal value (from `ecc.arguments.arglang`) against `ptype` and convert it."""
    if value is None:
        raise _Invalid("null is not allowed here: array and tuple elements cannot be empty")
    kind = ptype.kind
    if kind == "scalar":
        name = _scalar_name(ptype)
        if name is None:
            if isinstance(value, str):
                return value
            raise _wrong_kind(value, f"{ptype.label()} (as a string)")
        return _check_scalar(name, ptype.label(), value)
    if kind == "enum":
        if isinstance(value, enum.Enum):
            value = value.value
        if not isinstance(value, str):
            raise _wrong_kind(value, f"a {ptype.label()} label")
        return _check_enum(ptype, value)
    if kind == "array":
        if not isinstance(value, list):
            raise _wrong_kind(value, "a list like [a, b]")
        return [_element(ptype.elements[0], item, f"[{i}]") for i, item in enumerate(value)]
    if kind == "tuple":
        return _tuple_from_value(ptype, value)
    if kind == "named_tuple":
        return _named_tuple_from_value(ptype, value)
    if kind == "range":
        if isinstance(value, str):
            return _range_from_text(ptype, value)
        if not isinstance(value, gel.Range):
            raise _wrong_kind(value, "a range like '[1, 10)'")
        return _check_range(ptype, value)
    if isinstance(value, str):
        return value
    raise _wrong_kind(value, f"{ptype.label()} (as a string)")


def _element(ptype: ParamType, value: object, step: str) -> object:
    try:
        return _from_value(ptype, value)
    except _Invalid as exc:
        raise exc.under(step) from None


def _check_enum(ptype: ParamType, label: str) -> str:
    members = ptype.enum_members
    if members and label not in members:
        near = [m for m in members if m.lower() == label.lower()]
        hint = f"did you mean {near[0]}? " if near else ""
        shown = ", ".join(members[:12]) + (", ..." if len(members) > 12 else "")
        raise _Invalid(f"{_show(label)} is not a {ptype.label()}: {hint}choose one of {shown}")
    if not members and not _LABEL_RE.fullmatch(label):
        raise _Invalid(f"{_show(label)} is not an enum label: write a name like Action")
    return label


def _array_from_text(ptype: ParamType, text: str) -> list[object]:
    element = ptype.elements[0]
    if text.lstrip().startswith("["):
        return _from_value(ptype, _literal(text))  # type: ignore[return-value]
    # One element a line; blank lines are skipped.
    values: list[object] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append(_from_text(element, line))
        except _Invalid as exc:
            raise _Invalid(f"{exc.message} (line {line_number})", exc.path).under(
                f"[{len(values)}]"
            ) from None
    return values


def _tuple_from_value(ptype: ParamType, value: object) -> tuple[object, ...]:
    if not isinstance(value, tuple | list):
        raise _wrong_kind(value, f"a tuple like {_tuple_example(ptype)}")
    if len(value) != len(ptype.elements):
        raise _Invalid(
            f"expected {len(ptype.elements)} elements for {ptype.label()}, got {len(value)}"
        )
    return tuple(
        _element(t, item, f"[{i}]")
        for i, (t, item) in enumerate(zip(ptype.elements, value, strict=True))
    )


def _named_tuple_from_value(ptype: ParamType, value: object) -> dict[str, object]:
    fields = ptype.field_names
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple / gel.NamedTuple
        value = {f: getattr(value, f) for f in value._fields if isinstance(f, str)}
    if isinstance(value, Mapping):
        keys = [str(k) for k in value]
        missing = [f for f in fields if f not in value]
        extra = [k for k in keys if k not in fields]
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if extra:
                parts.append("unknown " + ", ".join(extra))
            raise _Invalid(
                f"{'; '.join(parts)}: {ptype.label()} has exactly the fields {', '.join(fields)}"
            )
        items: Sequence[object] = [value[f] for f in fields]
    elif isinstance(value, tuple | list):
        if len(value) != len(fields):
            raise _Invalid(f"expected {len(fields)} elements for {ptype.label()}, got {len(value)}")
        items = value
    else:
        raise _wrong_kind(value, f"a tuple like {_tuple_example(ptype)}")
    return {
        f: _element(t, item, f".{f}")
        for f, t, item in zip(fields, ptype.elements, items, strict=True)
    }


def _tuple_example(ptype: ParamType) -> str:
    if ptype.kind == "named_tuple":
        return "{" + ", ".join(f"{f}: ..." for f in ptype.field_names) + "}"
    return "(" + ", ".join("..." for _ in ptype.elements) + ")"


_RANGE_RE = re.compile(r"([\[(])([^,]*),([^,]*)([\])])")


def _range_from_text(ptype: ParamType, text: str) -> gel.Range[object]:
    stripped = text.strip()
    if stripped.lower() == "empty":
        return gel.Range(empty=True)
    m = _RANGE_RE.fullmatch(stripped)
    if m is None:
        raise _Invalid(
            f"{_show(text)} is not a range: write it like [1, 10) (brackets include the bound, "
            "parentheses exclude it; leave a bound blank for unbounded) or empty"
        )
    opener, lower_text, upper_text, closer = m.groups()
    element = ptype.elements[0]
    bounds: list[object] = []
    for step, bound in ((".lower", lower_text), (".upper", upper_text)):
        try:
            bounds.append(None if not bound.strip() else _from_text(element, bound))
        except _Invalid as exc:
            raise exc.under(step) from None
    lower, upper = bounds
    return _check_range(
        ptype, gel.Range(lower, upper, inc_lower=opener == "[", inc_upper=closer == "]")
    )


def _check_range(ptype: ParamType, value: gel.Range[object]) -> gel.Range[object]:
    if value.is_empty():
        return value
    element = ptype.elements[0]
    lower = None if value.lower is None else _element(element, value.lower, ".lower")
    upper = None if value.upper is None else _element(element, value.upper, ".upper")
    try:
        reversed_bounds = lower is not None and upper is not None and lower > upper  # type: ignore[operator]
    except TypeError:
        reversed_bounds = False
    if reversed_bounds:
        raise _Invalid("the lower bound is above the upper bound")
    return gel.Range(lower, upper, inc_lower=value.inc_lower, inc_upper=value.inc_upper)


# ---------------------------------------------------------------------------------------------
# Public API


def is_blank(ptype: ParamType, raw: RawValue) -> bool:
    """No value was given: None, or empty text (only spaces, for types whose text is not the
    value itself). A checkbox's bool is always a value."""
    if raw is None:
        return True
    if isinstance(raw, bool):
        return False
    return raw == "" if _is_verbatim(ptype) else not raw.strip()


def parse_param_value(param: QueryParameter, raw: RawValue) -> object:
    """The driver value for `raw` (widget text, or a bool from a checkbox).

    None or blank input gives None (the empty set) for an optional parameter and an error for
    a required one. For `str` and other verbatim types only "" is blank: spaces are a value.
    """
    ptype = param.type
    if raw is None or is_blank(ptype, raw):  # (None spelled out for the type checker)
        if param.optional:
            return None
        raise ParamValueError(
            param.name, "a value is required (only <optional> parameters may be left empty)"
        )
    try:
        if isinstance(raw, bool):
            if _scalar_name(ptype) == "std::bool":
                return raw
            raise _Invalid(f"expected text for {ptype.label()}, got the checkbox value {raw}")
        return _from_text(ptype, raw)
    except _Invalid as exc:
        raise ParamValueError(param.name + exc.path, exc.message) from None


# ---------------------------------------------------------------------------------------------
# Values back to text


def _amount(sign: str, number: int | str, unit: str) -> str:
    return f"{sign}{number} {unit}" + ("" if str(number) == "1" else "s")


def _duration_text(micros: int) -> str:
    """The human form the duration parser reads: `1 hour 30 minutes 2.5 seconds`."""
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    parts = []
    if hours:
        parts.append(_amount(sign, hours, "hour"))
    if minutes:
        parts.append(_amount(sign, minutes, "minute"))
    if seconds or fraction or not parts:
        number = str(seconds)
        if fraction:
            number += "." + f"{fraction:06d}".rstrip("0")
        parts.append(_amount(sign, number, "second"))
    return " ".join(parts)


def _months_days_text(months: int, days: int) -> list[str]:
    parts = []
    sign = "-" if months < 0 else ""
    years, rest = divmod(abs(months), 12)
    if years:
        parts.append(_amount(sign, years, "year"))
    if rest:
        parts.append(_amount(sign, rest, "month"))
    if days:
        parts.append(_amount("-" if days < 0 else "", abs(days), "day"))
    return parts


def _scalar_text(type_name: str, value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if type_name == "std::bytes" and isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if type_name == "std::json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # round-trips exactly; nan, inf, -inf included
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value // dt.timedelta(microseconds=1))
    if isinstance(value, gel.RelativeDuration):
        parts = _months_days_text(value.months, value.days)
        if value.microseconds or not parts:
            parts.append(_duration_text(value.microseconds))
        return " ".join(parts)
    if isinstance(value, gel.DateDuration):
        return " ".join(_months_days_text(value.months, value.days)) or "0 days"
    return str(value)


def _literal_tree(ptype: ParamType, value: object) -> object:
    """`value` as something `arglang.render_literal` writes and `_from_value` reads back."""
    kind = ptype.kind
    if kind == "array" and isinstance(value, list | tuple):
        return [_literal_tree(ptype.elements[0], v) for v in value]
    if kind == "tuple" and isinstance(value, list | tuple):
        return tuple(_literal_tree(t, v) for t, v in zip(ptype.elements, value, strict=False))
    if kind == "named_tuple":
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            value = {f: getattr(value, f) for f in ptype.field_names}
        if isinstance(value, Mapping):
            fields = zip(ptype.field_names, ptype.elements, strict=True)
            return {f: _literal_tree(t, value[f]) for f, t in fields if f in value}
    if kind == "range" and isinstance(value, gel.Range):
        return _range_text(ptype, value)  # a string: the range parser reads it back
    if isinstance(value, enum.Enum):
        return value.value
    name = _scalar_name(ptype) if kind == "scalar" else None
    if name == "std::json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value


def _range_text(ptype: ParamType, value: gel.Range[object]) -> str:
    if value.is_empty():
        return "empty"
    element = ptype.elements[0]

    def bound(v: object) -> str:
        text = value_to_text(QueryParameter("", element, False), v)
        return text if isinstance(text, str) else ""

    lower = "" if value.lower is None else bound(value.lower)
    upper = "" if value.upper is None else bound(value.upper)
    opener = "[" if value.inc_lower else "("
    closer = "]" if value.inc_upper else ")"
    return f"{opener}{lower}, {upper}{closer}"


def _array_text(ptype: ParamType, value: Sequence[object]) -> str:
    """One element a line when that reads back unchanged, else a list literal."""
    element = ptype.elements[0]
    if element.kind in ("scalar", "enum", "unknown"):
        lines: list[str] = []
        for item in value:
            text = value_to_text(QueryParameter("", element, False), item)
            if not isinstance(text, str):
                break
            lines.append(text)
        else:
            verbatim = _is_verbatim(element)
            if (
                lines
                and not lines[0].lstrip().startswith("[")
                and all(
                    line.strip()
                    and len(line.splitlines()) == 1
                    and line.splitlines()[0] == line
                    and (verbatim or line == line.strip())
                    for line in lines
                )
            ):
                return "\n".join(lines)
    return arglang.render_literal(_literal_tree(ptype, value))


def value_to_text(param: QueryParameter, value: object) -> RawValue:
    """What to put in the widget so that `parse_param_value` gives `value` back.

    None (the empty set) gives None; a bool parameter gives a bool (a checkbox).
    """
    if value is None:
        return None
    ptype = param.type
    kind = ptype.kind
    if kind == "scalar":
        name = _scalar_name(ptype)
        if name == "std::bool" and isinstance(value, bool):
            return value
        return _scalar_text(name or "std::str", value)
    if kind == "array" and isinstance(value, list | tuple):
        return _array_text(ptype, value)
    if kind in ("tuple", "named_tuple"):
        return arglang.render_literal(_literal_tree(ptype, value))
    if kind == "range" and isinstance(value, gel.Range):
        return _range_text(ptype, value)
    return _scalar_text("std::str", value)
