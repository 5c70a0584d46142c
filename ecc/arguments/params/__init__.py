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

from ecc.arguments.params.lexer import MAX_CAST_CHARS, MAX_PROBLEMS
from ecc.arguments.params.scan import scan_parameters
from ecc.arguments.params.server import merge_with_server, parameters_from_description
from ecc.arguments.params.type_syntax import parse_type
from ecc.arguments.params.types import (
    CAL_SCALARS,
    MAX_TYPE_DEPTH,
    STD_SCALARS,
    UNTYPED,
    MergedParameters,
    ParameterScan,
    ParamKind,
    ParamProblem,
    ParamType,
    QueryParameter,
)

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
