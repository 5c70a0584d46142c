"""Type expressions written in casts (``<array<str>>``) parsed into ``ParamType``s."""

from __future__ import annotations

from ecc.arguments.params.lexer import _TYPE_TOKEN_KINDS, _lex, _Lexed
from ecc.arguments.params.types import (
    _CONTAINERS,
    _QUALIFIERS,
    MAX_TYPE_DEPTH,
    ParamType,
    _array_type,
    _multirange_type,
    _named_tuple_type,
    _range_type,
    _scalar_type,
    _tuple_type,
)

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
