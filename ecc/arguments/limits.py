"""A query's input limits, in one place: the limits a submission is checked against
(``DraftLimits``) and the one size rule for its arguments (``argument_size_error``).

Argument size is counted as the user gave the arguments: each argument-language field, each
typed input's text (as a shared link writes it: ``link_value``), and for "Run again" the
arguments' text the history keeps. ``ecc.arguments.drafts`` applies these to every
submission, ``ecc.arguments.typed_inputs`` to typed values, the page to "Run again" and
shared links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ecc.driver.errors import ErrorView
from ecc.driver.execute import QueryRequest


@dataclass(frozen=True)
class DraftLimits:
    max_query_chars: int = 100_000
    max_args_chars: int = 65_536
    max_batch: int = 20  # queries per submission; later drafts are left out


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


def link_value(raw: object) -> str:
    """A typed input's value as a link writes it: a ticked checkbox is ``true``; unticked,
    empty or unset write nothing."""
    if raw is True:
        return "true"
    return "" if raw in (None, False) else str(raw)
