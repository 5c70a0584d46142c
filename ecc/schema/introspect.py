"""Reading the connected branch's schema from ``schema::`` introspection into a ``SchemaModel``.

One query per part (modules, object types, scalar types, ...) on the session's client, at
most ``MAX_CONCURRENT_PARTS`` at a time: the driver's pool opens a connection per concurrent
query, and a page load must not open nine (object types, the largest part, go right after the
tiny modules part, so the read costs about their round trip plus the rest beside it). The
process shares one model per server branch (``ecc.schema.store``); ``SCHEMA_PROBE_QUERY``
tells cheaply when it changed.

Each part stands alone: a part the role may not read (any server error)
becomes a ``SchemaProblem`` and the other parts still show. A client-side failure (no
connection, closed client) is the whole read's failure and is raised.

The queries are the ones a real 5.8 server answered (``../shared/gel-transcripts/``), extended
with fields the ``schema`` module has had since 1.0 (pointer annotations, ``subjectexpr``,
type-level constraints, base order). Should a server reject a field of an extended query, the
part is read again with the basic query (``BASIC_QUERIES``). Triggers and rewrites are asked in
a part of their own that is skipped silently where the server does not know them.

The builders read the driver's objects (``gel.Object``, ``gel.EnumValue``, lists) defensively:
a missing field reads as empty, so an older or newer server's answer still builds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import gel.errors

from ecc.driver.client import QueryExecutor
from ecc.schema.model import (
    Alias,
    Annotation,
    Cardinality,
    Constraint,
    Function,
    FunctionParam,
    Global,
    LinkProperty,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
    SchemaProblem,
    module_of,
)

MODULES_QUERY = "select schema::Module {name, builtin} order by .name"

OBJECT_TYPES_QUERY = """\
with module schema
select ObjectType {
  name, abstract, builtin, internal,
  bases: {name} order by @index, ancestors: {name} order by @index,
  annotations: {name, @value},
  pointers: {
    name, cardinality, required, readonly, expr, default,
    target: {name},
    constraints: {name, subjectexpr, params: {name, @value}},
    annotations: {name, @value},
    [is Link].properties: {name, target: {name}},
    __type__: {name},
  } order by .name,
  constraints: {name, subjectexpr, params: {name, @value}},
  indexes: {expr},
  access_policies: {name},
} filter not .builtin and not .from_alias and not .compound_type order by .name"""

SCALAR_TYPES_QUERY = """\
with module schema
select ScalarType {
  name, enum_values,
  bases: {name} order by @index,
  constraints: {name, subjectexpr, params: {name, @value}},
  annotations: {name, @value},
} filter not .builtin order by .name"""

FUNCTIONS_QUERY = """\
with module schema
select Function {
  name,
  params: {name, kind, type: {name}, typemod, default} order by .num,
  return_type: {name}, return_typemod,
  annotations: {name, @value},
} filter not .builtin order by .name"""

ALIASES_QUERY = """\
with module schema
select Alias {name, expr, type: {name}} filter not .builtin order by .name"""

# ``Global`` is a reserved keyword (5.8 answers ``select Global`` with "Missing keyword
# 'TYPE'"): the type is named in full, as in the form a 5.8 server answered
# (``select schema::Global {name, target: {name}, required, cardinality, default}``).
GLOBALS_QUERY = """\
select schema::Global {name, target: {name}, required, cardinality, default, expr}
filter not .builtin order by .name"""

EXTENSIONS_QUERY = "select schema::Extension {name} order by .name"

BUILTIN_FUNCTION_NAMES_QUERY = "select distinct (select schema::Function filter .builtin).name"

# What changes on every schema change: on EdgeDB 5.8 each DDL statement run outside a
# migration adds a schema::Migration object, and every applied migration is one (count went
# 8 -> 9 -> 10 across `create type` / `drop type`). Ids, not names: names are content hashes,
# and a reset schema re-applying the same migrations makes new objects with new ids. Never
# met a real server in this exact form (see the notes of issue 18).
SCHEMA_PROBE_QUERY = "select schema::Migration.id"

# Concurrent introspection queries per read: each is a pooled connection at page load.
MAX_CONCURRENT_PARTS = 2

TRIGGERS_QUERY = """\
with module schema
select ObjectType {
  name,
  triggers: {name},
  pointers: {name, rewrites: {kind}} filter exists .rewrites,
} filter not .builtin and (exists .triggers or exists .pointers.rewrites) order by .name"""

# The queries a real 5.8 server answered (../shared/gel-transcripts/): the fallback where a
# server rejects a field the full query adds.
BASIC_OBJECT_TYPES_QUERY = """\
with module schema
select ObjectType {
  name, abstract, builtin, internal,
  bases: {name}, ancestors: {name},
  annotations: {name, @value},
  pointers: {
    name, cardinality, required, readonly, expr, default,
    target: {name},
    constraints: {name, params: {name, @value}},
    [is Link].properties: {name, target: {name}},
    __type__: {name},
  } order by .name,
  indexes: {expr},
  access_policies: {name},
} filter not .builtin order by .name"""

BASIC_SCALAR_TYPES_QUERY = """\
with module schema
select ScalarType {name, enum_values, bases: {name}, constraints: {name}}
filter not .builtin order by .name"""

BASIC_FUNCTIONS_QUERY = """\
with module schema
select Function {name, params: {name, kind, type: {name}, typemod, default}, \
return_type: {name}, return_typemod}
filter not .builtin order by .name"""

BASIC_QUERIES = {
    "object types": BASIC_OBJECT_TYPES_QUERY,
    "scalar types": BASIC_SCALAR_TYPES_QUERY,
    "functions": BASIC_FUNCTIONS_QUERY,
}

log = logging.getLogger("ecc.schema.introspect")

# part name -> query; the order is the order problems are listed in.
PARTS: dict[str, str] = {
    "modules": MODULES_QUERY,
    "object types": OBJECT_TYPES_QUERY,
    "scalar types": SCALAR_TYPES_QUERY,
    "functions": FUNCTIONS_QUERY,
    "aliases": ALIASES_QUERY,
    "globals": GLOBALS_QUERY,
    "extensions": EXTENSIONS_QUERY,
    "builtin function names": BUILTIN_FUNCTION_NAMES_QUERY,
    "triggers and rewrites": TRIGGERS_QUERY,
}


def _builtin_variant(query: str) -> str:
    if query.count("filter not .builtin") != 1:
        raise ValueError(f"no single user-items filter to turn around in {query!r}")
    return query.replace("filter not .builtin", "filter .builtin")


# The standard library's types and functions: read only when the explorer's "Standard modules"
# is turned on (a few hundred functions), then merged into the model (``with_standard``).
STANDARD_PARTS: dict[str, str] = {
    f"standard {part}": _builtin_variant(PARTS[part])
    for part in ("object types", "scalar types", "functions")
}
BASIC_QUERIES.update({f"standard {part}": _builtin_variant(BASIC_QUERIES[part])
                      for part in ("object types", "scalar types", "functions")})

_ALL_QUERIES = frozenset(q.strip() for q in (*PARTS.values(), *STANDARD_PARTS.values(),
                                             *BASIC_QUERIES.values(), SCHEMA_PROBE_QUERY))


def is_introspection_query(query: str) -> bool:
    """One of the queries this module sends (any variant): the page's own schema reads."""
    return query.strip() in _ALL_QUERIES


