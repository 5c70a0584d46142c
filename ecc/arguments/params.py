"""Query parameters: find them in EdgeQL text, model their types, merge with the server's view.

Two sources describe a query's parameters:

- the query text, read by `scan_parameters` without a server: an EdgeQL-aware tokenizer skips
  comments, string literals of every kind and backquoted names, then reads the cast `<...>`
  written directly before each `$name`;
- the server, through the driver's (private) `_describe_query`, whose `input_type` becomes
  parameters through `parameters_from_description`.

`merge_with_server` combines the two: the server wins, the text only adds where each parameter
appears, and real disagreements become sentences the page can show.

Invariants:
- `scan_parameters` never raises; anything odd in the text becomes a `ParamProblem`.
- It runs in time linear in the text: everything up to each `$` is skipped by one regex match
  in C, only the code just before a parameter (at most `MAX_CAST_CHARS`) is tokenized, and
  type expressions nest at most `MAX_TYPE_DEPTH` levels (deeper casts are reported, not parsed).
- String interpolation (`'...\\(expr)...'`, newer servers) is read as a plain string: a
  parameter inside it is not found.
- Type names are canonical and module-qualified (`std::str`, `cal::local_date`,
  `default::Genre`); containers compose their element names (`array<std::str>`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CAL_SCALARS",
    "MAX_CAST_CHARS",
    "MAX_PROBLEMS",
    "MAX_TYPE_DEPTH",
    "STD_SCALARS",
    "UNTYPED",
    "MergedParameters",
    "ParamKind",
    "ParamProblem",
    "ParamType",
    "ParameterScan",
    "QueryParameter",
    "merge_with_server",
    "parameters_from_description",
    "parse_type",
    "scan_parameters",
]

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


# ---------------------------------------------------------------------------------------------
# Tokenizer
#
# Scanning happens in two layers so that long texts cost C-speed searches, not Python loops:
#
# 1. `_Scanner.run` skips, with one regex match in C, everything up to the next `$`: plain code,
#    strings, comments and backquoted names. Only `$` (parameters, dollar quotes) and problems
#    cost Python work.
# 2. For each parameter, `_lex` tokenizes the stretch of plain code just before it (never more
#    than `MAX_CAST_CHARS`), where the cast must be. That stretch starts after the last string,
#    parameter or dollar quote, so it holds only code, comments and backquoted names.
#
# Token kinds: I identifier, Q backquoted name, N number, C `::`, the characters `:` `,` `<` `>`
# themselves, and O for anything else (an operator or bracket: a barrier no cast crosses).

# A cast is looked for in at most this many characters before its parameter: it bounds the work
# per parameter; longer casts are reported as a problem.
MAX_CAST_CHARS = 4096
# At most this many problems are listed; the rest are counted in a last, summary problem.
MAX_PROBLEMS = 100

_TOKEN_RE = re.compile(
    r"(?:\s|#[^\n]*+)*+"
    r"(?:"
    r"(?P<I>[^\W\d]\w*+)"
    r"|(?P<C>::)"
    r"|(?P<O><=|>=|:=|->|\.<)"
    r"|(?P<punct>[<>,:])"
    r"|(?P<Q>`[^`]*+(?:``[^`]*+)*+`)"
    r"|(?P<N>\d\w*+(?:\.\d\w*+)?)"
    r"|(?P<X>[\s\S])"
    r")"
)

_ESCAPED_STRING = r"'[^'\\]*+(?:\\[\s\S][^'\\]*+)*+'|\"[^\"\\]*+(?:\\[\s\S][^\"\\]*+)*+\""
_RAW_STRING = r"'[^']*+'|\"[^\"]*+\""
_BACKQUOTED = r"`[^`]*+(?:``[^`]*+)*+`"
# Everything up to the next `$` (or an opener that is never closed), in C: plain code, whole
# words (so that a string prefix is only ever seen at a word start), strings with their
# prefixes, comments and backquoted names. No capturing groups: CPython 3.11 mis-reports
# captures inside possessive repeats, and captures make each iteration slower.
_SKIP_RE = re.compile(
    r"(?:"
    r"[^$'\"`#\w]++"
    r"|(?:rb|br|r)(?:" + _RAW_STRING + r")"
    r"|b?(?:" + _ESCAPED_STRING + r")"
    r"|(?!(?:rb|br|r|b)['\"])\w++"
    r"|\#[^\n]*+"
    r"|" + _BACKQUOTED + r")*+"
)
_OPENER_RE = re.compile(r"\w*?([`'\"])")
_SPECIAL_RE = re.compile(r"[$'\"`#]")
_ESCAPED_STRING_RE = re.compile(_ESCAPED_STRING)
_RAW_STRING_RE = re.compile(_RAW_STRING)
_BACKQUOTED_RE = re.compile(_BACKQUOTED)
_DOLLAR_RE = re.compile(
    r"(?P<dollar_quote>\$\w*\$)"
    r"|(?P<quoted_param>\$`[^`]*+(?:``[^`]*+)*+`)"
    r"|(?P<param>\$\w+)"
    r"|(?P<bare>\$`?)"
)
_TYPE_TOKEN_KINDS = frozenset("IQC:,<>")


@dataclass
class _Lexed:
    """Parallel token arrays (cheaper than one object per token)."""

    text: str
    kinds: list[str]
    starts: list[int]
    ends: list[int]
    values: list[str]


def _lex(text: str, start: int = 0, stop: int | None = None) -> _Lexed:
    """Tokenize plain code `text[start:stop]` (strings and `$` come out as O barriers)."""
    stop = len(text) if stop is None else stop
    kinds: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    values: list[str] = []
    match = _TOKEN_RE.match
    pos = start
    while pos < stop:
        m = match(text, pos, stop)
        if m is None:  # only trailing whitespace or a comment is left
            break
        kind = m.lastgroup or "O"
        token_start = m.start(kind)
        if kind == "punct":
            kind = m.group(kind)
            value = ""
        elif kind == "I":
            value = m.group(kind)
        elif kind == "Q":
            value = m.group(kind)[1:-1].replace("``", "`")
        else:
            if kind == "X":
                kind = "O"  # any other character is a barrier too
            value = ""
        kinds.append(kind)
        starts.append(token_start)
        ends.append(m.end())
        values.append(value)
        pos = m.end()
    return _Lexed(text, kinds, starts, ends, values)


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def _raw_string_prefix(text: str, quote: int) -> bool:
    """Whether the quote at `quote` opens a raw string (`r'..'`, `rb'..'`, `br'..'`)."""
    for prefix in ("rb", "br", "r"):
        begin = quote - len(prefix)
        if (
            begin >= 0
            and text.startswith(prefix, begin)
            and (begin == 0 or not _is_word_char(text[begin - 1]))
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Type expressions


class _TypeSyntaxError(Exception):
    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _TypeParser:
    """Recursive descent over lexed tokens `[start, stop)`; depth is bounded by MAX_TYPE_DEPTH."""

    def __init__(self, lexed: _Lexed, start: int, stop: int) -> None:
        self.lx = lexed
        self.i = start
        self.stop = stop

    def _kind(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.lx.kinds[j] if j < self.stop else ""

    def _where(self) -> int | None:
        if self.i < self.stop:
            return self.lx.starts[self.i]
        if self.stop > 0 and self.stop <= len(self.lx.ends):
            return self.lx.ends[self.stop - 1]
        return None

    def _describe_current(self) -> str:
        if self.i >= self.stop:
            return "the end of the type"
        lx = self.lx
        return repr(lx.text[lx.starts[self.i] : lx.ends[self.i]])

    def _fail(self, message: str) -> _TypeSyntaxError:
        return _TypeSyntaxError(message, self._where())

    def at_end(self) -> bool:
        return self.i >= self.stop

    def qualifier(self) -> bool | None:
        """Consume `optional`/`required` if present: True, False, or None when absent."""
        if self._kind() == "I" and self.lx.values[self.i].lower() in _QUALIFIERS:
            word = self.lx.values[self.i].lower()
            self.i += 1
            if self._kind() not in ("I", "Q"):
                raise self._fail(f"expected a type after {word!r}, e.g. <{word} str>")
            return word == "optional"
        return None

    def parse_type(self, depth: int) -> ParamType:
        if depth > MAX_TYPE_DEPTH:
            raise self._fail(f"the type is nested more than {MAX_TYPE_DEPTH} levels deep")
        parts = self._qualified_name()
        if len(parts) == 1 and parts[0].lower() in _CONTAINERS and self._kind() != "<":
            container = parts[0].lower()
            example = "tuple<str, int64>" if container == "tuple" else f"{container}<str>"
            raise self._fail(f"{container} needs element types: write {example}")
        if self._kind() != "<":
            return _scalar_type(parts)
        if len(parts) != 1 or parts[0].lower() not in _CONTAINERS:
            raise self._fail(f"{'::'.join(parts)} takes no type arguments")
        container = parts[0].lower()
        self.i += 1  # '<'
        if container == "tuple":
            result = self._tuple_body(depth)
        else:
            element = self.parse_type(depth + 1)
            if self._kind() == ",":
                raise self._fail(f"{container} takes exactly one element type")
            result = {
                "array": _array_type,
                "range": _range_type,
                "multirange": _multirange_type,
            }[container](element)
        if self._kind() != ">":
            raise self._fail(
                f"expected '>' to close {container}<...>, found {self._describe_current()}"
            )
        self.i += 1
        return result

    def _qualified_name(self) -> list[str]:
        if self._kind() not in ("I", "Q"):
            raise self._fail(f"expected a type name, found {self._describe_current()}")
        parts = [self.lx.values[self.i]]
        self.i += 1
        while self._kind() == "C":
            self.i += 1
            if self._kind() not in ("I", "Q"):
                raise self._fail(f"expected a name after '::', found {self._describe_current()}")
            parts.append(self.lx.values[self.i])
            self.i += 1
        return parts

    def _tuple_body(self, depth: int) -> ParamType:
        if self._kind() == ">":
            return _tuple_type(())
        named = self._kind() in ("I", "Q") and self._kind(1) == ":"
        positional: list[ParamType] = []
        fields: list[tuple[str, ParamType]] = []
        while True:
            is_named = self._kind() in ("I", "Q") and self._kind(1) == ":"
            if is_named != named:
                raise self._fail("a tuple's elements are either all named or all unnamed")
            if named:
                field = self.lx.values[self.i]
                if any(field == f for f, _ in fields):
                    raise self._fail(f"the tuple names the field {field!r} twice")
                self.i += 2
                fields.append((field, self.parse_type(depth + 1)))
            else:
                positional.append(self.parse_type(depth + 1))
            if self._kind() != ",":
                break
            self.i += 1
            if self._kind() == ">":  # a trailing comma
                break
        return _named_tuple_type(fields) if named else _tuple_type(positional)


def parse_type(text: str) -> ParamType:
    """Parse a type expression such as `array<tuple<str, int64>>` (no `optional` prefix).

    Raises ValueError with a message saying what is wrong and where.
    """
    lexed = _lex(text)
    bad = next((i for i, k in enumerate(lexed.kinds) if k not in _TYPE_TOKEN_KINDS), None)
    if bad is not None:
        fragment = text[lexed.starts[bad] : lexed.ends[bad]]
        raise ValueError(f"unexpected {fragment!r} at offset {lexed.starts[bad]} in type {text!r}")
    parser = _TypeParser(lexed, 0, len(lexed.kinds))
    try:
        if parser.qualifier() is not None:
            raise ValueError(
                f"{text!r}: optional/required belong to the cast, not the type: "
                "write the type alone"
            )
        result = parser.parse_type(0)
        if not parser.at_end():
            raise parser._fail(f"unexpected {parser._describe_current()} after the type")
    except _TypeSyntaxError as exc:
        where = f" at offset {exc.position}" if exc.position is not None else ""
        raise ValueError(f"malformed type {text!r}{where}: {exc.message}") from None
    return result


# ---------------------------------------------------------------------------------------------
# Casts before parameters

# Words that may legitimately stand right before a parameter (`select $x`, `limit $x`): a name
# right after an unclosed `<` is only read as "a cast missing its `>`" when it is not one.
_KEYWORDS = frozenset(
    {
        *("select", "filter", "order", "by", "limit", "offset", "and", "or", "not", "in"),
        *("like", "ilike", "is", "exists", "distinct", "if", "else", "with", "for", "union"),
        *("group", "insert", "update", "delete", "set", "detached", "global", "introspect"),
        *("typeof", "using", "on", "then"),
    }
)


@dataclass(frozen=True)
class _Cast:
    type: ParamType | None
    optional: bool
    problem: ParamProblem | None = None


_NO_CAST = _Cast(None, False)


def _open_type_like_lt(lx: _Lexed, start: int, stop: int, *, name_tail: bool) -> int | None:
    """Index of a `<` in `[start, stop)` that opens a type and is never closed, if any.

    A lone `<` is usually a comparison (`a < <str>$x`); it only counts as a broken cast when
    it follows a container keyword (`array<`), precedes `optional`/`required`/`array<`, or,
    with `name_tail`, is followed by nothing but a type name up to the parameter (`<str $x`).
    """
    kinds, values = lx.kinds, lx.values
    stack: list[int] = []
    for i in range(start, stop):
        if kinds[i] == "<":
            stack.append(i)
        elif kinds[i] == ">" and stack:
            stack.pop()
    for i in stack:
        if i - 1 >= start and kinds[i - 1] == "I" and values[i - 1].lower() in _CONTAINERS:
            return i
        if i + 1 < stop and kinds[i + 1] == "I":
            word = values[i + 1].lower()
            if word in _QUALIFIERS:
                return i
            if word in _CONTAINERS and i + 2 < stop and kinds[i + 2] == "<":
                return i
        if name_tail and _is_qualified_name(lx, i + 1, stop):
            return i
    return None


def _is_qualified_name(lx: _Lexed, start: int, stop: int) -> bool:
    if start >= stop or (stop - start) % 2 == 0:
        return False
    for j in range(start, stop):
        expected = ("I", "Q") if (j - start) % 2 == 0 else ("C",)
        if lx.kinds[j] not in expected:
            return False
    return not (lx.kinds[start] == "I" and lx.values[start].lower() in _KEYWORDS)


def _cast_from_tail(lx: _Lexed, name: str, truncated: bool) -> _Cast:
    """The cast at the very end of the tokens `lx` (the code just before `$name`).

    `truncated` says the tokens start in the middle of the code, `MAX_CAST_CHARS` before the
    parameter, so a cast whose `<` is not among them is too long rather than absent.
    """
    kinds, starts = lx.kinds, lx.starts
    p = len(kinds)
    s = p
    while s > 0 and kinds[s - 1] in _TYPE_TOKEN_KINDS:
        s -= 1
    if s == p:
        return _NO_CAST

    def malformed(detail: str, position: int) -> _Cast:
        message = (
            f"${name}: the cast before it is malformed ({detail}): write a type like "
            f"<str>${name} or <array<str>>${name}"
        )
        return _Cast(None, False, ParamProblem(name, message, position))

    if truncated and s == 0 and kinds[p - 1] == ">":
        # All the code kept is type-like and ends in `>`: the cast starts before the cut.
        return malformed(f"the cast is longer than {MAX_CAST_CHARS} characters", starts[p - 1])
    if "<" not in kinds[s:p]:
        return _NO_CAST  # no cast here; `a > $x` is a comparison with an uncast parameter
    if kinds[p - 1] != ">":
        open_lt = _open_type_like_lt(lx, s, p, name_tail=True)
        if open_lt is not None:
            return malformed(f"'<' at offset {starts[open_lt]} is never closed", starts[open_lt])
        return _NO_CAST

    # Walk back to the `<` matching the final `>`; stop early on absurd nesting.
    depth = 0
    j = p - 1
    while j >= s:
        kind = kinds[j]
        if kind == ">":
            depth += 1
            if depth > MAX_TYPE_DEPTH + 1:
                return malformed(
                    f"the type is nested more than {MAX_TYPE_DEPTH} levels deep", starts[j]
                )
        elif kind == "<":
            depth -= 1
            if depth == 0:
                break
        j -= 1
    if j < s:
        return malformed(f"'>' at offset {starts[p - 1]} has no matching '<'", starts[p - 1])
    # The cast's own `<` (index j) is included: `array<str>$x` leaves it after `array`.
    open_lt = _open_type_like_lt(lx, s, j + 1, name_tail=False)
    if open_lt is not None:
        return malformed(f"'<' at offset {starts[open_lt]} is never closed", starts[open_lt])

    parser = _TypeParser(lx, j + 1, p - 1)
    try:
        qualifier = parser.qualifier()
        ptype = parser.parse_type(0)
        if not parser.at_end():
            raise parser._fail(f"unexpected {parser._describe_current()} after the type")
    except _TypeSyntaxError as exc:
        return malformed(exc.message, exc.position if exc.position is not None else starts[j])
    return _Cast(ptype, bool(qualifier))


# ---------------------------------------------------------------------------------------------
# Scanning


@dataclass(slots=True)
class _Occurrence:
    position: int
    cast: _Cast


class _Scanner:
    """One pass over the text; see the tokenizer comment for the two layers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.problems: list[ParamProblem] = []
        self.dropped_problems = 0
        self.occurrences: dict[str, list[_Occurrence]] = {}
        # Casts already read, by the exact code before the parameter (problem-free ones only):
        # a long text repeating `<str>$a` lexes each distinct cast once.
        self._casts: dict[str, _Cast] = {}

    def problem(self, parameter: str | None, message: str, position: int | None) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(ParamProblem(parameter, message, position))
        else:
            self.dropped_problems += 1

    def run(self) -> None:
        text = self.text
        n = len(text)
        skip = _SKIP_RE.match
        pos = 0
        # End of the last parameter or dollar quote: scanning never needs to look before it.
        region_start = 0
        while True:
            skipped = skip(text, pos)
            i = skipped.end() if skipped else pos  # the pattern can match empty: never None
            if i >= n:
                return
            if text[i] != "$":
                # The skip stops elsewhere only at a string or name that is never closed.
                opener = _OPENER_RE.match(text, i)
                quote = opener.start(1) if opener else i
                what = "backquoted name" if text[quote] == "`" else "string"
                self.unterminated(what, quote, text[quote])
                return
            end = self.dollar(i, region_start)
            if end is None:
                return
            pos = region_start = end

    def code_start(self, region_start: int, position: int) -> int:
        """Where the plain code before the parameter at `position` begins (after any string).

        The last quote character before the parameter normally closes the last string. Only
        when a `#` or a backquote precedes it on its line might it sit inside a comment or a
        name; then the region is walked precisely.
        """
        text = self.text
        quote = max(
            text.rfind("'", region_start, position), text.rfind('"', region_start, position)
        )
        if quote < 0:
            return region_start
        line_start = max(region_start, text.rfind("\n", region_start, quote) + 1)
        if text.find("#", line_start, quote) < 0 and text.find("`", line_start, quote) < 0:
            return quote + 1
        return self.last_string_end(region_start, position)

    def last_string_end(self, start: int, stop: int) -> int:
        """End of the last string in `text[start:stop]`, a stretch already known to be whole."""
        text = self.text
        last = start
        pos = start
        while True:
            m = _SPECIAL_RE.search(text, pos, stop)
            if m is None:
                return last
            j = m.start()
            char = text[j]
            if char == "#":
                newline = text.find("\n", j, stop)
                if newline < 0:
                    return last
                pos = newline + 1
            elif char == "`":
                name = _BACKQUOTED_RE.match(text, j, stop)
                pos = name.end() if name else j + 1
            elif char in "'\"":
                string_re = _RAW_STRING_RE if _raw_string_prefix(text, j) else _ESCAPED_STRING_RE
                string = string_re.match(text, j, stop)
                pos = last = string.end() if string else j + 1
            else:
                pos = j + 1

    def unterminated(self, what: str, position: int, closer: str) -> None:
        self.problem(
            None,
            f"the {what} starting at offset {position} is never closed: add the closing "
            f"{closer} (parameters after it are not detected)",
            position,
        )

    def dollar(self, i: int, region_start: int) -> int | None:
        """Handle the `$` at `i`; return where scanning continues, None to stop."""
        text = self.text
        m = _DOLLAR_RE.match(text, i)
        if m is None:  # unreachable: `bare` matches any `$`
            return i + 1
        group = m.lastgroup
        token = m.group()
        if group == "dollar_quote":
            tag = token[1:-1]
            if tag and (tag[0].isdigit() or not tag.isascii()):
                self.problem(
                    None,
                    f"{token} at offset {i} is neither a parameter nor a dollar quote: "
                    "dollar-quote tags are ASCII and do not start with a digit",
                    i,
                )
                return m.end()
            close = text.find(token, m.end())
            if close < 0:
                self.unterminated("string", i, token)
                return None
            return close + len(token)
        if group == "quoted_param":
            name = token[2:-1].replace("``", "`")
            if not name:
                self.problem(
                    None, f"$`` at offset {i} is an empty parameter name: write $`my name`", i
                )
                return m.end()
            self.parameter(name, i, region_start)
            return m.end()
        if group == "param":
            name = token[1:]
            if name.isdigit() and name.isascii():
                if len(name) > 1 and name[0] == "0":
                    self.problem(
                        name,
                        f"${name}: write positional parameters without leading zeros "
                        f"(${int(name)})",
                        i,
                    )
                self.parameter(name, i, region_start)
            elif name[0] == "_" or name[0].isalpha():
                self.parameter(name, i, region_start)
            else:
                self.problem(
                    None,
                    f"${name} at offset {i} is not a valid parameter: named parameters start "
                    "with a letter or _ ($name), positional ones are digits only ($0)",
                    i,
                )
            return m.end()
        if token == "$`":
            self.unterminated("backquoted parameter name", i, "`")
            return None
        self.problem(
            None,
            f"'$' at offset {i} is not followed by a parameter name: write $name or $0",
            i,
        )
        return m.end()

    def parameter(self, name: str, position: int, region_start: int) -> None:
        code_start = self.code_start(region_start, position)
        truncated = position - code_start > MAX_CAST_CHARS
        if truncated:
            # Start after a newline if there is one: a comment cannot straddle that point.
            cut = position - MAX_CAST_CHARS
            newline = self.text.find("\n", cut, position)
            code_start = newline + 1 if newline >= 0 else cut
        code = self.text[code_start:position]
        cast = self._casts.get(code)
        if cast is None:
            cast = _cast_from_tail(_lex(self.text, code_start, position), name, truncated)
            if cast.problem is None:
                self._casts[code] = cast
        self.occurrences.setdefault(name, []).append(_Occurrence(position, cast))


