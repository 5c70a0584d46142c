"""The typed-parameter form's logic: which inputs to show, and their values for the driver.

The page shows one input per parameter found in the query text (``ecc.params``), confirmed
by the server's description when connected (the server wins; disagreements are shown).
Raw widget values (text, or a bool for checkboxes) become driver values through
``ecc.param_values``; every failure becomes an ``ErrorView`` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ecc.drafts import argument_size_error, typed_argument_sizes
from ecc.errors import ErrorView
from ecc.param_values import ParamValueError, RawValue, is_blank, parse_param_value
from ecc.params import QueryParameter, merge_with_server, scan_parameters


@dataclass(frozen=True)
class TypedInputs:
    parameters: tuple[QueryParameter, ...]
    problems: tuple[str, ...]  # from the text: missing casts, mixed styles, ... (nothing runs)
    notes: tuple[str, ...]  # where the server's description disagreed with the text


def typed_inputs(query: str, server: tuple[QueryParameter, ...] | None = None) -> TypedInputs:
    """The inputs for ``query``; ``server`` is the server's description when we have one."""
    scan = scan_parameters(query)
    problems = tuple(p.message for p in scan.problems)
    if server is None:
        return TypedInputs(scan.parameters, problems, ())
    merged = merge_with_server(scan, server)
    return TypedInputs(merged.parameters, problems, merged.disagreements)


def argument_values(
    subject: str, inputs: TypedInputs, raw: Mapping[str, RawValue],
    max_args_chars: int | None = None,
) -> tuple[tuple[object, ...] | None, dict[str, object] | None, list[ErrorView]]:
    """Positional args or named kwargs for the driver, or the errors (one per parameter).
    Inputs over ``max_args_chars`` in all are refused before any is converted."""
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
