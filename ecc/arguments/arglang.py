r"""A small, safe literal language in which users type query arguments.

Nothing here interprets Python: text goes through a hand-written tokenizer and an *iterative*
parser (an explicit stack, so nesting depth never touches the Python call stack), and the only
things that can come out are the literal values below.

    value       := number | string | bytes | keyword | list | tuple | object | constructor
    number      := 42 | -7 | 1_000 | 0x1F | 123n | 3.14 | -2.5e-3 | 1e3 | nan | inf | -inf
    string      := '...' | "..." | r'...' | r"..."        (escapes: \\ \' \" \n \r \t \xHH
                                                          \uXXXX \UXXXXXXXX; raw strings none)
    bytes       := b'...' | b"..."                        (ASCII and \xHH escapes)
    keyword     := true | false | null | none             (any letter case)
    list        := '[' [value (',' value)* [',']] ']'
    tuple       := '(' ')' | '(' value ',' ')' | '(' value (',' value)+ [','] ')'
    object      := '{' [key ':' value (',' key ':' value)* [',']] '}'
    key         := identifier | string | `quoted name`
    constructor := lowercase-name '(' value [',' value] [','] ')'   e.g. uuid('…')
    comment     := '#' to the end of the line (outside strings)

``parse_positional`` reads values separated by commas and/or new lines, ``parse_named`` reads
``name = value`` (or ``name: value``) entries the same way, ``parse_value`` reads exactly one
value. ``render_literal`` writes a value back in this language.

Exceptions::

    ValueError
     └── ArgParseError   every problem with the input text (the only exception for bad input)
    TypeError, ValueError  from render_literal/ArgLimits only: a programmer passed something
                           the language cannot express (a set, a str with NUL, ...)
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
from dataclasses import dataclass, field
from typing import NamedTuple, NoReturn, TypeVar

import gel

__all__ = [
    "DEFAULT_LIMITS",
    "ArgLimits",
    "ArgParseError",
    "parse_named",
    "parse_positional",
    "parse_value",
    "render_literal",
    "render_named",
    "render_positional",
]


# ---------------------------------------------------------------------------------------------
# Limits and errors


@dataclass(frozen=True)
class ArgLimits:
    """Upper bounds that keep every parse small and fast, whatever the user types."""

    max_chars: int = 65536  # length of the whole text; checked before any other work
    max_depth: int = 64  # nested brackets and constructor calls
    max_items: int = 100_000  # values inside brackets plus top-level arguments, in total
    max_string_chars: int = 65536  # decoded length of one string or byte string
    max_number_digits: int = 4000  # digits of one number (also inside decimal()/bigint()/...)

    def __post_init__(self) -> None:
        for name in ("max_chars", "max_depth", "max_items", "max_string_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"ArgLimits.{name} must be at least 1")
        # Python refuses to convert longer decimal strings to int (sys.int_info), so a higher
        # limit would only trade our clear error for an obscure one.
        if not 1 <= self.max_number_digits <= 4300:
            raise ValueError("ArgLimits.max_number_digits must be between 1 and 4300")


DEFAULT_LIMITS = ArgLimits()


class ArgParseError(ValueError):
    """The argument text cannot be read; says where (0-based ``position``, 1-based ``line`` and
    ``column``) and what to do about it. ``str(err)`` is ``"line L, column C: message"``."""

    message: str
    position: int
    line: int
    column: int
    line_text: str

    def __init__(
        self, message: str, position: int = 0, line: int = 1, column: int = 1, line_text: str = ""
    ) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.position = position
        self.line = line
        self.column = column
        self.line_text = line_text

    @classmethod
    def at(cls, text: str, position: int, message: str) -> ArgParseError:
        """The error for ``position`` in ``text`` (line, column and excerpt computed here)."""
        position = max(0, min(position, len(text)))
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        if line_end < 0:
            line_end = len(text)
        line = text.count("\n", 0, position) + 1
        return cls(message, position, line, position - line_start + 1, text[line_start:line_end])

    def __reduce__(self) -> tuple[type[ArgParseError], tuple[str, int, int, int, str]]:
        return (type(self), (self.message, self.position, self.line, self.column, self.line_text))

    def excerpt(self) -> str:
        """The offending line with a caret under the column, like a compiler prints it."""
        text = self.line_text.rstrip("\r")
        index = self.column - 1
        window = 100
        start = 0
        if len(text) > window:  # a long line: show the part around the column only
            start = max(0, min(index - window // 2, len(text) - window))
            shown = text[start : start + window]
            text = ("…" if start else "") + shown + ("…" if start + window < len(text) else "")
            index = index - start + (1 if start else 0)
        # Tabs stay tabs under the line so the caret lines up in a terminal.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[:index])
        return f"{text}\n{pad}^"


# ---------------------------------------------------------------------------------------------
# Tokens


class _Kind(enum.Enum):
    LBRACKET = "'['"
    RBRACKET = "']'"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACE = "'{'"
    RBRACE = "'}'"
    COMMA = "','"
    COLON = "':'"
    EQUALS = "'='"
    NEWLINE = "the end of the line"
    NUMBER = "a number"
    STRING = "a string"
    BYTES = "a byte string"
    IDENT = "a name"
    QNAME = "a `quoted name`"
    PARAM = "a $parameter"
    EOF = "the end of the input"


class _Token(NamedTuple):  # a NamedTuple: the lexer makes one per token, so creation is hot
    kind: _Kind
    start: int
    end: int
    # str for STRING/IDENT/QNAME/PARAM (PARAM without its '$'), bytes for BYTES,
    # int or float for NUMBER, None for punctuation.
    value: object = None


_PUNCTUATION = {
    "[": _Kind.LBRACKET,
    "]": _Kind.RBRACKET,
    "(": _Kind.LPAREN,
    ")": _Kind.RPAREN,
    "{": _Kind.LBRACE,
    "}": _Kind.RBRACE,
    ",": _Kind.COMMA,
    ":": _Kind.COLON,
    "=": _Kind.EQUALS,
}
_CHAR_HINTS = {
    ".": "attribute access and method calls are not supported; write the value itself",
    ";": "';' does not separate arguments; use ',' or a new line (inside quotes it is fine)",
    "<": "casts like <int64>$x are not supported; write the value, e.g. 42 or uuid('…')",
    "$": "'$' must be followed by an argument name, like $limit",
}
_EXPRESSION_CHARS = set("*/%+-&|^~@!?<>")

_SKIP_RE = re.compile(r"(?:[^\S\n]+|#[^\n]*)*")  # blanks except '\n', and comments
_IDENT_RE = re.compile(r"[^\W\d]\w*")  # unicode letters, digits and '_', no leading digit
_NUMBER_RUN_RE = re.compile(r"[0-9.](?:[\w.]|(?<=[eE])[+-])*")  # what the user meant as one
_DIGITS = r"[0-9](?:_?[0-9])*"
_DEC_INT_RE = re.compile(_DIGITS)
_BIGINT_RE = re.compile(_DIGITS + "n")
_HEX_INT_RE = re.compile(r"0[xX](?:_?[0-9a-fA-F])+")
_FLOAT_RE = re.compile(
    rf"(?:{_DIGITS}\.(?:{_DIGITS})?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?|{_DIGITS}[eE][+-]?{_DIGITS}"
)
_STRING_CHUNK_RE = {"'": re.compile(r"[^'\\]*"), '"': re.compile(r'[^"\\]*')}
_RAW_CHUNK_RE = {"'": re.compile(r"[^']*"), '"': re.compile(r'[^"]*')}
_QNAME_RE = re.compile(r"`([^`\n]*)`")
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_ESCAPE_LIST = "\\\\ \\' \\\" \\n \\r \\t \\xHH \\uXXXX \\UXXXXXXXX"
_LOG10_2 = math.log10(2)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _show(text: str, limit: int = 40) -> str:
    """``repr`` of user text, clipped so messages stay one readable line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


