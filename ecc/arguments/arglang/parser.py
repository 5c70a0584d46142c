"""The argument language's iterative parser (an explicit stack: nesting never touches the
Python call stack) and its entry points ``parse_value``/``parse_positional``/``parse_named``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NoReturn

from ecc.arguments.arglang.constructors import (
    _BUILDERS,
    _EXAMPLES,
    _KEYWORDS,
    _KNOWN_CONSTRUCTORS,
    _Arg,
    _Call,
)
from ecc.arguments.arglang.lexer import _SURROGATE_RE, _Kind, _Lexer, _Token
from ecc.arguments.arglang.limits import DEFAULT_LIMITS, ArgLimits, ArgParseError, _show

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
