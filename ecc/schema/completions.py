"""The editor's completion data, built from the schema model as plain JSON-ready data.

The editor (``frontend/edgeql_editor``) receives this tree and never talks to the server:
names of modules, object types, scalar types (enums included), each object type's properties
and links (with their link properties), functions with their signatures, and the parameters
already used in the query text. With no schema model, only keywords are offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecc.schema.model import Function, ObjectType, Pointer, SchemaModel, is_standard, short_name

MAX_FUNCTIONS = 2000  # a bound on what one page run sends, whatever the schema holds


def _pointer_data(pointer: Pointer) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": pointer.name,
        "kind": pointer.kind,
        "target": pointer.target,
        "card": pointer.cardinality,
    }
    if pointer.link_properties:
        data["link_props"] = [{"name": lp.name, "target": lp.target}
                              for lp in pointer.link_properties]
    return data


def _all_pointers(obj: ObjectType, model: SchemaModel, depth: int = 0) -> list[Pointer]:
    """The type's own pointers, then inherited ones not overridden (bases may be listed
    without their pointers being repeated on the subtype)."""
    pointers = list(obj.pointers)
    if depth < 16:
        seen = {p.name for p in pointers}
        for base_name in obj.bases:
            base = model.object_type(base_name)
            if base is None or base is obj:
                continue
            for pointer in _all_pointers(base, model, depth + 1):
                if pointer.name not in seen:
                    seen.add(pointer.name)
                    pointers.append(pointer)
    return pointers


def signature(function: Function) -> str:
    """``(haystack: str, needle: str) -> bool``, with the server's type modifiers."""
    parts = []
    for param in function.params:
        prefix = {"VariadicParam": "variadic ", "NamedOnlyParam": "named only "}.get(
            param.kind, "")
        modifier = {"OptionalType": "optional ", "SetOfType": "set of "}.get(param.typemod, "")
        default = " = …" if param.default is not None else ""
        parts.append(f"{prefix}{param.name}: {modifier}{short_name(param.type)}{default}")
    returns = {"OptionalType": "optional ", "SetOfType": "set of "}.get(
        function.return_typemod, "")
    return f"({', '.join(parts)}) -> {returns}{short_name(function.return_type)}"


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def completion_data(model: SchemaModel | None, params: Iterable[str] = ()) -> dict[str, Any]:
    """The tree the editor completes from. ``params``: parameter names used in the text."""
    data: dict[str, Any] = {"params": _unique(f"${name}" for name in params)}
    if model is None:
        return data
    user_objects = [t for t in model.object_types if not is_standard(t.module)]
    types: list[dict[str, str]] = [
        {"name": t.name, "short": t.short_name, "kind": "object"} for t in user_objects
    ]
    types += [
        {"name": s.name, "short": short_name(s.name), "kind": "enum" if s.is_enum else "scalar"}
        for s in model.scalar_types if not is_standard(s.module)
    ]
    objects = {t.name: [_pointer_data(p) for p in _all_pointers(t, model)]
               for t in user_objects}
    # Short names resolve to the user type when unique (``Movie`` -> ``default::Movie``).
    shorts: dict[str, list[str]] = {}
    for t in user_objects:
        shorts.setdefault(t.short_name, []).append(t.name)
    aliases = {short: names[0] for short, names in shorts.items() if len(names) == 1}
    functions = [
        {"name": f.name, "short": short_name(f.name), "signature": signature(f)}
        for f in model.functions[:MAX_FUNCTIONS]
    ]
    known = {f["name"] for f in functions}
    functions += [
        {"name": name, "short": short_name(name), "signature": "()"}
        for name in model.builtin_function_names[:MAX_FUNCTIONS] if name not in known
    ]
    data.update(
        modules=_unique(m for m in model.modules if not is_standard(m)),
        types=types,
        type_names=_unique(t["short"] for t in types),
        objects=objects,
        aliases=aliases,
        functions=_dedupe_overloads(functions),
    )
    return data


def _dedupe_overloads(functions: list[dict[str, str]]) -> list[dict[str, str]]:
    """One entry per function name; overloads join their signatures with `` | ``."""
    merged: dict[str, dict[str, str]] = {}
    for f in functions:
        entry = merged.get(f["name"])
        if entry is None:
            merged[f["name"]] = dict(f)
        elif f["signature"] not in entry["signature"].split(" | "):
            entry["signature"] += " | " + f["signature"]
    return list(merged.values())


def wire_tree(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (from ``completion_data``) as sent to the browser: each type's pointers as arrays
    ``[name, kind, target, card]`` (plus ``[[name, target], ...]`` for link properties) whose
    kind, target and card are indexes into one ``strings`` list, each string once. Pointers
    are nearly all of a large schema's tree (2000 types x 30 properties: 4.7 of 4.9 MB as
    objects with keys). complete.js's ``expandTree`` gives back ``data`` exactly."""
    strings: dict[str, int] = {}

    def ref(text: str) -> int:
        return strings.setdefault(text, len(strings))

    objects: dict[str, list[list[Any]]] = {}
    for type_name, pointers in data.get("objects", {}).items():
        rows: list[list[Any]] = []
        for pointer in pointers:
            row: list[Any] = [pointer["name"], ref(pointer["kind"]), ref(pointer["target"]),
                              ref(pointer["card"])]
            if "link_props" in pointer:
                row.append([[lp["name"], ref(lp["target"])] for lp in pointer["link_props"]])
            rows.append(row)
        objects[type_name] = rows
    if "objects" not in data:
        return dict(data)
    return {**data, "objects": objects, "strings": list(strings)}