class _Lexer:
    """Turns text into tokens on demand, so errors come out in reading order."""

    def __init__(self, text: str, limits: ArgLimits) -> None:
        self._text = text
        self._limits = limits
        self._pos = 0

    def fail(self, position: int, message: str) -> NoReturn:
        raise ArgParseError.at(self._text, position, message)

    def next(self) -> _Token:
        text = self._text
        skipped = _SKIP_RE.match(text, self._pos)
        pos = skipped.end() if skipped else self._pos
        if pos >= len(text):
            self._pos = len(text)
            return _Token(_Kind.EOF, pos, pos)
        ch = text[pos]
        token: _Token
        if ch == "\n":
            token = _Token(_Kind.NEWLINE, pos, pos + 1)
        elif ch in _PUNCTUATION:
            token = _Token(_PUNCTUATION[ch], pos, pos + 1)
        elif ch in "'\"":
            token = self._string(pos, pos, raw=False, as_bytes=False)
        elif ch in "rRbB" and text[pos + 1 : pos + 2] in ("'", '"'):
            lower = ch.lower()
            token = self._string(pos, pos + 1, raw=lower == "r", as_bytes=lower == "b")
        elif "0" <= ch <= "9" or (ch == "." and "0" <= text[pos + 1 : pos + 2] <= "9"):
            token = self._number(pos, pos)
        elif ch in "+-":
            token = self._signed(pos)
        elif ch == "`":
            token = self._quoted_name(pos)
        elif ch == "$":
            name = _IDENT_RE.match(text, pos + 1)
            if name is None:
                self.fail(pos, f"unexpected character '$': {_CHAR_HINTS['$']}")
            token = _Token(_Kind.PARAM, pos, name.end(), name.group())
        else:
            ident = _IDENT_RE.match(text, pos)
            if ident is None:
                self._unexpected_character(pos)
            token = _Token(_Kind.IDENT, pos, ident.end(), ident.group())
        self._pos = token.end
        return token

    def _unexpected_character(self, pos: int) -> NoReturn:
        ch = self._text[pos]
        hint = _CHAR_HINTS.get(ch)
        if hint is None and ch in _EXPRESSION_CHARS:
            hint = "expressions and operators are not supported; write the value itself"
        if hint is None:
            hint = "values are numbers, 'strings', true/false, null, [lists], (tuples), {objects}"
        self.fail(pos, f"unexpected character {ch!r}: {hint}")

    def _signed(self, pos: int) -> _Token:
        text = self._text
        after = text[pos + 1 : pos + 2]
        if "0" <= after <= "9" or (after == "." and "0" <= text[pos + 2 : pos + 3] <= "9"):
            return self._number(pos, pos + 1)
        word = _IDENT_RE.match(text, pos + 1)
        if word is not None and word.group().lower() in ("inf", "nan"):
            number = float(word.group())
            return _Token(_Kind.NUMBER, pos, word.end(), -number if text[pos] == "-" else number)
        self.fail(
            pos,
            f"unexpected character {text[pos]!r}: a sign must be directly followed by a number, "
            "like -7 or -inf; expressions are not supported",
        )

    def _number(self, start: int, digits_start: int) -> _Token:
        text = self._text
        run_match = _NUMBER_RUN_RE.match(text, digits_start)
        assert run_match is not None  # the caller saw a digit or '.' followed by a digit
        run = run_match.group()
        end = run_match.end()
        limit = self._limits.max_number_digits
        digits = len(run) - run.count("_") - run.count(".")
        if digits > limit:
            self.fail(start, f"number too long: {digits} digits, the limit is {limit}")
        negative = text[start] == "-"
        value: int | float
        if _DEC_INT_RE.fullmatch(run):
            value = int(run)
        elif _BIGINT_RE.fullmatch(run):
            value = int(run[:-1])
        elif _HEX_INT_RE.fullmatch(run):
            value = int(run, 16)
            # Hex digits are denser: bound the size the decimal form would have.
            if value.bit_length() * _LOG10_2 > limit:
                self.fail(start, f"number too long: more than {limit} decimal digits")
        elif _FLOAT_RE.fullmatch(run):
            value = float(run)
            if math.isinf(value):
                self.fail(
                    start,
                    f"number {_show(run)} is too large for a float: use decimal('{run}') "
                    "or write inf",
                )
        elif run.endswith("n") and _FLOAT_RE.fullmatch(run[:-1]):
            self.fail(
                start,
                f"the n suffix marks a bigint and needs a whole number: for a decimal write "
                f"decimal('{run[:-1]}')",
            )
        else:
            self.fail(
                start,
                f"malformed number {_show(run)}: write numbers like 42, -7, 1_000, 0x1F, 3.14, "
                "2.5e-3 or 123n (underscores only between digits)",
            )
        return _Token(_Kind.NUMBER, start, end, -value if negative else value)

    def _string(self, start: int, quote_at: int, *, raw: bool, as_bytes: bool) -> _Token:
        text = self._text
        quote = text[quote_at]
        chunk_re = (_RAW_CHUNK_RE if raw else _STRING_CHUNK_RE)[quote]
        limit = self._limits.max_string_chars
        parts: list[str] = []
        size = 0
        pos = quote_at + 1
        kind = "byte string" if as_bytes else "string"
        while True:
            chunk_match = chunk_re.match(text, pos)
            assert chunk_match is not None  # the pattern matches the empty string
            chunk = chunk_match.group()
            if as_bytes and not chunk.isascii():
                bad = next(i for i, c in enumerate(chunk) if not c.isascii())
                self.fail(
                    pos + bad,
                    f"non-ASCII character {chunk[bad]!r} in a byte string: write bytes as "
                    "\\xHH escapes, e.g. b'caf\\xc3\\xa9'",
                )
            parts.append(chunk)
            size += len(chunk)
            pos = chunk_match.end()
            if size > limit:
                self.fail(start, f"{kind} too long: more than {limit} characters")
            if pos >= len(text):
                self.fail(start, f"unterminated {kind} starting here: close it with {quote}")
            if text[pos] == quote:
                pos += 1
                break
            escaped, pos = self._escape(pos, as_bytes=as_bytes)
            parts.append(escaped)
            size += 1
        content = "".join(parts)
        if as_bytes:
            # Every character is ASCII or came from \xHH, so latin-1 maps each to one byte.
            return _Token(_Kind.BYTES, start, pos, content.encode("latin-1"))
        return _Token(_Kind.STRING, start, pos, content)

    def _escape(self, pos: int, *, as_bytes: bool) -> tuple[str, int]:
        """Decodes the escape at ``text[pos] == '\\'``; returns the character and the end."""
        text = self._text
        letter = text[pos + 1 : pos + 2]
        if letter == "":
            self.fail(pos, "unterminated escape at the end of the input: write \\\\ for a '\\'")
        if letter in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[letter], pos + 2
        sizes = {"x": 2} if as_bytes else {"x": 2, "u": 4, "U": 8}
        if letter in sizes:
            size = sizes[letter]
            digits = text[pos + 2 : pos + 2 + size]
            if len(digits) != size or not _HEX_RE.fullmatch(digits):
                example = {"x": "\\x41", "u": "\\u00e9", "U": "\\U0001F600"}[letter]
                self.fail(
                    pos,
                    f"invalid \\{letter} escape: it needs exactly {size} hex digits, "
                    f"like {example}",
                )
            code = int(digits, 16)
            if code == 0 and not as_bytes:
                self.fail(pos, "NUL characters are not allowed in text: remove this escape")
            if code > 0x10FFFF:
                self.fail(pos, f"\\{letter}{digits} is beyond the last Unicode code point U+10FFFF")
            if 0xD800 <= code <= 0xDFFF:
                self.fail(
                    pos,
                    f"\\{letter}{digits} is a surrogate code point, which text cannot hold: "
                    "write the character itself or its \\U escape",
                )
            return chr(code), pos + 2 + size
        if as_bytes and letter in "uU":
            self.fail(pos, f"\\{letter} escapes are not allowed in byte strings: use \\xHH")
        if letter == "0":
            hint = (
                "write \\x00 for a zero byte"
                if as_bytes
                else "NUL characters are not allowed in text"
            )
            self.fail(pos, f"unknown escape '\\0': {hint}")
        shown = "a line break" if letter == "\n" else repr(letter)
        self.fail(
            pos,
            f"unknown escape: '\\' followed by {shown}; the escapes are {_ESCAPE_LIST}; "
            "write \\\\ for a backslash, or use a raw string r'...'",
        )

    def _quoted_name(self, pos: int) -> _Token:
        found = _QNAME_RE.match(self._text, pos)
        if found is None:
            self.fail(pos, "unterminated `quoted name` starting here: close it with ` on this line")
        if not found.group(1):
            self.fail(pos, "empty `quoted name`: write a name between the backquotes")
        return _Token(_Kind.QNAME, pos, found.end(), found.group(1))


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


