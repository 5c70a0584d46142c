"""From what the user typed to ``QueryRequest``s, checking everything before anything is sent.

A ``QueryDraft`` is one query of the form as text; ``build_request`` parses its arguments with
the safe argument language (``ecc.arglang``; never eval) and refuses, with an ``ErrorView``
naming the query and the problem: empty text, text over the size limit, arguments over the
size limit or unparsable, and positional and named arguments given together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecc.arglang import ArgParseError, parse_named, parse_positional
from ecc.client import Cardinality, QueryMethod
from ecc.errors import ConsoleInputError, ErrorView, input_error
from ecc.execute import QueryRequest


@dataclass(frozen=True)
class QueryDraft:
    name: str
    text: str
    args_text: str = ""
    kwargs_text: str = ""
    cardinality: Cardinality = Cardinality.MANY
    as_json: bool = False
    # Typed-parameter values already converted by ``ecc.param_values`` (issue: typed inputs).
    # When set, they are the arguments and the free-text fields are ignored.
    typed_args: tuple[Any, ...] | None = None
    typed_kwargs: Mapping[str, Any] | None = field(default=None)

    @property
    def method(self) -> QueryMethod:
        return QueryMethod.pick(self.cardinality, self.as_json)


@dataclass(frozen=True)
class DraftLimits:
    max_query_chars: int = 100_000
    max_args_chars: int = 65_536


def build_request(draft: QueryDraft, limits: DraftLimits) -> QueryRequest:
    """Validate one draft; raises ``ConsoleInputError`` (with its view) when it can't run."""
    name = draft.name
    if not draft.text.strip():
        raise input_error(f"{name} is empty: type an EdgeQL query.", subject=name)
    if len(draft.text) > limits.max_query_chars:
        raise input_error(
            f"{name} is {len(draft.text):,} characters; the limit is "
            f"{limits.max_query_chars:,}.",
            subject=name,
            hint="Shorten the query, or raise max_query_chars in [connections.gel].",
        )
    if "\x00" in draft.text:
        raise input_error(f"{name} contains a NUL character: remove it.", subject=name)
    if draft.typed_args is not None or draft.typed_kwargs is not None:
        args, kwargs = tuple(draft.typed_args or ()), dict(draft.typed_kwargs or {})
    else:
        args = _parse(name, "positional arguments", draft.args_text, limits, parse_positional)
        kwargs = _parse(name, "named arguments", draft.kwargs_text, limits, parse_named)
    if args and kwargs:
        raise input_error(
            f"{name} has both positional ($0, $1 …) and named ($name) arguments; a query "
            "takes one style or the other.",
            title="Mixed arguments",
            subject=name,
            hint="Clear one of the two argument fields.",
        )
    return QueryRequest(
        name=name,
        query=draft.text,
        method=draft.method,
        args=args,
        kwargs=kwargs,
        args_text=draft.args_text,
        kwargs_text=draft.kwargs_text,
    )


def _parse(name: str, what: str, text: str, limits: DraftLimits, parser: Any) -> Any:
    if len(text) > limits.max_args_chars:
        raise input_error(
            f"{name}: the {what} are {len(text):,} characters; the limit is "
            f"{limits.max_args_chars:,}.",
            subject=name,
            hint="Pass large data through the database instead of arguments.",
        )
    try:
        return parser(text)
    except ArgParseError as exc:
        raise input_error(
            f"{name}: cannot read the {what}: {exc.message}",
            title="Invalid argument",
            subject=name,
            excerpt=exc.excerpt(),
            line=exc.line,
            column=exc.column,
            hint="See 'Argument language' in the README for the syntax.",
        ) from None


def build_requests(
    drafts: list[QueryDraft], limits: DraftLimits
) -> tuple[list[QueryRequest], list[ErrorView]]:
    """All drafts checked; returns the runnable requests and one view per refused draft.
    Callers run nothing when the error list is not empty (a batch is all or nothing)."""
    requests: list[QueryRequest] = []
    errors: list[ErrorView] = []
    for draft in drafts:
        try:
            requests.append(build_request(draft, limits))
        except ConsoleInputError as exc:
            errors.append(exc.view)
    return requests, errors
