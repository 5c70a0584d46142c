"""The parameter model: ``ParamType``, ``QueryParameter``, problems, scans and merges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ParamKind = Literal["scalar", "array", "tuple", "named_tuple", "enum", "range", "unknown"]
ScanStyle = Literal["none", "positional", "named", "mixed"]

# Scalars the console knows how to read from a text input (see ecc.arguments.param_values).
STD_SCALARS: frozenset[str] = frozenset(
    {
        "str",
        "bool",
        "int16",
        "int32",
        "int64",
        "float32",
        "float64",
        "bigint",
        "decimal",
        "uuid",
        "json",
        "bytes",
        "datetime",
        "duration",
    }
)
CAL_SCALARS: frozenset[str] = frozenset(
    {"local_date", "local_time", "local_datetime", "relative_duration", "date_duration"}
)
KNOWN_SCALAR_NAMES: frozenset[str] = frozenset(
    {f"std::{n}" for n in STD_SCALARS} | {f"cal::{n}" for n in CAL_SCALARS}
)

# Deeper type expressions are reported as a problem instead of parsed, which keeps the
# recursive type parser far from Python's recursion limit whatever the input.
MAX_TYPE_DEPTH = 32

_CONTAINERS = frozenset({"array", "tuple", "range", "multirange"})
_QUALIFIERS = frozenset({"optional", "required"})


@dataclass(frozen=True)
class ParamType:
    """A parsed type expression, e.g. `array<tuple<str, int64>>`.

    `name` is canonical and fully qualified; for containers it is composed from the elements'
    names. `elements` holds the array element (1), tuple elements (n), range value (1), or,
    for a custom scalar described by the server, its base scalar (1). `kind == "unknown"` means
    the text names a type the console cannot classify alone (an enum, a custom scalar, ...).
    """

    kind: ParamKind
    name: str
    elements: tuple[ParamType, ...] = ()
    field_names: tuple[str, ...] = ()
    enum_members: tuple[str, ...] = ()

    def label(self) -> str:
        """Short human form: `str`, `array<str>`, `tuple<x: float64>`, `cal::local_date`."""
        if self.kind == "array" and self.elements:
            return f"array<{self.elements[0].label()}>"
        if self.kind == "range" and self.elements:
            return f"range<{self.elements[0].label()}>"
        if self.kind == "tuple":
            return "tuple<" + ", ".join(e.label() for e in self.elements) + ">"
        if self.kind == "named_tuple":
            fields = zip(self.field_names, self.elements, strict=True)
            return "tuple<" + ", ".join(f"{n}: {e.label()}" for n, e in fields) + ">"
        if self.name.startswith("multirange<") and self.elements:
            return f"multirange<{self.elements[0].label()}>"
        if not self.name:
            return "untyped"
        return _short_name(self.name)

    def cast_text(self, optional: bool) -> str:
        """The cast as one would write it: `<optional str>`."""
        return f"<{'optional ' if optional else ''}{self.label()}>"


# The type of a parameter that is never cast in the text (itself reported as a problem).
UNTYPED = ParamType("unknown", "")


@dataclass(frozen=True)
class QueryParameter:
    """One parameter of a query: `positions` are the offsets of each `$name` in the text."""

    name: str
    type: ParamType
    optional: bool
    positions: tuple[int, ...] = ()

    @property
    def is_positional(self) -> bool:
        return self.name.isascii() and self.name.isdigit()


@dataclass(frozen=True)
class ParamProblem:
    """Something wrong with the parameters in the text; `message` says how to fix it."""

    parameter: str | None
    message: str
    position: int | None


@dataclass(frozen=True)
class ParameterScan:
    """What the text alone says about the parameters (positional ones sorted by index)."""

    parameters: tuple[QueryParameter, ...]
    problems: tuple[ParamProblem, ...]
    style: ScanStyle

    def get(self, name: str) -> QueryParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class MergedParameters:
    """The server's parameters, with positions from the text, and where the two disagree."""

    parameters: tuple[QueryParameter, ...]
    disagreements: tuple[str, ...]


def _short_name(name: str) -> str:
    module, sep, rest = name.partition("::")
    if sep and module in ("std", "default") and "::" not in rest:
        return rest
    return name


def _scalar_type(parts: Sequence[str]) -> ParamType:
    """Canonical type for a (possibly qualified) non-container name."""
    if len(parts) == 1:
        (short,) = parts
        if short in STD_SCALARS:
            return ParamType("scalar", f"std::{short}")
        if short in CAL_SCALARS:
            return ParamType("scalar", f"cal::{short}")
        # An unqualified schema name: an enum or a custom scalar in the default module.
        return ParamType("unknown", f"default::{short}")
    name = "::".join(parts)
    return ParamType("scalar" if name in KNOWN_SCALAR_NAMES else "unknown", name)


def _array_type(element: ParamType) -> ParamType:
    return ParamType("array", f"array<{element.name}>", (element,))


def _range_type(element: ParamType) -> ParamType:
    return ParamType("range", f"range<{element.name}>", (element,))


def _multirange_type(element: ParamType) -> ParamType:
    # Not a kind of its own: the console has no input for it, the driver may still accept text.
    return ParamType("unknown", f"multirange<{element.name}>", (element,))


def _tuple_type(elements: Sequence[ParamType]) -> ParamType:
    name = "tuple<" + ", ".join(e.name for e in elements) + ">"
    return ParamType("tuple", name, tuple(elements))


def _named_tuple_type(fields: Sequence[tuple[str, ParamType]]) -> ParamType:
    name = "tuple<" + ", ".join(f"{n}: {t.name}" for n, t in fields) + ">"
    return ParamType(
        "named_tuple",
        name,
        tuple(t for _, t in fields),
        field_names=tuple(n for n, _ in fields),
    )