# ---------------------------------------------------------------------------------------------
# Parser


class _FrameKind(enum.Enum):
    LIST = "["
    PAREN = "("
    OBJECT = "{"
    CALL = "name("


_OPENERS = {_Kind.LBRACKET: _FrameKind.LIST, _Kind.LPAREN: _FrameKind.PAREN}
_OPENERS[_Kind.LBRACE] = _FrameKind.OBJECT
_CLOSERS = {
    _FrameKind.LIST: _Kind.RBRACKET,
    _FrameKind.PAREN: _Kind.RPAREN,
    _FrameKind.OBJECT: _Kind.RBRACE,
    _FrameKind.CALL: _Kind.RPAREN,
}
_CLOSING_KINDS = frozenset(_CLOSERS.values())
_VALUE_STARTS = frozenset(
    {_Kind.NUMBER, _Kind.STRING, _Kind.BYTES, _Kind.IDENT, _Kind.QNAME, _Kind.PARAM}
) | frozenset(_OPENERS)


@dataclass(slots=True)
class _Frame:
    """One open bracket or constructor call on the parser's explicit stack."""

    kind: _FrameKind
    opener: _Token  # '[', '(', '{', or the constructor's name
    items: list[object] = field(default_factory=list)
    sources: list[_Token] = field(default_factory=list)
    entries: dict[str, object] = field(default_factory=dict)  # OBJECT only
    key_positions: dict[str, int] = field(default_factory=dict)  # OBJECT only
    pending_key: str | None = None  # OBJECT: key read, value not yet
    saw_comma: bool = False  # PAREN: distinguishes (a,) from (a)

    def opener_text(self) -> str:
        if self.kind is _FrameKind.CALL:
            return f"{self.opener.value}("
        return self.kind.value