def scan_parameters(query: str) -> ParameterScan:
    """Find the parameters named in `query`, their types, and what is wrong with them.

    Never raises: unreadable input yields problems, not exceptions.
    """
    try:
        return _scan(query)
    except Exception as exc:  # the contract is "never raises"; the fuzz tests look for this
        problem = ParamProblem(None, f"internal error while reading parameters: {exc!r}", None)
        return ParameterScan((), (problem,), "none")


def _scan(query: str) -> ParameterScan:
    scanner = _Scanner(query)
    scanner.run()
    problems = scanner.problems

    parameters: list[QueryParameter] = []
    for name, occs in scanner.occurrences.items():
        typed = [o for o in occs if o.cast.type is not None]
        problems.extend(o.cast.problem for o in occs if o.cast.problem is not None)
        first = typed[0] if typed else None
        if first is not None and first.cast.type is not None:
            ptype, optional = first.cast.type, first.cast.optional
        else:
            ptype, optional = UNTYPED, False
        problems.extend(_untyped_problems(name, occs, first))
        problems.extend(_conflict_problems(name, typed))
        positions = tuple(o.position for o in occs)
        parameters.append(QueryParameter(name, ptype, optional, positions))

    positional = [q for q in parameters if q.is_positional]
    named = [q for q in parameters if not q.is_positional]
    style: ScanStyle
    if positional and named:
        style = "mixed"
        pos_first = min(positional, key=lambda q: q.positions[0])
        named_first = min(named, key=lambda q: q.positions[0])
        later = max(pos_first, named_first, key=lambda q: q.positions[0])
        problems.append(
            ParamProblem(
                later.name,
                f"cannot mix ${pos_first.name} and ${named_first.name}: use one style, "
                "either all positional ($0, $1, ...) or all named ($title, ...)",
                later.positions[0],
            )
        )
    elif positional:
        style = "positional"
    elif named:
        style = "named"
    else:
        style = "none"
    problems.extend(_gap_problems(positional))

    parameters.sort(
        key=lambda q: (0, int(q.name), 0) if q.is_positional else (1, 0, q.positions[0])
    )
    problems.sort(key=lambda pr: -1 if pr.position is None else pr.position)
    dropped = scanner.dropped_problems + max(0, len(problems) - MAX_PROBLEMS)
    if dropped:
        problems = problems[:MAX_PROBLEMS]
        problems.append(
            ParamProblem(None, f"... and {dropped} more problems with parameters", None)
        )
    return ParameterScan(tuple(parameters), tuple(problems), style)