# Parts a server may not have at all: "does not exist" there is an absence, not a problem.
OPTIONAL_PARTS = frozenset({"triggers and rewrites"})

# Pointers every object has; the explorer lists what the schema's author declared.
IMPLICIT_POINTERS = frozenset({"__type__"})
# Link properties every link has.
IMPLICIT_LINK_PROPERTIES = frozenset({"source", "target"})


@dataclass(frozen=True)
class PartResult:
    part: str
    rows: list[Any] | None  # None when the part failed or was skipped
    seconds: float
    problem: SchemaProblem | None = None


async def probe_schema(client: QueryExecutor) -> str:
    """A token that changes whenever the branch's schema changes (``SCHEMA_PROBE_QUERY``):
    a digest of the migration ids (sorted: the server's order means nothing)."""
    ids = sorted(str(i) for i in await client.query(SCHEMA_PROBE_QUERY))
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    return f"{len(ids)}:{digest}"


async def read_schema(client: QueryExecutor) -> SchemaModel:
    """Every part on ``client`` (``MAX_CONCURRENT_PARTS`` at a time); timed; each unreadable
    part becomes a problem."""
    started = time.perf_counter()
    results = await _read_parts(client, PARTS)
    return build_model({r.part: r.rows for r in results},
                       problems=[r.problem for r in results if r.problem is not None],
                       read_s=time.perf_counter() - started,
                       part_s=[(r.part, r.seconds) for r in results])


