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

from ecc.arguments.arglang.limits import DEFAULT_LIMITS, ArgLimits, ArgParseError
from ecc.arguments.arglang.parser import parse_named, parse_positional, parse_value
from ecc.arguments.arglang.render import render_literal, render_named, render_positional

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
