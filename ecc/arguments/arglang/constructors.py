"""Typed constructors of the argument language: ``name(arg, ...)`` to a driver value."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, NoReturn, TypeVar

import gel

from ecc.arguments.arglang.lexer import _DIGITS, _HEX_INT_RE, _Kind, _Token
from ecc.arguments.arglang.limits import ArgLimits, ArgParseError, _show

# ---------------------------------------------------------------------------------------------
# Typed constructors: name(arg, ...) -> value


class _Arg(NamedTuple):
    value: object
    # The literal token when the argument was one literal (so decimal(1.50) can use its text),
    # else the token that opened it ('[', '(', '{' or a constructor name).
    source: _Token


@dataclass(frozen=True)
class _Call:
    name: str
    name_token: _Token
    args: Sequence[_Arg]
    limits: ArgLimits
    text: str

    def fail(self, position: int, message: str) -> NoReturn:
        raise ArgParseError.at(self.text, position, message)

    def source_text(self, token: _Token) -> str:
        return self.text[token.start : token.end]

    @property
    def example(self) -> str:
        return _EXAMPLES[self.name]

    def only_arg(self) -> _Arg:
        if len(self.args) != 1:
            self.fail(
                self.name_token.start,
                f"{self.name}() takes exactly one argument, like {self.example}; "
                f"got {len(self.args)}",
            )
        return self.args[0]

    def string_arg(self) -> tuple[str, int]:
        arg = self.only_arg()
        if arg.source.kind is not _Kind.STRING or not isinstance(arg.value, str):
            self.fail(
                arg.source.start,
                f"{self.name}() takes a string in quotes, like {self.example}",
            )
        return arg.value, arg.source.start

    def check_digits(self, text: str, position: int) -> None:
        limit = self.limits.max_number_digits
        digits = sum(ch.isdigit() for ch in text)
        if digits > limit:
            self.fail(position, f"number too long: {digits} digits, the limit is {limit}")


_EXAMPLES = {
    "bigint": "bigint('12345678901234567890')",
    "bytes": "bytes('68656c6c6f')",
    "date_duration": "date_duration('P1M5D')",
    "datetime": "datetime('2024-02-29T12:30:45+00:00')",
    "decimal": "decimal('1.50')",
    "duration": "duration('1h 30m')",
    "json": "json('{\"a\": [1, null]}')",
    "local_date": "local_date('2024-02-29')",
    "local_datetime": "local_datetime('2024-02-29T12:30:45')",
    "local_time": "local_time('12:30:45')",
    "range": "range(1, 10)",
    "relative_duration": "relative_duration('1 month 2 days')",
    "uuid": "uuid('9b2d6a9e-4c1f-4e2b-9d3a-0f8e7c6b5a41')",
}


def _build_uuid(call: _Call) -> uuid.UUID:
    text, pos = call.string_arg()
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        call.fail(pos, f"invalid uuid {_show(text)}: {exc}; write it like {call.example}")


_Temporal = TypeVar("_Temporal", dt.datetime, dt.date, dt.time)


def _temporal(call: _Call, parse: Callable[[str], _Temporal], what: str, *,
              zoned: bool | None = None, zone_problem: str = "") -> _Temporal:
    """``what``'s ISO text read by ``parse``. ``zoned``: whether the value must carry a time
    zone (None: it cannot carry one); ``zone_problem`` says what is wrong when it breaks that."""
    text, pos = call.string_arg()
    try:
        value = parse(text)
    except ValueError as exc:
        call.fail(pos, f"invalid {what} {_show(text)}: {exc}; write it like {call.example}")
    if zoned is not None and (getattr(value, "tzinfo", None) is not None) != zoned:
        call.fail(pos, f"{what} {_show(text)} {zone_problem}")
    return value


def _build_datetime(call: _Call) -> dt.datetime:
    return _temporal(
        call, dt.datetime.fromisoformat, "datetime", zoned=True,
        zone_problem="has no time zone: add an offset like +00:00 or Z "
        "(2024-02-29T12:30:45+00:00), or use local_datetime('...') for a time without zone",
    )


def _build_local_datetime(call: _Call) -> dt.datetime:
    return _temporal(
        call, dt.datetime.fromisoformat, "local_datetime", zoned=False,
        zone_problem="has a time zone: remove the offset, or use datetime('...') for a "
        "moment in time",
    )


def _build_local_date(call: _Call) -> dt.date:
    return _temporal(call, dt.date.fromisoformat, "local_date")


def _build_local_time(call: _Call) -> dt.time:
    return _temporal(call, dt.time.fromisoformat, "local_time", zoned=False,
                     zone_problem="has a time zone: remove the offset")


# PostgreSQL numeric (behind std::decimal) holds up to 131072 digits before the point and
# 16383 after it; anything beyond cannot be sent.
_DECIMAL_MAX_ADJUSTED = 131071
_DECIMAL_MIN_EXPONENT = -16383


def _build_decimal(call: _Call) -> decimal.Decimal:
    arg = call.only_arg()
    source = arg.source
    if source.kind is _Kind.STRING and isinstance(arg.value, str):
        text = arg.value
    elif source.kind is _Kind.NUMBER:
        # From the number's text, never via float: decimal(1.10) is exactly 1.10.
        text = call.source_text(source)
        if isinstance(arg.value, int) and _HEX_INT_RE.fullmatch(text.lstrip("+-")):
            text = str(arg.value)
        text = text.removesuffix("n")
    else:
        call.fail(source.start, f"decimal() takes a string or a number, like {call.example}")
    call.check_digits(text, source.start)
    try:
        value = decimal.Decimal(text)
    except decimal.DecimalException:
        call.fail(
            source.start,
            f"invalid decimal {_show(text)}: not a decimal number; write it like "
            f"{call.example} or decimal('-2.5e3')",
        )
    if not value.is_finite():
        call.fail(source.start, "decimal must be a finite number: NaN and Infinity cannot be sent")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite decimals have an integer exponent
    if value.adjusted() > _DECIMAL_MAX_ADJUSTED or exponent < _DECIMAL_MIN_EXPONENT:
        call.fail(source.start, f"decimal {_show(text)} is out of range for std::decimal")
    return value


_BIGINT_TEXT_RE = re.compile(r"\s*[+-]?" + _DIGITS + r"\s*")


def _build_bigint(call: _Call) -> int:
    arg = call.only_arg()
    source = arg.source
    if source.kind is _Kind.NUMBER:
        if isinstance(arg.value, int):
            return arg.value
        call.fail(source.start, f"bigint() needs a whole number, not {call.source_text(source)}")
    if source.kind is not _Kind.STRING or not isinstance(arg.value, str):
        call.fail(source.start, f"bigint() takes a whole number or a string, like {call.example}")
    text = arg.value
    if not _BIGINT_TEXT_RE.fullmatch(text):
        call.fail(source.start, f"invalid bigint {_show(text)}: write a whole number like 123")
    call.check_digits(text, source.start)
    return int(text)


def _build_bytes(call: _Call) -> bytes:
    arg = call.only_arg()
    if arg.source.kind is _Kind.BYTES and isinstance(arg.value, bytes):
        return arg.value
    text, pos = call.string_arg()
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        call.fail(
            pos,
            f"invalid hex in bytes(): {exc}; write pairs of hex digits like {call.example}, "
            "or a byte string b'...'",
        )


class _Interval(NamedTuple):
    months: int
    days: int
    microseconds: int
    date_units: tuple[str, ...]  # the years/months/weeks/days units the user wrote
    time_units: tuple[str, ...]  # the hours/minutes/seconds units the user wrote


# unit -> (field, factor): field 0 months, 1 days, 2 microseconds
_UNIT_SPELLINGS: tuple[tuple[tuple[str, ...], tuple[int, int]], ...] = (
    (("y", "yr", "yrs", "year", "years"), (0, 12)),
    (("mon", "mons", "month", "months"), (0, 1)),
    (("w", "wk", "wks", "week", "weeks"), (1, 7)),
    (("d", "day", "days"), (1, 1)),
    (("h", "hr", "hrs", "hour", "hours"), (2, 3_600_000_000)),
    (("m", "min", "mins", "minute", "minutes"), (2, 60_000_000)),
    (("s", "sec", "secs", "second", "seconds"), (2, 1_000_000)),
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), (2, 1000)),
    (("us", "µs", "usec", "usecs", "microsecond", "microseconds"), (2, 1)),
)
# unit spelling -> (field, factor); field 0 is months, 1 days, 2 microseconds
_UNITS: dict[str, tuple[int, int]] = {
    spelling: unit for spellings, unit in _UNIT_SPELLINGS for spelling in spellings
}
_FIELD_NAMES = ("months", "days", "microseconds")

_ISO_NUMBER = r"[+-]?[0-9]+(?:[.,][0-9]+)?"
_ISO_DURATION_RE = re.compile(
    rf"([+-])?P(?:({_ISO_NUMBER})Y)?(?:({_ISO_NUMBER})M)?(?:({_ISO_NUMBER})W)?"
    rf"(?:({_ISO_NUMBER})D)?(?:T(?:({_ISO_NUMBER})H)?(?:({_ISO_NUMBER})M)?(?:({_ISO_NUMBER})S)?)?",
    re.IGNORECASE,
)
_ISO_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_HUMAN_PART_RE = re.compile(r"\s*([+-]?[0-9]+(?:\.[0-9]+)?)\s*([^\W\d_]+)\s*")
_INT32 = 2**31
_INT64 = 2**63


def _parse_interval(call: _Call, text: str, pos: int) -> _Interval:
    """Reads ISO 8601 (``PT1H30M``) or the human form (``1h 30m``, ``2 months 1 day``)."""
    call.check_digits(text, pos)
    parts: list[tuple[str, str]] = []  # (number, unit name)
    stripped = text.strip()
    iso = _ISO_DURATION_RE.fullmatch(stripped)
    negate = False
    if iso is not None:
        negate = iso.group(1) == "-"
        for number, iso_unit in zip(iso.groups()[1:], _ISO_UNITS, strict=True):
            if number is not None:
                parts.append((number.replace(",", "."), iso_unit))
        if not parts or stripped.upper().endswith("T"):
            call.fail(pos, f"incomplete duration {_show(text)}: write it like PT1H30M or P1M5D")
    else:
        at = 0
        while at < len(text):
            part = _HUMAN_PART_RE.match(text, at)
            if part is None or part.end() == at:
                if not text[at:].strip():
                    break
                call.fail(
                    pos,
                    f"cannot read the duration {_show(text)} at {_show(text[at:].strip(), 20)}: "
                    f"write it like {call.example}, '1h 30m', '45.5 seconds' or 'PT1H30M'",
                )
            parts.append((part.group(1), part.group(2)))
            at = part.end()
        if not parts:
            call.fail(pos, f"empty duration: write it like {call.example}")
    totals = [0, 0, 0]
    date_units: list[str] = []
    time_units: list[str] = []
    for number, unit_name in parts:
        unit = _UNITS.get(unit_name.lower())
        if unit is None:
            call.fail(
                pos,
                f"unknown duration unit {_show(unit_name, 20)}: use years, months, weeks, days, "
                "hours (h), minutes (m), seconds (s), ms or us",
            )
        field_index, factor = unit
        (date_units if field_index < 2 else time_units).append(unit_name)
        whole, _, fraction = number.partition(".")
        numerator = int(whole + fraction) * factor
        scale = 10 ** len(fraction)
        amount, remainder = divmod(numerator, scale)
        if remainder:
            finest = "microsecond" if field_index == 2 else _FIELD_NAMES[field_index][:-1]
            call.fail(
                pos,
                f"{number} {unit_name} is not a whole number of {_FIELD_NAMES[field_index]}: "
                f"the precision is one {finest}",
            )
        totals[field_index] += amount
    if negate:
        totals = [-total for total in totals]
    months, days, micros = totals
    if abs(months) >= _INT32 or abs(days) >= _INT32 or abs(micros) >= _INT64:
        call.fail(pos, f"duration {_show(text)} is out of range")
    return _Interval(months, days, micros, tuple(date_units), tuple(time_units))


def _build_duration(call: _Call) -> dt.timedelta:
    text, pos = call.string_arg()
    interval = _parse_interval(call, text, pos)
    if interval.date_units:
        call.fail(
            pos,
            f"duration() cannot hold {interval.date_units[0]!r}: a Gel std::duration is an exact "
            "length of time without days, months or years; write hours (P1D is PT24H, "
            "'1 day' is '24 hours'), or use relative_duration('...')",
        )
    try:
        return dt.timedelta(microseconds=interval.microseconds)
    except OverflowError:
        call.fail(pos, f"duration {_show(text)} is out of range")


def _build_relative_duration(call: _Call) -> gel.RelativeDuration:
    text, pos = call.string_arg()
    interval = _parse_interval(call, text, pos)
    return gel.RelativeDuration(
        months=interval.months, days=interval.days, microseconds=interval.microseconds
    )


def _build_date_duration(call: _Call) -> gel.DateDuration:
    text, pos = call.string_arg()
    interval = _parse_interval(call, text, pos)
    if interval.time_units:
        call.fail(
            pos,
            f"date_duration() cannot hold {interval.time_units[0]!r}: it has only years, "
            "months, weeks and days; use relative_duration('...') for hours and less",
        )
    return gel.DateDuration(months=interval.months, days=interval.days)


def _reject_json_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _build_json(call: _Call) -> str:
    arg = call.only_arg()
    if arg.source.kind is _Kind.STRING and isinstance(arg.value, str):
        text = arg.value
        try:
            json.loads(text, parse_constant=_reject_json_constant)
        except json.JSONDecodeError as exc:
            call.fail(
                arg.source.start,
                f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno} of the JSON); "
                "a JSON string needs its own double quotes, like json('\"text\"')",
            )
        except RecursionError:
            call.fail(arg.source.start, "invalid JSON: nested too deeply")
        except ValueError as exc:
            call.fail(arg.source.start, f"invalid JSON: {exc}")
        return text  # the original text, exactly as typed
    _check_json_value(call, arg)
    try:
        return json.dumps(arg.value, ensure_ascii=False, allow_nan=False)
    except (RecursionError, ValueError) as exc:
        call.fail(arg.source.start, f"json() cannot encode this value: {exc}")


def _check_json_value(call: _Call, arg: _Arg) -> None:
    pending: list[object] = [arg.value]
    while pending:
        item = pending.pop()
        if item is None or isinstance(item, bool | int | str):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                call.fail(
                    arg.source.start, "json() cannot hold nan or inf: JSON has no such number"
                )
            continue
        if isinstance(item, list):
            pending.extend(item)
            continue
        if isinstance(item, dict):
            pending.extend(item.values())
            continue
        hint = "write arrays as [...]" if isinstance(item, tuple) else "use plain JSON values"
        call.fail(
            arg.source.start,
            f"json() cannot hold a {type(item).__name__}: it takes objects, arrays, numbers, "
            f"strings, true/false and null; {hint}",
        )


def _range_kind(value: object) -> str | None:
    """The bound's type as the user would name it; None when it cannot bound a range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return None if math.isnan(value) else "a float"
    if isinstance(value, decimal.Decimal):
        return "a decimal"
    if isinstance(value, dt.datetime):
        return "a local_datetime" if value.tzinfo is None else "a datetime"
    if isinstance(value, dt.date):
        return "a local_date"
    return None