async def read_standard(client: QueryExecutor, model: SchemaModel) -> SchemaModel:
    """``model`` with the standard library's object types, scalar types and functions."""
    started = time.perf_counter()
    results = await _read_parts(client, STANDARD_PARTS)
    rows = {r.part: r.rows for r in results}
    return with_standard(
        model,
        object_types=build_object_types(rows.get("standard object types") or []),
        scalar_types=build_scalar_types(rows.get("standard scalar types") or []),
        functions=build_functions(rows.get("standard functions") or []),
        problems=[r.problem for r in results if r.problem is not None],
        read_s=time.perf_counter() - started,
    )


def with_standard(model: SchemaModel, *, object_types: Iterable[ObjectType] = (),
                  scalar_types: Iterable[ScalarType] = (), functions: Iterable[Function] = (),
                  problems: Iterable[SchemaProblem] = (), read_s: float = 0.0) -> SchemaModel:
    """The model with standard items added after the user ones (a name already there wins:
    ``cfg`` types are read with the user parts, as the server reports them not builtin)."""
    have = {t.name for t in model.object_types}
    return replace(
        model,
        object_types=model.object_types + tuple(t for t in object_types if t.name not in have),
        scalar_types=model.scalar_types + tuple(scalar_types),
        functions=model.functions + tuple(functions),
        problems=model.problems + tuple(problems),
        standard_read=True,
        standard_read_s=read_s,
    )


async def _read_parts(client: QueryExecutor, parts: Mapping[str, str]) -> list[PartResult]:
    # Bounded: every concurrent query holds its own pooled connection. The list keeps the
    # parts' order (problems are listed in it); the semaphore admits them in that order,
    # object types (the largest) second, right after the tiny modules part.
    gate = asyncio.Semaphore(MAX_CONCURRENT_PARTS)

    async def gated(part: str, query: str) -> PartResult:
        async with gate:
            return await _read_part(client, part, query)

    tasks = [asyncio.ensure_future(gated(part, query)) for part, query in parts.items()]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _read_part(client: QueryExecutor, part: str, query: str) -> PartResult:
    started = time.perf_counter()
    try:
        try:
            rows = await client.query(query)
        except gel.errors.QueryError as exc:
            basic = BASIC_QUERIES.get(part)
            if basic is None or not _schema_mismatch(exc):
                raise
            # This server's schema:: lacks a field the full query asks for: the basic query
            # (the one a 5.8 server answered) still gives the part, with fewer details.
            log.info("schema part %r: %s; reading it with the basic query", part,
                     problem_message(exc))
            rows = await client.query(basic)
    except gel.errors.ClientError:
        raise  # no connection / closed client: the whole read failed, not this part
    except gel.errors.EdgeDBError as exc:
        elapsed = time.perf_counter() - started
        if part in OPTIONAL_PARTS and isinstance(exc, gel.errors.InvalidReferenceError):
            return PartResult(part, None, elapsed)
        return PartResult(part, None, elapsed, SchemaProblem(part, problem_message(exc)))
    return PartResult(part, list(rows), time.perf_counter() - started)


def _schema_mismatch(exc: gel.errors.QueryError) -> bool:
    """The query named something this server's schema:: does not have (not a timeout)."""
    return isinstance(exc, gel.errors.InvalidReferenceError | gel.errors.InvalidSyntaxError |
                      gel.errors.InvalidTypeError)


def problem_message(exc: BaseException) -> str:
    """The error's class and plain message (``args[0]``: no caret excerpt, no server context)."""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return f"{type(exc).__name__}: {message}"


# --- builders: driver values -> model ---------------------------------------------------------