class _Parser:
    def __init__(self, text: str, limits: ArgLimits) -> None:
        if not isinstance(text, str):
            raise TypeError(f"argument text must be str, not {type(text).__name__}")
        if len(text) > limits.max_chars:
            raise ArgParseError.at(
                text,
                limits.max_chars,
                f"input too long: {len(text):,} characters, the limit is {limits.max_chars:,}; "
                "pass large data through the database instead",
            )
        nul = text.find("\x00")
        if nul >= 0:
            raise ArgParseError.at(
                text, nul, f"NUL character (\\x00) at position {nul} is not allowed: remove it"
            )
        # A lone surrogate (possible in a Python str, never in UTF-8 from a browser) could not
        # be encoded when the query is sent.
        surrogate = _SURROGATE_RE.search(text)
        if surrogate is not None:
            raise ArgParseError.at(
                text,
                surrogate.start(),
                f"unpaired surrogate character U+{ord(surrogate.group()):04X} at position "
                f"{surrogate.start()} cannot be sent: remove it",
            )
        self._text = text
        self._limits = limits
        self._lexer = _Lexer(text, limits)
        self._items = 0
        self._previous_end = 0
        self.token = self._lexer.next()

    # -- helpers

    def _fail(self, position: int, message: str) -> NoReturn:
        raise ArgParseError.at(self._text, position, message)

    def _advance(self) -> _Token:
        if self.token.kind is not _Kind.NEWLINE:  # the end of the last real token
            self._previous_end = self.token.end
        self.token = self._lexer.next()
        return self.token

    def skip_newlines(self) -> _Token:
        while self.token.kind is _Kind.NEWLINE:
            self._advance()
        return self.token

    def _describe(self, token: _Token) -> str:
        if token.kind in (_Kind.NUMBER, _Kind.STRING, _Kind.BYTES, _Kind.IDENT):
            return f"{token.kind.value} {_show(self._text[token.start : token.end], 30)}"
        return token.kind.value

    def count_item(self, position: int) -> None:
        self._items += 1
        if self._items > self._limits.max_items:
            self._fail(position, f"too many items: the limit is {self._limits.max_items:,}")

    # -- one value, iteratively

    def value(self) -> tuple[object, _Token]:
        """Parses one value starting at the current token; returns it and its source token.

        Invariant: ``stack`` holds the open brackets/calls, innermost last; its length is the
        nesting depth, checked against max_depth before each push, so no input can make this
        use more than O(max_depth) frames of memory or any Python recursion.
        """
        stack: list[_Frame] = []
        while True:
            produced = self._value_or_open(stack)
            if produced is None:
                continue  # a bracket or call was opened: read its first element
            value, source = produced
            while True:  # hand the finished value to the enclosing frame, closing frames
                if not stack:
                    return value, source
                top = stack[-1]
                self.count_item(source.start)
                if top.kind is _FrameKind.OBJECT:
                    assert top.pending_key is not None
                    top.entries[top.pending_key] = value
                    top.pending_key = None
                else:
                    top.items.append(value)
                    top.sources.append(source)
                token = self.skip_newlines()
                if token.kind is _Kind.COMMA:
                    top.saw_comma = True
                    self._advance()
                    break
                if token.kind is _CLOSERS[top.kind]:
                    stack.pop()
                    value, source = self._close(top)
                    continue
                self._fail_after_item(top, token)

    def _value_or_open(self, stack: list[_Frame]) -> tuple[object, _Token] | None:
        """A complete value, or None after pushing a new frame onto ``stack``."""
        token = self.skip_newlines() if stack else self.token
        if stack:
            top = stack[-1]
            if top.kind is _FrameKind.OBJECT and top.pending_key is None:
                if token.kind is _Kind.RBRACE:
                    stack.pop()
                    return self._close(top)
                self._read_object_key(top, token)
                token = self.skip_newlines()
            elif token.kind is _CLOSERS[top.kind]:  # empty, or after a trailing comma
                stack.pop()
                return self._close(top)
        kind = token.kind
        if kind in _OPENERS:
            self._check_depth(stack, token)
            stack.append(_Frame(_OPENERS[kind], token))
            self._advance()
            return None
        if kind in (_Kind.NUMBER, _Kind.STRING, _Kind.BYTES):
            self._advance()
            return token.value, token
        if kind is _Kind.IDENT:
            return self._name(stack, token)
        self._fail_expected_value(stack, token)

    def _name(self, stack: list[_Frame], token: _Token) -> tuple[object, _Token] | None:
        name = str(token.value)
        lowered = name.lower()
        if lowered in _KEYWORDS:
            self._advance()
            return _KEYWORDS[lowered], token
        if name in _BUILDERS:
            paren = self._advance()
            if paren.kind is not _Kind.LPAREN:
                self._fail(
                    token.start,
                    f"{name} must be followed by '(' and its argument, like {_EXAMPLES[name]}",
                )
            self._check_depth(stack, token)
            stack.append(_Frame(_FrameKind.CALL, token))
            self._advance()
            return None
        rest = self._text[token.end :].lstrip(" \t")
        if lowered in _BUILDERS:
            self._fail(
                token.start,
                f"unknown name {_show(name)}: constructor names are lowercase, write {lowered}(…)",
            )
        if rest.startswith("("):
            self._fail(
                token.start,
                f"unknown name {_show(name)}: it is not a constructor; the constructors are "
                f"{_KNOWN_CONSTRUCTORS}",
            )
        self._fail(
            token.start,
            f"unknown name {_show(name)}: it is not a value; put text in quotes "
            f"({_show(name)}), or use true, false, null, nan, inf or a constructor like uuid('…')",
        )

    def _read_object_key(self, frame: _Frame, token: _Token) -> None:
        if token.kind in (_Kind.STRING, _Kind.IDENT, _Kind.QNAME):
            key = str(token.value)
        elif token.kind is _Kind.EOF:
            self._fail_unclosed(frame)
        elif token.kind is _Kind.NUMBER:
            self._fail(token.start, "object keys are names or strings: put the number in quotes")
        else:
            self._fail(
                token.start,
                f"expected a key (a name or a 'string') or '}}', found {self._describe(token)}",
            )
        if key in frame.key_positions:
            first = ArgParseError.at(self._text, frame.key_positions[key], "")
            self._fail(
                token.start,
                f"duplicate key {_show(key)} in this object (first at line {first.line}, column "
                f"{first.column}): each key may appear once",
            )
        frame.key_positions[key] = token.start
        self._advance()
        colon = self.skip_newlines()
        if colon.kind is _Kind.EOF:
            self._fail_unclosed(frame)
        if colon.kind is not _Kind.COLON:
            self._fail(
                colon.start,
                f"expected ':' after the key {_show(key)}, as in {{key: value}}; found "
                f"{self._describe(colon)}",
            )
        self._advance()
        frame.pending_key = key

    def _check_depth(self, stack: list[_Frame], token: _Token) -> None:
        if len(stack) >= self._limits.max_depth:
            self._fail(
                token.start,
                f"too deeply nested: more than {self._limits.max_depth} levels of brackets; "
                "flatten the value",
            )

    def _close(self, frame: _Frame) -> tuple[object, _Token]:
        """Consumes the closing token of ``frame`` and builds its value."""
        self._advance()
        if frame.kind is _FrameKind.LIST:
            return frame.items, frame.opener
        if frame.kind is _FrameKind.OBJECT:
            return frame.entries, frame.opener
        if frame.kind is _FrameKind.PAREN:
            if len(frame.items) == 1 and not frame.saw_comma:
                return frame.items[0], frame.sources[0]  # (a) is just a
            return tuple(frame.items), frame.opener
        name = str(frame.opener.value)
        args = [_Arg(v, s) for v, s in zip(frame.items, frame.sources, strict=True)]
        call = _Call(name, frame.opener, args, self._limits, self._text)
        return _BUILDERS[name](call), frame.opener

    # -- errors

    def _fail_unclosed(self, frame: _Frame) -> NoReturn:
        closer = _CLOSERS[frame.kind].value
        self._fail(
            frame.opener.start,
            f"unclosed {frame.opener_text()!r}: the input ends before its {closer}; add it",
        )

    def _fail_mismatch(self, frame: _Frame, token: _Token) -> NoReturn:
        opener = ArgParseError.at(self._text, frame.opener.start, "")
        self._fail(
            token.start,
            f"{token.kind.value} does not close the {frame.opener_text()!r} at line "
            f"{opener.line}, column {opener.column}: close it with "
            f"{_CLOSERS[frame.kind].value} first",
        )

    def _fail_expected_value(self, stack: list[_Frame], token: _Token) -> NoReturn:
        top = stack[-1] if stack else None
        kind = token.kind
        if kind is _Kind.EOF:
            if top is not None:
                self._fail_unclosed(top)
            self._fail(token.start, "unexpected end of input: expected a value")
        if (
            top is not None
            and top.pending_key is not None
            and (kind in _CLOSING_KINDS or kind is _Kind.COMMA)
        ):
            self._fail(token.start, f"missing value for the key {_show(top.pending_key)} after ':'")
        if kind in _CLOSING_KINDS:
            if top is not None:
                self._fail_mismatch(top, token)
            self._fail(token.start, f"unmatched {kind.value}: there is no opening bracket for it")
        if kind is _Kind.COMMA:
            self._fail(token.start, "expected a value before ',': remove the extra comma")
        if kind is _Kind.NEWLINE:
            self._fail(token.start, "unexpected end of line: expected a value")
        if kind is _Kind.PARAM:
            self._fail(
                token.start,
                f"'${token.value}' is a query parameter, not a value: type the value itself",
            )
        if kind is _Kind.QNAME:
            self._fail(
                token.start,
                "`quoted names` are for argument names and keys; text values use '...' or \"...\"",
            )
        self._fail(token.start, f"expected a value, found {self._describe(token)}")

    def _fail_after_item(self, frame: _Frame, token: _Token) -> NoReturn:
        if token.kind is _Kind.EOF:
            self._fail_unclosed(frame)
        if token.kind in _CLOSING_KINDS:
            self._fail_mismatch(frame, token)
        self.fail_after_value(token)

    def fail_after_value(self, token: _Token) -> NoReturn:
        """The token following a complete value is neither a separator nor a closer."""
        if token.kind in _VALUE_STARTS:
            if (
                token.kind is _Kind.NUMBER
                and token.start == self._previous_end
                and self._text[token.start] in "+-"
            ):
                self._fail(
                    token.start,
                    f"unexpected {self._text[token.start]!r}: arithmetic is not supported; "
                    "write the result, or separate values with ','",
                )
            self._fail(token.start, "missing comma between values: add ',' before this value")
        if token.kind in _CLOSING_KINDS:
            self._fail(
                token.start, f"unmatched {token.kind.value}: there is no opening bracket for it"
            )
        if token.kind is _Kind.COLON:
            self._fail(token.start, "unexpected ':': key: value pairs belong inside {...}")
        self._fail(token.start, f"unexpected {self._describe(token)} after a value")

    # -- top level

    def separator(self) -> None:
        """After a top-level entry: commas and/or new lines (at most one comma), or the end."""
        saw_comma = False
        consumed = False
        while True:
            token = self.token
            if token.kind is _Kind.NEWLINE:
                self._advance()
            elif token.kind is _Kind.COMMA:
                if saw_comma:
                    self._fail(token.start, "two commas in a row: remove one")
                saw_comma = True
                self._advance()
            else:
                break
            consumed = True
        if not consumed and self.token.kind is not _Kind.EOF:
            self.fail_after_value(self.token)

    def positional(self) -> tuple[object, ...]:
        values: list[object] = []
        self.skip_newlines()
        while self.token.kind is not _Kind.EOF:
            self.count_item(self.token.start)
            value, _ = self.value()
            values.append(value)
            self.separator()
        return tuple(values)

    def named(self) -> dict[str, object]:
        result: dict[str, object] = {}
        first_seen: dict[str, int] = {}
        self.skip_newlines()
        while self.token.kind is not _Kind.EOF:
            token = self.token
            if token.kind not in (_Kind.IDENT, _Kind.QNAME, _Kind.PARAM):
                self._fail(
                    token.start,
                    f"expected an argument name, like limit = 10; found {self._describe(token)}",
                )
            name = str(token.value)
            if name in first_seen:
                first = ArgParseError.at(self._text, first_seen[name], "")
                self._fail(
                    token.start,
                    f"duplicate argument {_show(name)} (first given on line {first.line}): "
                    "give each argument once",
                )
            first_seen[name] = token.start
            equals = self._advance()
            if equals.kind not in (_Kind.EQUALS, _Kind.COLON):
                self._fail(
                    equals.start,
                    f"expected '=' after the argument name {_show(name)}, as in name = 10; found "
                    f"{self._describe(equals)}",
                )
            after = self._advance()
            if after.kind in (_Kind.NEWLINE, _Kind.EOF):
                self._fail(after.start, f"missing value for {_show(name)}: write a value after '='")
            self.count_item(after.start)
            result[name], _ = self.value()
            self.separator()
        return result

    def single(self) -> object:
        self.skip_newlines()
        value, _ = self.value()
        token = self.skip_newlines()
        adjacent_sign = token.kind is _Kind.NUMBER and token.start == self._previous_end
        if token.kind is _Kind.COMMA or (token.kind in _VALUE_STARTS and not adjacent_sign):
            self._fail(
                token.start,
                "only one value is expected here: to pass several, wrap them in [...] or (...)",
            )
        if token.kind is not _Kind.EOF:
            self.fail_after_value(token)
        return value


def parse_value(text: str, *, limits: ArgLimits = DEFAULT_LIMITS) -> object:
    """Exactly one value (blank lines and comments around it are fine)."""
    return _Parser(text, limits).single()


def parse_positional(text: str, *, limits: ArgLimits = DEFAULT_LIMITS) -> tuple[object, ...]:
    """Zero or more values separated by commas and/or new lines; blank text gives ()."""
    return _Parser(text, limits).positional()


def parse_named(text: str, *, limits: ArgLimits = DEFAULT_LIMITS) -> dict[str, object]:
    """``name = value`` or ``name: value`` entries separated by commas and/or new lines.

    Names are identifiers, `quoted names`, or ``$name`` (the '$' is dropped, so a name copied
    from the query works); blank text gives {}.
    """
    return _Parser(text, limits).named()


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
