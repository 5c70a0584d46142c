"""From what the user typed to ``QueryRequest``s, checking everything before anything is sent.

A ``QueryDraft`` is one query of the form as text; ``build_request`` parses its arguments with
the safe argument language (``ecc.arguments.arglang``; never eval) and refuses, with an
``ErrorView``
naming the query and the problem: empty text, text over the size limit, arguments over the
size limit or unparsable, and positional and named arguments given together.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ecc.arguments.arglang import ArgParseError, parse_named, parse_positional
from ecc.driver.client import Cardinality, QueryMethod
from ecc.driver.errors import ConsoleInputError, ErrorView, input_error
from ecc.driver.execute import QueryRequest


@dataclass(frozen=True)
class QueryDraft:
    name: str
    text: str
    args_text: str = ""
    kwargs_text: str = ""
    cardinality: Cardinality = Cardinality.MANY
    as_json: bool = False
    # Typed-parameter values already converted by ``ecc.arguments.param_values`` (issue: typed
    # inputs).
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
        too_large = argument_size_error(
            name, {"the positional arguments": len(draft.args_text),
                   "the named arguments": len(draft.kwargs_text)}, limits.max_args_chars)
        if too_large is not None:  # before parsing: the parser's work is bounded too
            raise ConsoleInputError(too_large)
        args = _parse(name, "positional arguments", draft.args_text, parse_positional)
        kwargs = _parse(name, "named arguments", draft.kwargs_text, parse_named)
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