def _untyped_problems(
    name: str, occs: Sequence[_Occurrence], first: _Occurrence | None
) -> Iterable[ParamProblem]:
    uncast = [o for o in occs if o.cast.type is None and o.cast.problem is None]
    if not uncast:
        return []
    if first is None or first.cast.type is None:
        if any(o.cast.problem is not None for o in occs):
            return []  # already reported as a malformed cast
        o = uncast[0]
        return [ParamProblem(name, f"${name} has no type: write <str>${name}", o.position)]
    cast = first.cast.type.cast_text(first.cast.optional)
    return [
        ParamProblem(
            name,
            f"${name} at offset {o.position} has no type: every use needs the cast, "
            f"write {cast}${name} as at offset {first.position}",
            o.position,
        )
        for o in uncast
    ]


def _conflict_problems(name: str, typed: Sequence[_Occurrence]) -> Iterable[ParamProblem]:
    if not typed or typed[0].cast.type is None:
        return []
    first = typed[0]
    first_type = typed[0].cast.type
    reported: set[tuple[str, bool]] = set()
    result: list[ParamProblem] = []
    for o in typed[1:]:
        if o.cast.type is None:
            continue
        key = (o.cast.type.name, o.cast.optional)
        if key == (first_type.name, first.cast.optional) or key in reported:
            continue
        reported.add(key)
        a = first_type.cast_text(first.cast.optional)
        b = o.cast.type.cast_text(o.cast.optional)
        result.append(
            ParamProblem(
                name,
                f"${name} is cast two ways: {a} at offset {first.position} and {b} at offset "
                f"{o.position}: use the same cast everywhere",
                o.position,
            )
        )
    return result