def build_model(
    parts: Mapping[str, list[Any] | None],
    *,
    problems: Iterable[SchemaProblem] = (),
    read_s: float = 0.0,
    part_s: Iterable[tuple[str, float]] = (),
) -> SchemaModel:
    """The model from each part's rows (``None``: not read). Pure: no I/O."""
    module_rows = parts.get("modules") or []
    modules = tuple(str(_get(m, "name", "")) for m in module_rows)
    builtin_modules = tuple(str(_get(m, "name", "")) for m in module_rows
                            if _get(m, "builtin", False))
    extras = build_triggers_and_rewrites(parts.get("triggers and rewrites") or [])
    object_types = tuple(
        _with_extras(t, extras) for t in build_object_types(parts.get("object types") or [])
    )
    scalar_types = build_scalar_types(parts.get("scalar types") or [])
    functions = build_functions(parts.get("functions") or [])
    aliases = build_aliases(parts.get("aliases") or [])
    globals_ = build_globals(parts.get("globals") or [])
    if parts.get("modules") is None:
        # Modules unreadable: the other parts' names still say which modules exist.
        named = [item.name for group in (object_types, scalar_types, functions, aliases,
                                          globals_) for item in group]
        modules = tuple(sorted({module_of(name) for name in named}))
    return SchemaModel(
        modules=modules,
        object_types=object_types,
        scalar_types=scalar_types,
        functions=functions,
        aliases=aliases,
        globals=globals_,
        extensions=tuple(str(_get(e, "name", "")) for e in parts.get("extensions") or []),
        builtin_function_names=tuple(sorted({str(n) for n in
                                             parts.get("builtin function names") or []})),
        problems=tuple(problems),
        read_s=read_s,
        builtin_modules=builtin_modules,
        part_s=tuple(part_s),
    )


def _with_extras(t: ObjectType, extras: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
                 ) -> ObjectType:
    found = extras.get(t.name)
    if found is None:
        return t
    return replace(t, triggers=found[0], rewrites=found[1])


def build_object_types(rows: Iterable[Any]) -> tuple[ObjectType, ...]:
    return tuple(build_object_type(row) for row in rows)


def build_object_type(row: Any) -> ObjectType:
    return ObjectType(
        name=str(_get(row, "name", "")),
        abstract=bool(_get(row, "abstract", False)),
        bases=_names(_get(row, "bases")),
        ancestors=_names(_get(row, "ancestors")),
        pointers=tuple(build_pointer(p) for p in _list(_get(row, "pointers"))
                       if _get(p, "name") not in IMPLICIT_POINTERS),
        annotations=build_annotations(_get(row, "annotations")),
        indexes=tuple(str(_get(i, "expr", "")) for i in _list(_get(row, "indexes"))),
        access_policies=_names(_get(row, "access_policies")),
        constraints=build_constraints(_get(row, "constraints")),
    )


def build_pointer(row: Any) -> Pointer:
    # The hot path of a large schema (one call per pointer): plain getattr, no helpers.
    get = getattr
    kind = get(get(row, "__type__", None), "name", None)
    is_link = kind == "schema::Link"
    link_props = tuple(
        LinkProperty(str(_get(p, "name", "")), _target_name(p))
        for p in _list(get(row, "properties", None))
        if _get(p, "name") not in IMPLICIT_LINK_PROPERTIES
    ) if is_link else ()
    expr = get(row, "expr", None)
    default = get(row, "default", None)
    constraints = get(row, "constraints", None)
    annotations = get(row, "annotations", None)
    return Pointer(
        str(get(row, "name", "")),
        "link" if is_link else "property",
        str(get(get(row, "target", None), "name", None) or ""),
        _cardinality(get(row, "cardinality", None)),
        bool(get(row, "required", False)),
        bool(get(row, "readonly", False)),
        None if expr is None else str(expr),
        None if default is None else str(default),
        build_constraints(constraints) if constraints else (),
        link_props,
        build_annotations(annotations) if annotations else (),
    )


