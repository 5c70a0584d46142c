"""One path for a query's text: what the form holds -> checked ``QueryRequest``s, or why not.

A ``QueryDraft`` is one query as the form holds it, nothing parsed yet: the text, the driver
method, the arguments as given (the typed inputs' raw values, or the argument-language text)
and the server's description of the text when the page has one. ``build_requests`` is the one
entry point from the form to the runner: it reads each draft once (the text for its
parameters, the typed values through ``ecc.arguments.param_values``, the argument text with the
safe argument language ``ecc.arguments.arglang``; never eval) and checks every limit in one
place (``DraftLimits``): empty text, text over ``max_query_chars``, NUL, arguments over
``max_args_chars`` (before anything is parsed: the parser's work is bounded too), unreadable
or missing values, positional and named arguments together, and at most ``max_batch`` queries.
Every refusal is an ``ErrorView`` naming the query (and the parameter) and the fix.

Argument size has one rule however the arguments arrive (``argument_size_error``): at most
``max_args_chars`` characters in all, counted as the user gave them: each argument-language
field, each typed input's text (as a shared link writes it), and for "Run again" the
arguments' text the history keeps (what goes back into the form). Shared links are written
and read with one measure too (``link_params``, ``link_problem``), so the console never writes
a link its own loader refuses. A link is written only when its address also fits
``MAX_LINK_BYTES`` (what web servers and proxies accept with their defaults), so every link
the console writes opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode

from ecc.arguments.arglang import (
    ArgParseError,
    parse_named,
    parse_positional,
    render_named,
    render_positional,
)
from ecc.arguments.param_values import ParamValueError, RawValue, is_blank, parse_param_value
from ecc.arguments.typed_inputs import TypedInputs, input_default, typed_inputs_from
from ecc.display.plans import analyze_text
from ecc.driver.client import QueryMethod
from ecc.driver.describe_cache import Description
from ecc.driver.errors import ConsoleInputError, ErrorView, input_error
from ecc.driver.execute import QueryRequest
from ecc.settings.config import ConsoleSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryDraft:
    """One query as the form holds it; nothing here has been parsed or checked."""

    name: str  # "Query 2": every refusal names it
    text: str
    args_text: str = ""  # the argument language (``typed`` False)
    kwargs_text: str = ""
    method: QueryMethod = QueryMethod.QUERY
    # Typed inputs: ``raw_params`` (the inputs' values by parameter name, as the widgets hold
    # them) are the arguments and the two text fields are ignored. An input the form holds no
    # value for takes ``remembered``'s value for its name, as the input would show it.
    typed: bool = False
    raw_params: Mapping[str, RawValue] = field(default_factory=dict)
    remembered: Mapping[str, RawValue] = field(default_factory=dict)
    # The server's description of ``text`` when the page has one (its parameter types win
    # over the text's casts); None: the text's own reading.
    description: Description | None = field(default=None, compare=False, repr=False)
    # An extra tab of the form: left out, not refused, when its text is empty.
    optional: bool = False


@dataclass(frozen=True)
class DraftLimits:
    max_query_chars: int = 100_000
    max_args_chars: int = 65_536
    max_batch: int = 20  # queries per submission; later drafts are left out

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> DraftLimits:
        return cls(settings.max_query_chars, settings.max_args_chars, settings.max_batch)


def argument_size_error(subject: str, sizes: Mapping[str, int], max_args_chars: int
                        ) -> ErrorView | None:
    """The one size rule for a query's arguments: None when ``sizes`` (characters per part:
    ``"$title"``, ``"positional arguments"`` ...) sum to at most ``max_args_chars``; else the
    view, naming the largest part and the limit."""
    total = sum(sizes.values())
    if total <= max_args_chars:
        return None
    part, chars = max(sizes.items(), key=lambda item: item[1])
    in_all = f" (the arguments {total:,} in all)" if total != chars else ""
    verb = "is" if part.startswith("$") else "are"  # "$title is", "the named arguments are"
    return ErrorView(
        kind="input",
        title="Arguments too large",
        message=f"{subject}: {part} {verb} {chars:,} characters{in_all}; the limit is "
        f"{max_args_chars:,} characters of arguments per query (max_args_chars). Nothing was "
        "run.",
        subject=subject,
        hint="Pass large data through the database instead of arguments, or raise "
        "max_args_chars in [connections.gel].",
    )


def typed_argument_sizes(raw_params: Mapping[str, object]) -> dict[str, int]:
    """Characters per typed input, as a shared link writes them (``link_value``)."""
    return {f"${name}": len(link_value(raw)) for name, raw in raw_params.items()}


def request_argument_sizes(request: QueryRequest) -> dict[str, int]:
    """Characters of a kept request's arguments (for "Run again"): the argument-language text
    the history keeps and puts back into the form."""
    return {"the positional arguments": len(request.args_text),
            "the named arguments": len(request.kwargs_text)}


class Drafted(NamedTuple):
    """A submission read: the requests to run, or (nothing runs) one view per problem."""

    requests: list[QueryRequest]
    errors: list[ErrorView]


def build_requests(drafts: Sequence[QueryDraft], limits: DraftLimits, *,
                   analyze: bool = False) -> Drafted:
    """Every draft read and checked once. Callers run nothing when ``errors`` is not empty
    (a batch is all or nothing). ``analyze``: each query is sent as ``analyze <query>``
    (its parameters and arguments are the query's own)."""
    used = [d for d in drafts if not (d.optional and not d.text.strip())][: limits.max_batch]
    requests: list[QueryRequest] = []
    errors: list[ErrorView] = []
    for draft in used:
        checked = _checked(draft, limits, analyze)
        if isinstance(checked, QueryRequest):
            requests.append(checked)
        else:
            errors.extend(checked)
    return Drafted(requests, errors)


def build_request(draft: QueryDraft, limits: DraftLimits, *,
                  analyze: bool = False) -> QueryRequest:
    """One draft through ``build_requests``' checks; raises ``ConsoleInputError`` with the
    first problem's view when it cannot run."""
    checked = _checked(draft, limits, analyze)
    if isinstance(checked, QueryRequest):
        return checked
    raise ConsoleInputError(checked[0])


def _checked(draft: QueryDraft, limits: DraftLimits, analyze: bool
             ) -> QueryRequest | list[ErrorView]:
    name = draft.name
    if not draft.text.strip():
        return [_view(f"{name} is empty: type an EdgeQL query.", subject=name)]
    query = analyze_text(draft.text) if analyze else draft.text
    if len(query) > limits.max_query_chars:
        return [_view(
            f"{name} is {len(query):,} characters; the limit is "
            f"{limits.max_query_chars:,} (max_query_chars). Nothing was run.",
            title="Query too long",
            subject=name,
            hint="Shorten the query, or raise max_query_chars in [connections.gel].",
        )]
    if "\x00" in query:
        return [_view(f"{name} contains a NUL character: remove it.", subject=name)]
    args: tuple[Any, ...] | None
    kwargs: Mapping[str, Any] | None
    if draft.typed:
        inputs = typed_inputs_from(draft.text, draft.description)
        raw = {p.name: draft.raw_params[p.name] if p.name in draft.raw_params
               else input_default(p, draft.remembered.get(p.name)) for p in inputs.parameters}
        args, kwargs, problems = argument_values(name, inputs, raw, limits.max_args_chars)
        if problems:
            return problems
        args_text = _arguments_text(args, render_positional)
        kwargs_text = _arguments_text(kwargs, render_named)
    else:
        too_large = argument_size_error(
            name, {"the positional arguments": len(draft.args_text),
                   "the named arguments": len(draft.kwargs_text)}, limits.max_args_chars)
        if too_large is not None:  # before parsing: the parser's work is bounded too
            return [too_large]
        try:
            args = _parse(name, "positional arguments", draft.args_text, parse_positional)
            kwargs = _parse(name, "named arguments", draft.kwargs_text, parse_named)
        except ConsoleInputError as unreadable:
            return [unreadable.view]
        args_text, kwargs_text = draft.args_text, draft.kwargs_text
    if args and kwargs:
        return [_view(
            f"{name} has both positional ($0, $1 …) and named ($name) arguments; a query "
            "takes one style or the other.",
            title="Mixed arguments",
            subject=name,
            hint="Clear one of the two argument fields.",
        )]
    return QueryRequest(name=name, query=query, method=draft.method, args=tuple(args or ()),
                        kwargs=dict(kwargs or {}), args_text=args_text,
                        kwargs_text=kwargs_text)


def _view(message: str, **fields: Any) -> ErrorView:
    return input_error(message, **fields).view


def argument_values(
    subject: str, inputs: TypedInputs, raw: Mapping[str, RawValue],
    max_args_chars: int | None = None,
) -> tuple[tuple[object, ...] | None, dict[str, object] | None, list[ErrorView]]:
    """Positional args or named kwargs for the driver from typed inputs' raw values, or the
    errors (one per parameter). Inputs over ``max_args_chars`` in all are refused before any
    is converted."""
    if max_args_chars is not None:
        shown = {p.name: raw.get(p.name) for p in inputs.parameters}
        too_large = argument_size_error(subject, typed_argument_sizes(shown), max_args_chars)
        if too_large is not None:
            return None, None, [too_large]
    errors = [
        ErrorView(kind="input", title="Parameter problem", message=m, subject=subject)
        for m in inputs.problems
    ]
    values: dict[str, object] = {}
    blank = [p for p in inputs.parameters
             if not p.optional and is_blank(p.type, raw.get(p.name))]
    if blank:
        names = ", ".join(f"${p.name} ({p.type.label()})" for p in blank)
        errors.append(
            ErrorView(
                kind="input",
                title="Parameters needed",
                message=f"{subject} needs a value for {names}: fill in the inputs under the "
                "query, then press Run again.",
                subject=subject,
                hint="Only <optional> parameters may be left empty (they send the empty set).",
            )
        )
    for param in inputs.parameters:
        if param in blank:
            continue
        try:
            values[param.name] = parse_param_value(param, raw.get(param.name))
        except ParamValueError as exc:
            errors.append(
                ErrorView(
                    kind="input",
                    title="Invalid parameter value",
                    message=str(exc),
                    subject=f"{subject} ${param.name}",
                    hint=f"Enter a {param.type.label()} value"
                    + (" or leave it empty to send the empty set." if param.optional else "."),
                )
            )
    if errors:
        return None, None, errors
    if values and all(p.is_positional for p in inputs.parameters):
        ordered = sorted(inputs.parameters, key=lambda p: int(p.name))
        return tuple(values[p.name] for p in ordered), None, []
    return None, values, []


def _arguments_text(values: Any, render: Callable[[Any], str]) -> str:
    """Typed values written in the argument language, for the history and "Load into form".
    Some values have no text there (ranges other than [lower, upper), empty ranges, names
    with a backquote): the run is kept without argument text rather than refused."""
    if not values:
        return ""
    try:
        return str(render(values))
    except (TypeError, ValueError) as exc:
        log.info("typed arguments kept without text: %s", type(exc).__name__)
        return ""


def _parse(name: str, what: str, text: str, parser: Any) -> Any:
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


# --- shared links -----------------------------------------------------------------------------
# A link is the page address's query parameters: ``q`` (the first tab's text), ``mode``, and
# either ``args``/``kwargs`` (argument language) or ``p.<name>`` per typed input.


def link_value(raw: object) -> str:
    """A typed input's value as a link writes it: a ticked checkbox is ``true``; unticked,
    empty or unset write nothing."""
    if raw is True:
        return "true"
    return "" if raw in (None, False) else str(raw)


def link_params(text: str, mode: str, args_text: str, kwargs_text: str,
                raw_params: Mapping[str, object]) -> dict[str, str]:
    """The page address's parameters for one tab (empty values left out)."""
    params = {"q": text, "mode": mode}
    if mode == "text":
        params.update({"args": args_text, "kwargs": kwargs_text})
    else:
        params.update({f"p.{name}": link_value(raw) for name, raw in raw_params.items()})
    return {key: value for key, value in params.items() if value}


def is_link_param_name(name: str) -> bool:
    """A ``p.<name>`` the loader takes: a parameter name (identifier or position)."""
    return name.isidentifier() or name.isdigit()


# The longest query string (``?`` excluded) the console writes into the page address,
# percent-encoded as Streamlit writes it (``urlencode``: up to 12 bytes per character). A link
# must pass every hop with its defaults: nginx reads the request line
# "GET <path>?<query> HTTP/1.1" into one of its large_client_header_buffers (8 KiB by default,
# kept in deploy/nginx.conf; longer: 414). 6 KiB leaves 2 KiB of it for the method, the path
# (server.baseUrlPath) and the protocol. The character limits alone would allow links of
# megabytes (100 000 query characters). tests/test_replicas.py opens a link of this size
# through deploy/nginx.conf.
MAX_LINK_BYTES = 6_144


def link_bytes(params: Mapping[str, str]) -> int:
    """The query string's length in the address, as Streamlit writes it (``urlencode``)."""
    return len(urlencode(params))


def link_problem(params: Mapping[str, str], limits: DraftLimits, *,
                 max_link_bytes: int | None = None) -> str | None:
    """Why a link with these parameters cannot be loaded (None: it can): its query over
    ``max_query_chars`` or its arguments (``args``, ``kwargs`` and the ``p.<name>`` values,
    counted as the run counts them) over ``max_args_chars``; when writing one
    (``max_link_bytes``, ``MAX_LINK_BYTES``), its address over that many bytes (servers and
    proxies would refuse it). Plain text of numbers only."""
    query_chars = len(params.get("q", ""))
    args_chars = sum(len(params.get(key, "")) for key in ("args", "kwargs")) + sum(
        len(value) for key, value in params.items()
        if key.startswith("p.") and is_link_param_name(key[2:]))
    if query_chars > limits.max_query_chars or args_chars > limits.max_args_chars:
        return (f"its query has {query_chars:,} characters and its arguments {args_chars:,}; "
                f"this console accepts at most {limits.max_query_chars:,} and "
                f"{limits.max_args_chars:,}")
    if max_link_bytes is not None and (size := link_bytes(params)) > max_link_bytes:
        return (f"its address would have {size:,} bytes; web servers and proxies accept "
                f"links of at most {max_link_bytes:,}")
    return None
