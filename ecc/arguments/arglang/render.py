"""Values written back in the argument language (``render_literal`` and friends)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import gel

from ecc.arguments.arglang.constructors import _INT64
from ecc.arguments.arglang.lexer import _IDENT_RE

# ---------------------------------------------------------------------------------------------
# Rendering: values back to text


def _render_str(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code == 0 or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"cannot render a string holding U+{code:04X}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _render_bytes(value: bytes) -> str:
    out = ['b"']
    for byte in value:
        ch = chr(byte)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


def _render_seconds(micros: int) -> str:
    """Signed seconds with up to six decimals, e.g. -1.5 or 90."""
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    text = f"{sign}{seconds}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text


def _render_timedelta(value: dt.timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if abs(micros) >= _INT64:
        raise ValueError("cannot render a timedelta beyond the range of std::duration")
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    body = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if rest or not body:
        body += _render_seconds(rest) + "S"
    return f"duration('{sign}PT{body}')"


def _render_scalar(value: object) -> str:
    """Every non-container value; raises TypeError/ValueError when the language has no form."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(int(value))  # int(): an IntEnum's own str/repr is its name
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))
    if isinstance(value, str):
        return _render_str(value)
    if isinstance(value, bytes | bytearray):
        return _render_bytes(bytes(value))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot render the non-finite decimal {value}")
        return f"decimal('{value}')"
    if isinstance(value, uuid.UUID):
        return f"uuid('{value}')"
    if isinstance(value, dt.datetime):
        name = "local_datetime" if value.tzinfo is None else "datetime"
        return f"{name}('{value.isoformat()}')"
    if isinstance(value, dt.date):
        return f"local_date('{value.isoformat()}')"
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError("cannot render a time with a time zone: local_time has none")
        return f"local_time('{value.isoformat()}')"
    if isinstance(value, dt.timedelta):
        return _render_timedelta(value)
    if isinstance(value, gel.RelativeDuration):
        return (
            f"relative_duration('P{value.months}M{value.days}D"
            f"T{_render_seconds(value.microseconds)}S')"
        )
    if isinstance(value, gel.DateDuration):
        return f"date_duration('P{value.months}M{value.days}D')"
    raise TypeError(f"cannot render a {type(value).__name__} as an argument literal")


class _Emit(NamedTuple):
    """Literal text queued for output; ``done`` marks the end of a container (cycle check)."""

    text: str
    done: int | None = None


def render_literal(value: object) -> str:
    """Writes ``value`` in this language so that ``parse_value(render_literal(v)) == v``.

    Handles everything the parser produces except ``json(...)`` (its result is a str and comes
    back as a plain string) and ranges other than [lower, upper). Raises TypeError or
    ValueError for values the language cannot express (sets, strings holding NUL, cycles, ...).
    The text can exceed a parser's ``ArgLimits`` (e.g. a 5000-digit int).
    """
    out: list[str] = []
    pending: list[object] = [value]  # a stack; _Emit items are text, the rest values
    open_containers: set[int] = set()  # ids of the containers being written, to stop cycles
    while pending:
        item = pending.pop()
        if isinstance(item, _Emit):
            out.append(item.text)
            if item.done is not None:
                open_containers.discard(item.done)
            continue
        children: list[object]
        if isinstance(item, list | tuple | dict):
            if id(item) in open_containers:
                raise ValueError("cannot render a value that contains itself")
            open_containers.add(id(item))
        if isinstance(item, list):
            children, opener, closer = list(item), "[", "]"
        elif isinstance(item, tuple):
            children, opener = list(item), "("
            closer = ",)" if len(item) == 1 else ")"
        elif isinstance(item, dict):
            children, opener, closer = [], "{", "}"
            for key, child in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"object keys must be str, not {type(key).__name__}")
                children.extend([_Emit(_render_str(key) + ": "), child])
        elif isinstance(item, gel.Range):
            # An unbounded side has no inclusivity of its own (gel reports it as False).
            lower_ok = item.lower is None or item.inc_lower
            upper_ok = item.upper is None or not item.inc_upper
            if item.is_empty() or not (lower_ok and upper_ok):
                raise ValueError("only non-empty [lower, upper) ranges can be rendered")
            children, opener, closer = [item.lower, item.upper], "range(", ")"
        else:
            out.append(_render_scalar(item))
            continue
        pending.append(_Emit(closer, id(item)))
        step = 2 if isinstance(item, dict) else 1
        groups = [children[i : i + step] for i in range(0, len(children), step)]
        for index in range(len(groups) - 1, -1, -1):
            pending.extend(reversed(groups[index]))
            if index:
                pending.append(_Emit(", "))
        pending.append(_Emit(opener))
    return "".join(out)


def _render_name(name: str) -> str:
    if _IDENT_RE.fullmatch(name):
        return name
    if name and "`" not in name and "\n" not in name and "\x00" not in name:
        return f"`{name}`"
    raise ValueError(f"cannot render the argument name {name!r}")


def render_positional(values: Sequence[object]) -> str:
    """Text that ``parse_positional`` reads back as ``tuple(values)``, one value a line."""
    return "\n".join(render_literal(value) for value in values)


def render_named(values: Mapping[str, object]) -> str:
    """Text that ``parse_named`` reads back as ``dict(values)``, one ``name = value`` a line."""
    return "\n".join(f"{_render_name(k)} = {render_literal(v)}" for k, v in values.items())