def build_constraints(rows: Any) -> tuple[Constraint, ...]:
    if not rows:
        return ()
    out = []
    for row in _list(rows):
        params = tuple(
            (str(_get(p, "name", "")), str(_link_property(p, "value") or ""))
            for p in _list(_get(row, "params"))
            # __subject__ is the constrained value itself, not an argument
            if _get(p, "name") != "__subject__"
        )
        out.append(Constraint(str(_get(row, "name", "")), params,
                              _optional_str(_get(row, "subjectexpr"))))
    return tuple(out)


def build_annotations(rows: Any) -> tuple[Annotation, ...]:
    if not rows:
        return ()
    return tuple(Annotation(str(_get(r, "name", "")), str(_link_property(r, "value") or ""))
                 for r in _list(rows))


def build_scalar_types(rows: Iterable[Any]) -> tuple[ScalarType, ...]:
    return tuple(
        ScalarType(
            name=str(_get(row, "name", "")),
            bases=_names(_get(row, "bases")),
            enum_values=tuple(str(v) for v in _list(_get(row, "enum_values"))),
            constraints=build_constraints(_get(row, "constraints")),
            annotations=build_annotations(_get(row, "annotations")),
        )
        for row in rows
    )


def build_functions(rows: Iterable[Any]) -> tuple[Function, ...]:
    return tuple(
        Function(
            name=str(_get(row, "name", "")),
            params=tuple(
                FunctionParam(
                    name=str(_get(p, "name", "")),
                    type=_name_of(_get(p, "type")),
                    kind=_label(_get(p, "kind"), "PositionalParam"),
                    typemod=_label(_get(p, "typemod"), "SingletonType"),
                    default=_optional_str(_get(p, "default")),
                )
                for p in _list(_get(row, "params"))
            ),
            return_type=_name_of(_get(row, "return_type")),
            return_typemod=_label(_get(row, "return_typemod"), "SingletonType"),
            annotations=build_annotations(_get(row, "annotations")),
        )
        for row in rows
    )


def build_aliases(rows: Iterable[Any]) -> tuple[Alias, ...]:
    return tuple(Alias(str(_get(r, "name", "")), str(_get(r, "expr", "") or ""),
                       _name_of(_get(r, "type"))) for r in rows)


def build_globals(rows: Iterable[Any]) -> tuple[Global, ...]:
    return tuple(
        Global(
            name=str(_get(r, "name", "")),
            target=_target_name(r),
            required=bool(_get(r, "required", False)),
            cardinality=_cardinality(_get(r, "cardinality")),
            default=_optional_str(_get(r, "default")),
            computed=_optional_str(_get(r, "expr")),
        )
        for r in rows
    )


def build_triggers_and_rewrites(rows: Iterable[Any]
                                ) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """type name -> (trigger names, "pointer: kind" rewrites)."""
    out = {}
    for row in rows:
        rewrites = tuple(
            f"{_get(p, 'name', '')}: {_label(_get(r, 'kind'), '?').lower()}"
            for p in _list(_get(row, "pointers")) for r in _list(_get(p, "rewrites"))
        )
        out[str(_get(row, "name", ""))] = (_names(_get(row, "triggers")), rewrites)
    return out


# --- reading driver values defensively -------------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    # gel.Object raises AttributeError for a field the query did not ask for
    value = getattr(obj, name, None)
    return default if value is None else value


def _link_property(obj: Any, name: str) -> Any:
    try:
        return obj["@" + name]
    except (KeyError, TypeError, IndexError, AttributeError):
        return None


def _list(value: Any) -> list[Any] | tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):  # a tuple of types: no union object per call
        return value
    return [value]


def _names(rows: Any) -> tuple[str, ...]:
    return tuple(str(_get(r, "name", "")) for r in _list(rows))


def _name_of(obj: Any) -> str:
    return str(_get(obj, "name", ""))


def _target_name(row: Any) -> str:
    return _name_of(_get(row, "target"))


def _label(value: Any, default: str) -> str:
    if value is None:
        return default
    return str(getattr(value, "value", value))


def _cardinality(value: Any) -> Cardinality:
    return "multi" if value is not None and getattr(value, "value", value) == "Many" \
        else "single"


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["PARTS", "SCHEMA_PROBE_QUERY", "STANDARD_PARTS", "build_model", "probe_schema",
           "read_schema", "read_standard"]