def _gap_problems(positional: Sequence[QueryParameter]) -> Iterable[ParamProblem]:
    result: list[ParamProblem] = []
    expected = 0
    for q in sorted(positional, key=lambda q: int(q.name)):
        index = int(q.name)
        if index > expected:
            missing = f"${expected}" if index == expected + 1 else f"${expected}..${index - 1}"
            verb = "is" if index == expected + 1 else "are"
            result.append(
                ParamProblem(
                    q.name,
                    f"${q.name} is used but {missing} {verb} missing: number positional "
                    "parameters $0, $1, $2, ... without gaps",
                    q.positions[0],
                )
            )
        expected = index + 1
    return result


# ---------------------------------------------------------------------------------------------
# The server's description (gel.describe objects, duck-typed so that ecc imports no driver here)


def _type_from_description(desc: object, depth: int = 0) -> ParamType:
    cls = type(desc).__name__
    name = getattr(desc, "name", None) or ""
    if depth > MAX_TYPE_DEPTH:
        return ParamType("unknown", str(name))
    if cls == "BaseScalarType":
        return _scalar_type(name.split("::")) if name else ParamType("unknown", "")
    if cls == "ScalarType":
        base = getattr(desc, "base_type", None)
        if name in KNOWN_SCALAR_NAMES or base is None:
            return _scalar_type(name.split("::")) if name else ParamType("unknown", "")
        # A custom scalar (`scalar type Email extending str`): read like its base.
        return ParamType("scalar", name, (_type_from_description(base, depth + 1),))
    if cls == "EnumType":
        members = tuple(str(m) for m in getattr(desc, "members", ()))
        return ParamType("enum", name, enum_members=members)
    if cls == "ArrayType":
        return _array_type(_type_from_description(desc.element_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "RangeType":
        return _range_type(_type_from_description(desc.value_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "MultiRangeType":
        return _multirange_type(_type_from_description(desc.value_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "TupleType":
        elements = getattr(desc, "element_types", ())
        return _tuple_type([_type_from_description(e, depth + 1) for e in elements])
    if cls == "NamedTupleType":
        fields: Mapping[str, object] = getattr(desc, "element_types", {})
        return _named_tuple_type(
            [(f, _type_from_description(t, depth + 1)) for f, t in fields.items()]
        )
    return ParamType("unknown", str(name))


def parameters_from_description(input_type: object | None) -> tuple[QueryParameter, ...]:
    """Parameters from `DescribeResult.input_type` (a `gel.describe.ObjectType` or None).

    An element whose cardinality is AT_MOST_ONE is optional. Positions are empty: the server
    does not say where parameters appear.
    """
    if input_type is None:
        return ()
    elements: Mapping[str, object] = getattr(input_type, "elements", None) or {}
    result = []
    for name, element in elements.items():
        cardinality = getattr(element, "cardinality", None)
        optional = getattr(cardinality, "name", str(cardinality)) == "AT_MOST_ONE"
        ptype = _type_from_description(getattr(element, "type", None))
        result.append(QueryParameter(str(name), ptype, optional, ()))
    if result and all(q.is_positional for q in result):
        result.sort(key=lambda q: int(q.name))
    return tuple(result)


def _describe_side(ptype: ParamType) -> str:
    if ptype.kind == "enum":
        members = ", ".join(ptype.enum_members[:6])
        more = ", ..." if len(ptype.enum_members) > 6 else ""
        return f"enum {ptype.name} [{members}{more}]"
    if ptype.kind == "unknown":
        return f"{ptype.name} (unknown kind)" if ptype.name else "no type"
    return ptype.name


def _same_type(text: ParamType, server: ParamType) -> bool:
    """Whether the text's type agrees with the server's (the text may know less, not differ)."""
    if text.name == server.name:
        return True
    if text.kind == "unknown" and text.name.startswith("default::"):
        # `<Genre>` was read as default::Genre; `with module m` may make it m::Genre.
        short = text.name.removeprefix("default::")
        return server.name.endswith(f"::{short}") and not server.name.startswith(
            ("array<", "tuple<", "range<", "multirange<")
        )
    if text.kind == server.kind and text.kind in ("array", "range", "tuple", "named_tuple"):
        return (
            text.field_names == server.field_names
            and len(text.elements) == len(server.elements)
            and all(_same_type(a, b) for a, b in zip(text.elements, server.elements, strict=True))
        )
    return False


def merge_with_server(scan: ParameterScan, server: tuple[QueryParameter, ...]) -> MergedParameters:
    """The server's parameters (it wins), carrying the text's positions, plus disagreements.

    A disagreement is a different type name, a different optional flag, or a parameter only
    one side has. The text not knowing a kind (`unknown` resolved to an enum or custom scalar of
    the same name) is not a disagreement.
    """
    by_name = {q.name: q for q in scan.parameters}
    server_names = {q.name for q in server}
    merged: list[QueryParameter] = []
    disagreements: list[str] = []
    for q in server:
        text = by_name.get(q.name)
        if text is None:
            disagreements.append(
                f"${q.name}: the server expects it ({q.type.cast_text(q.optional)}) but the "
                "query text does not seem to use it"
            )
            merged.append(q)
            continue
        merged.append(QueryParameter(q.name, q.type, q.optional, text.positions))
        if text.type == UNTYPED:
            continue  # already a scan problem; the server's type is the answer
        if not _same_type(text.type, q.type):
            disagreements.append(
                f"${q.name}: the query text says {_describe_side(text.type)}, "
                f"the server says {_describe_side(q.type)}"
            )
        if text.optional != q.optional:
            said = "optional" if text.optional else "required"
            says = "optional" if q.optional else "required"
            disagreements.append(f"${q.name}: the query text says {said}, the server says {says}")
    for q in scan.parameters:
        if q.name not in server_names:
            disagreements.append(
                f"${q.name}: the query text uses it but the server does not list it"
            )
    return MergedParameters(tuple(merged), tuple(disagreements))
