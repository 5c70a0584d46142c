"""The argument language's tokenizer: text to ``_Token``s, with positions for errors."""

from __future__ import annotations

import enum
import math
import re
from typing import NamedTuple, NoReturn

from ecc.arguments.arglang.limits import ArgLimits, ArgParseError, _show

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
