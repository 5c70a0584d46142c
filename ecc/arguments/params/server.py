"""The server's description (``gel.describe`` objects, duck-typed) as parameters, and its
merge with the text's scan (the server wins)."""

from __future__ import annotations

from collections.abc import Mapping

from ecc.arguments.params.types import (
    KNOWN_SCALAR_NAMES,
    MAX_TYPE_DEPTH,
    UNTYPED,
    MergedParameters,
    ParameterScan,
    ParamType,
    QueryParameter,
    _array_type,
    _multirange_type,
    _named_tuple_type,
    _range_type,
    _scalar_type,
    _tuple_type,
)

# ---------------------------------------------------------------------------------------------
# The server's description (gel.describe objects, duck-typed so that ecc imports no driver here)


def _type_from_description(desc: object, depth: int = 0) -> ParamType:
    cls = type(desc).__name__
    name = getattr(desc, "name", None) or ""
    if depth > MAX_TYPE_DEPTH:
        return ParamType("unknown", str(name))
    if cls == "BaseScalarType":
        return _scalar_type(name.split("::")) if name else ParamType("unknown", "")
    if cls == "ScalarType":
        base = getattr(desc, "base_type", None)
        if name in KNOWN_SCALAR_NAMES or base is None:
            return _scalar_type(name.split("::")) if name else ParamType("unknown", "")
        # A custom scalar (`scalar type Email extending str`): read like its base.
        return ParamType("scalar", name, (_type_from_description(base, depth + 1),))
    if cls == "EnumType":
        members = tuple(str(m) for m in getattr(desc, "members", ()))
        return ParamType("enum", name, enum_members=members)
    if cls == "ArrayType":
        return _array_type(_type_from_description(desc.element_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "RangeType":
        return _range_type(_type_from_description(desc.value_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "MultiRangeType":
        return _multirange_type(_type_from_description(desc.value_type, depth + 1))  # type: ignore[attr-defined]
    if cls == "TupleType":
        elements = getattr(desc, "element_types", ())
        return _tuple_type([_type_from_description(e, depth + 1) for e in elements])
    if cls == "NamedTupleType":
        fields: Mapping[str, object] = getattr(desc, "element_types", {})
        return _named_tuple_type(
            [(f, _type_from_description(t, depth + 1)) for f, t in fields.items()]
        )
    return ParamType("unknown", str(name))


def parameters_from_description(input_type: object | None) -> tuple[QueryParameter, ...]:
    """Parameters from `DescribeResult.input_type` (a `gel.describe.ObjectType` or None).

    An element whose cardinality is AT_MOST_ONE is optional. Positions are empty: the server
    does not say where parameters appear.
    """
    if input_type is None:
        return ()
    elements: Mapping[str, object] = getattr(input_type, "elements", None) or {}
    result = []
    for name, element in elements.items():
        cardinality = getattr(element, "cardinality", None)
        optional = getattr(cardinality, "name", str(cardinality)) == "AT_MOST_ONE"
        ptype = _type_from_description(getattr(element, "type", None))
        result.append(QueryParameter(str(name), ptype, optional, ()))
    if result and all(q.is_positional for q in result):
        result.sort(key=lambda q: int(q.name))
    return tuple(result)


def _describe_side(ptype: ParamType) -> str:
    if ptype.kind == "enum":
        members = ", ".join(ptype.enum_members[:6])
        more = ", ..." if len(ptype.enum_members) > 6 else ""
        return f"enum {ptype.name} [{members}{more}]"
    if ptype.kind == "unknown":
        return f"{ptype.name} (unknown kind)" if ptype.name else "no type"
    return ptype.name


def _same_type(text: ParamType, server: ParamType) -> bool:
    """Whether the text's type agrees with the server's (the text may know less, not differ)."""
    if text.name == server.name:
        return True
    if text.kind == "unknown" and text.name.startswith("default::"):
        # `<Genre>` was read as default::Genre; `with module m` may make it m::Genre.
        short = text.name.removeprefix("default::")
        return server.name.endswith(f"::{short}") and not server.name.startswith(
            ("array<", "tuple<", "range<", "multirange<")
        )
    if text.kind == server.kind and text.kind in ("array", "range", "tuple", "named_tuple"):
        return (
            text.field_names == server.field_names
            and len(text.elements) == len(server.elements)
            and all(_same_type(a, b) for a, b in zip(text.elements, server.elements, strict=True))
        )
    return False


def merge_with_server(scan: ParameterScan, server: tuple[QueryParameter, ...]) -> MergedParameters:
    """The server's parameters (it wins), carrying the text's positions, plus disagreements.

    A disagreement is a different type name, a different optional flag, or a parameter only
    one side has. The text not knowing a kind (`unknown` resolved to an enum or custom scalar of
    the same name) is not a disagreement.
    """
    by_name = {q.name: q for q in scan.parameters}
    server_names = {q.name for q in server}
    merged: list[QueryParameter] = []
    disagreements: list[str] = []
    for q in server:
        text = by_name.get(q.name)
        if text is None:
            disagreements.append(
                f"${q.name}: the server expects it ({q.type.cast_text(q.optional)}) but the "
                "query text does not seem to use it"
            )
            merged.append(q)
            continue
        merged.append(QueryParameter(q.name, q.type, q.optional, text.positions))
        if text.type == UNTYPED:
            continue  # already a scan problem; the server's type is the answer
        if not _same_type(text.type, q.type):
            disagreements.append(
                f"${q.name}: the query text says {_describe_side(text.type)}, "
                f"the server says {_describe_side(q.type)}"
            )
        if text.optional != q.optional:
            said = "optional" if text.optional else "required"
            says = "optional" if q.optional else "required"
            disagreements.append(f"${q.name}: the query text says {said}, the server says {says}")
    for q in scan.parameters:
        if q.name not in server_names:
            disagreements.append(
                f"${q.name}: the query text uses it but the server does not list it"
            )
    return MergedParameters(tuple(merged), tuple(disagreements))