def _build_range(call: _Call) -> gel.Range[object]:
    if len(call.args) != 2:
        call.fail(
            call.name_token.start,
            "range() takes two arguments, the lower and the upper bound (null for unbounded), "
            f"like range(1, 10); got {len(call.args)}",
        )
    kinds: list[str] = []
    for arg in call.args:
        if arg.value is None:
            continue
        kind = _range_kind(arg.value)
        if kind is None:
            call.fail(
                arg.source.start,
                "a range bound must be a number, decimal, local_date, datetime, local_datetime "
                "or null",
            )
        if kinds and kinds[0] != kind:
            call.fail(
                arg.source.start,
                f"range bounds must have the same type: the lower bound is {kinds[0]}, "
                f"this one is {kind}",
            )
        kinds.append(kind)
    lower, upper = call.args[0].value, call.args[1].value
    if lower is not None and upper is not None and lower > upper:  # type: ignore[operator]
        call.fail(
            call.args[0].source.start, "the lower bound of the range is above the upper bound"
        )
    return gel.Range(lower, upper, inc_lower=True, inc_upper=False)


_BUILDERS: dict[str, Callable[[_Call], object]] = {
    "bigint": _build_bigint,
    "bytes": _build_bytes,
    "date_duration": _build_date_duration,
    "datetime": _build_datetime,
    "decimal": _build_decimal,
    "duration": _build_duration,
    "json": _build_json,
    "local_date": _build_local_date,
    "local_datetime": _build_local_datetime,
    "local_time": _build_local_time,
    "range": _build_range,
    "relative_duration": _build_relative_duration,
    "uuid": _build_uuid,
}
_KNOWN_CONSTRUCTORS = ", ".join(f"{name}(…)" for name in sorted(_BUILDERS))
_KEYWORDS: dict[str, object] = {
    "true": True,
    "false": False,
    "null": None,
    "none": None,
    "nan": math.nan,
    "inf": math.inf,
}
