"""Globals as typed inputs: each settable global becomes a ``QueryParameter`` of its schema
type, read by the parameters' own parsers (``ecc.arguments.param_values``), and the values a
run applies with the driver's ``with_globals`` are resolved here from the operator's fixed
values and the user's inputs, checked against ``GlobalsPolicy``.

Invariants: a fixed global always takes the operator's value, whatever a user sent; a user
value for a global the policy does not let users set is refused (never dropped silently:
the page must not look as if it applied); a fixed global that cannot be applied refuses the
run (fail closed: it may be what restricts access).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ecc.arguments.param_values import ParamValueError, RawValue, parse_param_value
from ecc.arguments.params import ParamType, QueryParameter, parse_type
from ecc.branches.policy import GlobalsPolicy
from ecc.driver.errors import input_error
from ecc.schema.model import Global, SchemaModel
from ecc.settings.config import FixedGlobalValue

MAX_GLOBAL_TEXT = 200  # characters of a value shown on a status line


@dataclass(frozen=True)
class GlobalInput:
    """One global the page shows: ``editable`` for a user-settable one; a fixed one shows
    ``fixed_text`` read-only."""

    name: str
    parameter: QueryParameter
    editable: bool
    fixed_text: str | None = None
    default: str | None = None  # the schema's default expression, for the placeholder


@dataclass(frozen=True)
class AppliedGlobals:
    """The globals one run applies: ``values`` for ``with_globals``; ``shown`` (name, text,
    fixed) for the status line and the history."""

    values: tuple[tuple[str, object], ...] = ()
    shown: tuple[tuple[str, str, bool], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return dict(self.values)

    def text(self) -> str:
        """``default::tenant = acme (fixed), default::limit = 5``; empty without globals."""
        return ", ".join(f"{name} = {_clip(text)}" + (" (fixed)" if fixed else "")
                         for name, text, fixed in self.shown)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_GLOBAL_TEXT else text[:MAX_GLOBAL_TEXT] + "…"


def global_parameter(glob: Global, model: SchemaModel | None = None) -> QueryParameter | None:
    """The parameter a global is read as, or None when it cannot be set (computed, or a
    multi global: not offered). Enums get their members from the model."""
    if glob.computed or glob.cardinality == "multi" or not glob.target:
        return None
    try:
        ptype = parse_type(glob.target)
    except ValueError:
        return None
    if model is not None and ptype.kind in ("unknown", "scalar"):
        scalar = next((s for s in model.scalar_types if s.name == glob.target), None)
        if scalar is not None and scalar.enum_values:
            ptype = ParamType("enum", glob.target, enum_members=scalar.enum_values)
    return QueryParameter(name=glob.name, type=ptype, optional=not glob.required)


def global_inputs(model: SchemaModel, policy: GlobalsPolicy) -> tuple[GlobalInput, ...]:
    """The inputs the page draws: fixed globals (read-only) and user-settable ones, in the
    schema's order. Globals nobody may set are not shown."""
    fixed = dict(policy.fixed)
    out = []
    for glob in model.globals:
        if glob.name not in fixed and not policy.user_may_set(glob.name):
            continue
        parameter = global_parameter(glob, model)
        if parameter is None:
            continue
        out.append(GlobalInput(
            name=glob.name, parameter=parameter, editable=glob.name not in fixed,
            fixed_text=_fixed_text(fixed[glob.name]) if glob.name in fixed else None,
            default=glob.default))
    return tuple(out)


def _fixed_text(value: FixedGlobalValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def resolve_globals(policy: GlobalsPolicy, model: SchemaModel | None,
                    user_raw: Mapping[str, RawValue]) -> AppliedGlobals:
    """The globals a run applies. Raises ``ConsoleInputError`` (nothing is sent) for a user
    value the policy does not allow, a value its type's parser refuses, or a fixed global the
    schema does not have. Blank user inputs are left unset (the schema's default applies).

    Without a schema model (not read yet), fixed values go as written in the settings and the
    driver checks them against the server's type; user values need the model."""
    refused = sorted(name for name in user_raw if not policy.user_may_set(name))
    if refused:
        shown = ", ".join(n[:80] for n in refused[:5])
        raise input_error(
            f"Global(s) {shown} may not be set from the page: the operator lets users set "
            + (", ".join(policy.user_settable) if policy.user_settable else "no globals")
            + ". Nothing was run.", title="Global not allowed",
            hint="An operator names the globals users may set with user_globals in "
            "[connections.gel].")
    by_name = {g.name: g for g in model.globals} if model is not None else {}
    values: list[tuple[str, object]] = []
    shown_values: list[tuple[str, str, bool]] = []
    for name, fixed_value in policy.fixed:
        values.append((name, _fixed_value(name, fixed_value, model, by_name)))
        shown_values.append((name, _fixed_text(fixed_value), True))
    for name, raw in sorted(user_raw.items()):
        glob = by_name.get(name)
        parameter = global_parameter(glob, model) if glob is not None else None
        if parameter is None:
            raise input_error(
                f"Global {name} cannot be set: the schema has no settable global of that name"
                + (" (the schema has not been read yet; run again in a moment)."
                   if model is None else "."), title="Unknown global")
        try:
            value = parse_param_value(parameter, raw)
        except ParamValueError as exc:
            raise input_error(f"Global {exc.parameter}: {exc.message}", title="Invalid global",
                              subject=name) from None
        if value is None:
            continue  # blank: the schema's default
        values.append((name, value))
        shown_values.append((name, raw if isinstance(raw, str) else _fixed_text(bool(raw)),
                             False))
    return AppliedGlobals(tuple(values), tuple(shown_values))


def _fixed_value(name: str, value: FixedGlobalValue, model: SchemaModel | None,
                 by_name: Mapping[str, Global]) -> object:
    if model is None:
        return value
    glob = by_name.get(name)
    parameter = global_parameter(glob, model) if glob is not None else None
    if parameter is None:
        raise input_error(
            f"The operator fixed global {name}, but this branch's schema has no settable "
            "global of that name, so it cannot be applied. Nothing was run.",
            title="Fixed global not applied",
            hint="An operator must fix fixed_globals in [connections.gel] (or this branch's "
            "schema).")
    raw: RawValue = value if isinstance(value, bool) else str(value)
    try:
        return parse_param_value(parameter, raw)
    except ParamValueError as exc:
        raise input_error(
            f"The operator's fixed value for global {name} does not fit its type "
            f"{parameter.type.label()}: {exc.message}. Nothing was run.",
            title="Fixed global not applied",
            hint="An operator must fix fixed_globals in [connections.gel].") from None
